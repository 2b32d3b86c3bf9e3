// HTTP-level tests of `planctl serve` (no browser): status codes, escaping,
// the token, request limits, traversal, the /api/ routes against
// `planctl --json`, the live tail (SSE) and that serving never writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { PLANCTL, XSS, makeStore, planctl, planctlJson, startServer } from './harness.mjs';

const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;';
let store;
let server;

const digest = (db) => createHash('sha256').update(readFileSync(join(db, 'data.mdb'))).digest('hex');

before(async () => {
  store = makeStore();
  server = await startServer(store.db);
});

after(async () => {
  // A clean exit on SIGTERM (under the sanitizers: no leak, no error report).
  const exit = await server?.stop();
  store?.cleanup();
  assert.equal(exit?.code, 0, server?.stderr());
});

// A raw HTTP/1.1 exchange (fetch would normalise paths and limit headers),
// resolved once the whole response (per Content-Length) or the connection's end
// arrived. The socket is not half-closed: httplib does not answer a client that
// has shut down its side.
function raw(url, request) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let data = '';
    const done = () => {
      socket.destroy();
      resolve({ status: Number(data.split(' ')[1]), text: data });
    };
    socket.on('data', (d) => {
      data += d;
      const head = data.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, head));
      if (head >= 0 && length && Buffer.byteLength(data.slice(head + 4)) >= Number(length[1])) done();
    });
    socket.on('end', done);
    socket.on('error', (e) => (data ? done() : reject(e)));
  });
}

const get = (path, init) => fetch(server.url + path, init);

test('pages answer 200 and every hostile field is escaped', async () => {
  const paths = ['/', '/sessions', `/sessions/${store.hostile}`, `/sessions/${store.hostile}/versions/1`,
    `/sessions/${store.hostile}/versions/1?view=raw`, '/audit', `/audit?session=${store.hostile}`, '/info'];
  for (const path of paths) {
    const response = await get(path);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type'), /text\/html/);
    assert.match(response.headers.get('content-security-policy'), /script-src 'self'/);
    const html = await response.text();
    assert.ok(!html.includes(XSS), `${path} contains the raw script tag`);
    assert.ok(!/<img[^>]*onerror/i.test(html), `${path} contains a live onerror`);
    assert.ok(!/<b onclick/i.test(html), `${path} contains a live onclick`);
    assert.ok(!html.includes('href="javascript:'), `${path} contains a javascript: link`);
  }
  const session = await (await get(`/sessions/${store.hostile}`)).text();
  assert.ok(session.includes(`<h1 class="title">${ESCAPED}</h1>`));
  assert.ok(session.includes('&quot;note&quot;: &quot;' + ESCAPED + '&quot;'), 'metadata escaped');
  assert.ok(session.includes(`by ${ESCAPED}`), 'actor escaped');
  const audit = await (await get(`/audit?session=${store.hostile}`)).text();
  assert.ok(audit.includes(`<td>${ESCAPED}</td>`), 'actor escaped in the log');
});

test('markdown is rendered by cmark and raw HTML in it is shown as text', async () => {
  const html = await (await get(`/sessions/${store.roadmap}`)).text();
  assert.match(html, /<article class="markdown"><h1>Roadmap 2027<\/h1>/);
  assert.match(html, /<li>ship the web console<\/li>/);
  const hostile = await (await get(`/sessions/${store.hostile}`)).text();
  assert.ok(hostile.includes(`<pre><code>${ESCAPED}\n</code></pre>`), 'an HTML block becomes a code block');
  assert.ok(hostile.includes('&lt;b onclick=&quot;alert(1)&quot;&gt;bold&lt;/b&gt;'), 'inline HTML becomes text');
  assert.ok(hostile.includes('<a href="">link</a>'), 'a javascript: URL is dropped');
});

test('unknown routes, unknown ids and path traversal are 404', async () => {
  for (const path of ['/nope', '/static/nope.js', '/static/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
    '/sessions/..%2f..%2fetc%2fpasswd', '/sessions/no-such-id', '/sessions/no-such-id/versions/1',
    '/sessions/a/b/c', '/static/..%2fstyle.css']) {
    const response = await raw(server.url, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.equal(response.status, 404, path);
    assert.ok(!response.text.includes('root:'), path);
  }
  const api = await get('/api/sessions/no-such-id');
  assert.equal(api.status, 404);
  assert.equal((await api.json()).error.code, 'not_found');
  assert.equal((await get('/api/no/such/route')).status, 404);
});

test('bad parameters are 400 with the CLI message; writes are 405', async () => {
  const bad = await get('/api/sessions?order-by=bogus');
  assert.equal(bad.status, 400);
  const cli = spawnSync(PLANCTL, ['--db', store.db, '--json', 'list', '--order-by', 'bogus'], { encoding: 'utf8' });
  assert.equal((await bad.json()).error.code, JSON.parse(cli.stderr).error.code);
  assert.equal((await get('/sessions?created-after=yesterday')).status, 400);
  assert.equal((await get(`/sessions/${store.roadmap}/versions/99`)).status, 404);
  assert.equal((await get(`/sessions/${store.roadmap}/diff?a=1`)).status, 400);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const response = await get('/sessions', { method });
    assert.equal(response.status, 405, method);
  }
});

test('request sizes and header counts are bounded', async () => {
  // No body is read: any method but GET / HEAD is refused before its body.
  const body = 'x'.repeat(64 * 1024);
  for (const method of ['POST', 'PUT']) {
    const big = await raw(server.url, `${method} /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.equal(big.status, 405, method);
  }
  let headers = '';
  for (let i = 0; i < 100; i++) headers += `X-Filler-${i}: ${i}\r\n`;
  const many = await raw(server.url, `GET /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`);
  assert.equal(many.status, 431);
  let wide = '';
  for (let i = 0; i < 8; i++) wide += `X-Wide-${i}: ${'w'.repeat(4000)}\r\n`;
  const large = await raw(server.url, `GET /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n${wide}Connection: close\r\n\r\n`);
  assert.equal(large.status, 431);
  const line = await raw(server.url, `GET /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: ${'l'.repeat(10000)}\r\nConnection: close\r\n\r\n`);
  assert.ok([400, 431].includes(line.status), `a 10 kB header line answered ${line.status}`);
  const uri = await raw(server.url, `GET /sessions?title-contains=${'u'.repeat(9000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  assert.equal(uri.status, 414);
});

test('without a token only loopback Host names are answered', async () => {
  const evil = await raw(server.url, 'GET /sessions HTTP/1.1\r\nHost: attacker.example:8080\r\nConnection: close\r\n\r\n');
  assert.equal(evil.status, 403);
  const local = await raw(server.url, 'GET /sessions HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n');
  assert.equal(local.status, 200);
});

test('/api/ answers what planctl --json prints', async () => {
  const pairs = [
    ['/api/sessions', ['list']],
    ['/api/sessions?status=active&status=paused&order-by=title&desc=1', ['list', '--status', 'active', '--status', 'paused', '--order-by', 'title', '--desc']],
    ['/api/sessions?title-contains=road&limit=1&offset=0', ['list', '--title-contains', 'road', '--limit', '1', '--offset', '0']],
    [`/api/sessions?repo-path=${encodeURIComponent('/src/app')}&has-content=1`, ['list', '--repo-path', '/src/app', '--has-content']],
    [`/api/sessions/${store.roadmap}`, ['show', store.roadmap]],
    [`/api/sessions/${store.roadmap}/versions`, ['history', store.roadmap]],
    [`/api/sessions/${store.roadmap}/versions/2`, ['show', store.roadmap, '--version', '2']],
    [`/api/sessions/${store.roadmap}/diff?a=1&b=3`, ['diff', store.roadmap, '1', '3']],
    ['/api/sessions?created-after=2000-01-01&updated-before=2200-01-01T00:00Z&order-by=updated_at', ['list', '--created-after', '2000-01-01', '--updated-before', '2200-01-01T00:00Z', '--order-by', 'updated_at']],
    ['/api/stats', ['stats']],
    ['/api/events', ['log']],
    [`/api/events?session=${store.roadmap}&type=session_updated&limit=5`, ['log', '--session', store.roadmap, '--type', 'session_updated', '--limit', '5']],
    ['/api/events?from=2&to=4', ['log', '--from', '2', '--to', '4']],
    ['/api/events?since=2000-01-01&type=paused&type=created', ['log', '--since', '2000-01-01', '--type', 'paused', '--type', 'created']],
    ['/api/verify', ['verify']],
  ];
  for (const [path, args] of pairs) {
    const response = await get(path);
    assert.equal(response.status, 200, path);
    assert.equal(await response.text(), planctl(store.db, ['--json', ...args]), path);
  }
  const info = await (await get('/api/info')).json();
  const cli = planctlJson(store.db, ['info']);
  assert.equal(info.head_sequence, cli.head_sequence);
  assert.deepEqual(info.projections, cli.projections);
});

// Reads SSE text from a raw socket until `done(text)` holds.
function sse(path, done, timeoutMs = 15000) {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(Number(port), hostname, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no event in time: ${text}`)); }, timeoutMs);
    socket.on('data', (d) => {
      text += d;
      if (done(text)) { clearTimeout(timer); socket.destroy(); resolve(text); }
    });
    socket.on('error', reject);
  });
}

test('the live tail delivers an event committed by another process', async () => {
  const head = planctlJson(store.db, ['info']).head_sequence;
  const received = sse(`/audit/stream?after=${head}`, (t) => t.includes('"type":"session_paused"'));
  await new Promise((r) => setTimeout(r, 300));
  const session = planctlJson(store.db, ['create', '--title', 'Tail me', '--by', 'erin']);
  planctl(store.db, ['pause', session.id, '--by', 'erin']);
  const text = await received;
  assert.match(text, /Content-Type: text\/event-stream/i);
  assert.ok(text.includes(`id: ${head + 1}\nevent: event\ndata: {`), text);
  assert.ok(text.includes(`"session_id":"${session.id}"`));
  // Filtered to one session: the other session's events are not sent.
  const other = planctlJson(store.db, ['create', '--title', 'Other', '--by', 'erin']).id;
  const after = planctlJson(store.db, ['info']).head_sequence;
  const filtered = sse(`/audit/stream?after=${after}&session=${session.id}`, (t) => t.includes('session_resumed'));
  await new Promise((r) => setTimeout(r, 300));
  planctl(store.db, ['update', other, '--title', 'Other 2']);
  planctl(store.db, ['resume', session.id]);
  const only = await filtered;
  assert.ok(!only.includes(other), 'an event of another session came through the filter');
});

test('a stalled live-tail client blocks neither writers nor other clients', async () => {
  const { hostname, port } = new URL(server.url);
  const stalled = [];
  for (let i = 0; i < 3; i++) {
    const socket = net.connect(Number(port), hostname, () =>
      socket.write('GET /audit/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    socket.pause(); // never reads: the server's writes back up
    stalled.push(socket);
  }
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  const big = 'line of content that is long enough to fill socket buffers quickly\n'.repeat(2000);
  const id = planctlJson(store.db, ['create', '--title', 'Big writer', '--content', '-'], big).id;
  for (let i = 0; i < 20; i++) planctl(store.db, ['update', id, '--content', '-'], `${big}${i}\n`);
  const writing = Date.now() - started;
  assert.ok(writing < 30000, `20 writes took ${writing} ms`);
  const t0 = Date.now();
  const page = await get('/sessions');
  assert.equal(page.status, 200);
  assert.ok(Date.now() - t0 < 3000, 'another client waited for the stalled ones');
  for (const socket of stalled) socket.destroy();
});

test('more live tails than the budget are refused with 503', async () => {
  const { hostname, port } = new URL(server.url);
  // Tails of earlier tests (their clients gone) free their slots within a poll.
  await new Promise((r) => setTimeout(r, 500));
  const open = (n) => Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () =>
      socket.write('GET /audit/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    socket.once('data', (d) => resolve({ socket, status: Number(String(d).split(' ')[1]) }));
    socket.on('error', reject);
  })));
  const tails = await open(8);
  assert.deepEqual(tails.map((t) => t.status), Array(8).fill(200));
  const [refused] = await open(1);
  assert.equal(refused.status, 503);
  for (const { socket } of [...tails, refused]) socket.destroy();
  await new Promise((r) => setTimeout(r, 800));
  const again = await open(8);
  assert.deepEqual(again.map((t) => t.status), Array(8).fill(200), 'slots are freed when clients leave');
  for (const { socket } of again) socket.destroy();
});

test('a non-loopback --listen needs --token, and the token is then required', async () => {
  const refused = spawnSync(PLANCTL, ['--db', store.db, 'serve', '--listen', '0.0.0.0:0'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--token is required/);
  const short = spawnSync(PLANCTL, ['--db', store.db, 'serve', '--token', 'short'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(short.status, 2);

  const token = 'a-test-token-0123456789abcdef';
  const guarded = await startServer(store.db, ['--token', token]);
  try {
    assert.match(guarded.stdout(), /every request needs the token/);
    const url = guarded.url;
    assert.equal((await fetch(`${url}/sessions`)).status, 401);
    assert.equal((await fetch(`${url}/api/stats`)).status, 401);
    assert.equal((await fetch(`${url}/sessions`, { headers: { Authorization: 'Bearer wrong-token-0123456789abc' } })).status, 401);
    assert.equal((await fetch(`${url}/sessions`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    // The token never goes in a URL: ?token= is refused like no token at all.
    assert.equal((await fetch(`${url}/sessions?token=${token}`, { redirect: 'manual' })).status, 401);
    // The one-time URL printed at start-up sets the cookie once, then is spent.
    const printed = guarded.stdout().match(/open (http:\/\/\S+\/login\?once=[0-9a-f]{64}) /);
    assert.ok(printed, `no one-time URL in: ${guarded.stdout()}`);
    const onceUrl = new URL(printed[1]);
    const wrong = await fetch(`${url}/login?once=${'0'.repeat(64)}`, { redirect: 'manual' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const once = await fetch(`${url}${onceUrl.pathname}${onceUrl.search}`, { redirect: 'manual' });
    assert.equal(once.status, 303);
    assert.equal(once.headers.get('location'), '/');
    const cookie = once.headers.get('set-cookie');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const withCookie = await fetch(`${url}/sessions`, { headers: { Cookie: cookie.split(';')[0] } });
    assert.equal(withCookie.status, 200);
    const again = await fetch(`${url}${onceUrl.pathname}${onceUrl.search}`, { redirect: 'manual' });
    assert.equal(again.status, 403, 'a one-time URL works once');
    assert.equal(again.headers.get('set-cookie'), null);
  } finally {
    await guarded.stop();
  }
});

test('serving never writes: data.mdb is byte for byte the one before', async () => {
  // Every read route once more (verify included) against a quiet store.
  const quiet = makeStore();
  const before = digest(quiet.db);
  const head = planctlJson(quiet.db, ['info']).head_sequence;
  const s = await startServer(quiet.db);
  try {
    for (const path of ['/sessions', `/sessions/${quiet.roadmap}`, `/sessions/${quiet.roadmap}/diff?a=1&b=3`,
      '/audit', '/info?verify=1', '/api/verify', '/api/info', '/api/events']) {
      assert.equal((await fetch(s.url + path)).status, 200, path);
    }
  } finally {
    const exit = await s.stop();
    assert.equal(exit.code, 0, 'SIGTERM stops the server cleanly');
  }
  assert.equal(digest(quiet.db), before);
  assert.equal(planctlJson(quiet.db, ['info']).head_sequence, head);
  quiet.cleanup();
});

test('the browser tests skip without Chromium, but fail in CI', () => {
  const script = new URL('./browser/run.sh', import.meta.url).pathname;
  const run = (ci) => spawnSync('bash', [script], {
    encoding: 'utf8', env: { ...process.env, CHROMIUM: '/nonexistent/chromium', CI: ci },
  });
  const local = run('');
  assert.equal(local.status, 77, local.stderr);
  assert.match(local.stdout, /SKIPPED/);
  const ci = run('true');
  assert.equal(ci.status, 1);
  assert.match(ci.stderr, /CI must run them/);
});

test('the sessions list pages 25 at a time, keeping filters and order', async () => {
  const many = makeStore();
  for (let i = 0; i < 26; i++) planctl(many.db, ['create', '--title', `Bulk ${String(i).padStart(2, '0')}`]);
  const s = await startServer(many.db);
  try {
    const first = await (await fetch(`${s.url}/sessions?title-contains=bulk&order-by=title`)).text();
    assert.equal((first.match(/<tr><td><a href="\/sessions\//g) || []).length, 25);
    assert.ok(first.includes('>Bulk 00</a>') && first.includes('>Bulk 24</a>') && !first.includes('>Bulk 25</a>'));
    const next = /<a rel="next" href="([^"]+)"/.exec(first);
    assert.ok(next, 'a next-page link');
    const href = next[1].replaceAll('&amp;', '&');
    assert.match(href, /title-contains=bulk/);
    assert.match(href, /order-by=title/);
    assert.match(href, /page=2/);
    const second = await (await fetch(s.url + href)).text();
    assert.equal((second.match(/<tr><td><a href="\/sessions\//g) || []).length, 1);
    assert.ok(second.includes('>Bulk 25</a>'));
    assert.ok(second.includes('rel="prev"') && !second.includes('rel="next"'));
  } finally {
    assert.equal((await s.stop()).code, 0);
    many.cleanup();
  }
});
