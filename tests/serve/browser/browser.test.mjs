// Browser tests of planctl serve: Debian's Chromium (headless) through
// playwright-core. Each page is opened as a person would, checked, and
// screenshotted into $SERVE_ARTIFACTS (update-images.sh copies them into
// docs/images/serve for the README).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { XSS, makeStore, planctl, planctlJson, startServer } from '../harness.mjs';

const artifacts = process.env.SERVE_ARTIFACTS || join(process.cwd(), 'test-artifacts');
let store;
let server;
let browser;
let page;
const dialogs = [];
const consoleErrors = [];

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  store = makeStore();
  server = await startServer(store.db);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  // An alert() would mean injected script ran; a console error, e.g. a CSP
  // violation, means the page is not what it should be.
  page.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  const exit = await server?.stop();
  store?.cleanup();
  assert.equal(exit?.code, 0, server?.stderr());
});

const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

test('the sessions list shows the counts, filters and sorts', async () => {
  await page.goto(`${server.url}/sessions`);
  assert.equal(await page.locator('.count.total b').textContent(), '4');
  assert.equal(await page.locator('.count.paused b').textContent(), '1');
  assert.equal(await page.locator('table.sessions tbody tr').count(), 4);
  await shot('sessions');
  await page.fill('input[name="title-contains"]', 'roadmap');
  await page.click('form.filters button[type="submit"]');
  await page.waitForURL(/title-contains=roadmap/);
  const rows = page.locator('table.sessions tbody tr');
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().locator('td').first().textContent(), 'Roadmap 2027');
  await page.goto(`${server.url}/sessions`);
  await page.check('input[name="status"][value="paused"]');
  await page.click('form.filters button[type="submit"]');
  await page.waitForURL(/status=paused/);
  assert.equal(await page.locator('table.sessions tbody tr td a').first().textContent(), 'Storage audit');
  await page.goto(`${server.url}/sessions`);
  await page.click('th a:has-text("Title")');
  const titles = await page.locator('table.sessions tbody tr td:first-child').allTextContents();
  assert.deepEqual(titles, [...titles].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
});

test('a session page renders its markdown and its version timeline', async () => {
  await page.goto(`${server.url}/sessions`);
  await page.click('a:has-text("Roadmap 2027")');
  await page.waitForURL(new RegExp(`/sessions/${store.roadmap}$`));
  assert.equal(await page.locator('h1.title').textContent(), 'Roadmap 2027');
  assert.equal(await page.locator('article.markdown h1').textContent(), 'Roadmap 2027');
  assert.equal(await page.locator('article.markdown li').count(), 3);
  assert.equal(await page.locator('ol.timeline li').count(), 3);
  await shot('session');
});

test('a diff between two versions highlights the changed lines', async () => {
  await page.goto(`${server.url}/sessions/${store.roadmap}`);
  await page.fill('form.compare input[name="a"]', '1');
  await page.fill('form.compare input[name="b"]', '3');
  await page.click('form.compare button');
  await page.waitForURL(/diff\?a=1&b=3/);
  const removed = await page.locator('table.diff.split td.code.del').allTextContents();
  const added = await page.locator('table.diff.split td.code.add').allTextContents();
  assert.deepEqual(removed, ['# Roadmap', '- ship the console']);
  assert.deepEqual(added, ['# Roadmap 2027', '- ship the web console', '- measure it']);
  const background = await page.locator('table.diff td.code.add').first()
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(background, 'rgba(0, 0, 0, 0)', 'added lines are highlighted');
  await shot('diff');
  await page.click('nav.tabs a:has-text("unified")');
  await page.waitForURL(/layout=unified/);
  assert.deepEqual(await page.locator('table.diff.unified tr.add td.code').allTextContents(),
    ['+# Roadmap 2027', '+- ship the web console', '+- measure it']);
  assert.equal(await page.locator('table.diff.unified tr.del').count(), 2);
  await shot('diff-unified');
});

test('any version is shown rendered and raw', async () => {
  await page.goto(`${server.url}/sessions/${store.roadmap}/versions/1`);
  assert.equal(await page.locator('article.markdown h1').textContent(), 'Roadmap');
  await page.click('nav.tabs a:has-text("raw")');
  await page.waitForURL(/view=raw/);
  assert.match(await page.locator('pre.raw').textContent(), /^# Roadmap\n\n- ship the console/);
  await shot('version');
});

test('hostile titles, metadata, markdown and actors render as text', async () => {
  await page.goto(`${server.url}/sessions/${store.hostile}`);
  assert.equal(await page.locator('h1.title').textContent(), XSS);
  assert.match(await page.locator('pre.metadata').textContent(), /<script>alert\(1\)<\/script>/);
  assert.equal(await page.locator('article.markdown pre code').first().textContent(), `${XSS}\n`);
  assert.equal(await page.locator('article.markdown img').count(), 0);
  assert.equal(await page.locator('script:not([src])').count(), 0);
  await shot('xss');
  await page.goto(`${server.url}/sessions`);
  assert.ok((await page.locator('table.sessions').textContent()).includes(XSS));
  await page.goto(`${server.url}/audit?session=${store.hostile}`);
  assert.ok((await page.locator('table.events').textContent()).includes(XSS));
  assert.deepEqual(dialogs, [], 'no injected script ran');
});

test('the live tail shows events committed by another process, with pause and resume', async () => {
  await page.goto(`${server.url}/audit`);
  await shot('audit');
  await page.click('#live-toggle');
  await page.waitForSelector('#live-state.on');
  const session = planctlJson(store.db, ['create', '--title', 'Live one', '--by', 'frank']).id;
  const row = page.locator(`#live-rows tr:has(a[href="/sessions/${session}"])`);
  await row.first().waitFor({ timeout: 10000 });
  assert.equal(await row.first().locator('td.type').textContent(), 'session_created');
  assert.equal(await row.first().locator('td').nth(4).textContent(), 'frank');

  await page.click('#live-toggle'); // pause
  assert.match(await page.locator('#live-state').textContent(), /paused/);
  planctl(store.db, ['update', session, '--title', 'Live two', '--by', 'grace']);
  await page.waitForTimeout(1000);
  assert.equal(await row.count(), 1, 'a paused tail shows nothing new');
  await page.click('#live-toggle'); // resume: the event committed meanwhile arrives
  await page.locator(`#live-rows tr:has(td.type:text("session_updated"))`).first().waitFor({ timeout: 10000 });
  assert.equal(await row.count(), 2);
  await shot('audit-live');
});

test('the info page shows checkpoints and lag, and runs verify', async () => {
  await page.goto(`${server.url}/info`);
  const lags = await page.locator('table.projections tbody td:last-child').allTextContents();
  assert.ok(lags.length > 0);
  assert.ok(lags.every((lag) => lag === '0'), `lags ${lags}`);
  await page.click('#run-verify');
  await page.waitForURL(/verify=1/);
  assert.match(await page.locator('#verify-result').textContent(), /^OK: /);
  await shot('info');
  assert.deepEqual(consoleErrors, []);
});
