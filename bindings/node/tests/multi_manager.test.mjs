// @ts-check
// Two managers on one store: in two worker threads (one process: they share
// the engine) and in two processes (two engines; LMDB serializes writers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PlanningSessionManager } from 'planning-session-engine';
import { ok, fails, tempDir, packageDir } from './helpers.mjs';

const workerFile = new URL('./fixtures/worker.mjs', import.meta.url);

/** @param {object} job @returns {Promise<any>} */
function inWorker(job) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: job });
    /** @type {any} */
    let message;
    worker.on('message', (m) => (message = m));
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`worker exited with ${code}`))));
  });
}

/** @param {object} job @returns {Promise<any>} */
function inProcess(job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [workerFile.pathname, JSON.stringify(job)], { cwd: packageDir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited with ${code}: ${err}`))));
  });
}

/**
 * @param {PlanningSessionManager} manager
 * @param {{ ids: string[], tag: string }[]} results
 */
async function checkAll(manager, results) {
  const total = results.reduce((n, r) => n + r.ids.length, 0);
  const stats = ok(await manager.getStatistics());
  assert.equal(stats.total_sessions, total);
  assert.equal(stats.total_events, 2 * total);
  for (const r of results) {
    const mine = ok(await manager.findByRepository(`/${r.tag}`));
    assert.deepEqual(new Set(mine.map((s) => s.id)), new Set(r.ids));
    assert.ok(mine.every((s) => s.content === `# updated by ${r.tag}` && s.current_version === 2));
  }
  assert.ok(ok(await manager.verify()).ok);
}

test('two managers in two worker threads on one store (shared engine)', async () => {
  const dir = join(tempDir(), 'store');
  const main = new PlanningSessionManager(dir);
  ok(await main.ready());
  let seenByMain = 0;
  main.on('session_created', () => seenByMain++);
  const results = await Promise.all([inWorker({ dir, count: 100, tag: 'w1' }), inWorker({ dir, count: 100, tag: 'w2' })]);
  for (const r of results) assert.ok(r.ids, JSON.stringify(r));
  await checkAll(main, results);
  // Signals reach every manager of the process sharing the store.
  assert.equal(seenByMain, 200);
  for (const r of results) assert.ok(r.seen >= 100, `worker ${r.tag} saw ${r.seen} events`);

  // A worker asking for different options cannot share the engine: a clear error.
  const refused = await inWorker({ dir, count: 1, tag: 'w3', options: { auto_version: false } });
  assert.equal(refused.error.code, 'storage');
  assert.match(refused.error.message, /different options/);
  await main.close();

  // Once every manager has closed, the store opens again.
  const again = await PlanningSessionManager.open(dir, { auto_version: false });
  ok(again);
  if (again.success) await again.data.close();
});

test('two managers in two processes on one store', async () => {
  const dir = join(tempDir(), 'store');
  const results = await Promise.all([inProcess({ dir, count: 100, tag: 'p1' }), inProcess({ dir, count: 100, tag: 'p2' })]);
  const opened = await PlanningSessionManager.open(dir);
  const manager = opened.success ? opened.data : assert.fail('opens');
  await checkAll(manager, results);
  await manager.close();
});

test('a second manager in the same thread shares the store too', async () => {
  const dir = join(tempDir(), 'store');
  const a = new PlanningSessionManager(dir);
  const b = new PlanningSessionManager(dir);
  const s = ok(await a.create({ title: 'from a' }));
  assert.equal(ok(await b.get(s.id)).title, 'from a');
  await a.close();
  fails(await a.get(s.id), 'invalid_state');
  assert.equal(ok(await b.get(s.id)).title, 'from a', 'b still works after a closed');
  await b.close();
});

test('a worker terminated with writes in flight leaves the shared store working', async () => {
  const dir = join(tempDir(), 'store');
  const main = new PlanningSessionManager(dir);
  ok(await main.ready());
  for (let round = 0; round < 3; round++) {
    const worker = new Worker(new URL('./fixtures/terminated_worker.mjs', import.meta.url), { workerData: { dir } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 30 + 20 * round));
    await worker.terminate();
  }
  // The engine it shared is intact and still writable from this thread.
  const s = ok(await main.create({ title: 'after' }));
  assert.equal(ok(await main.get(s.id)).title, 'after');
  const report = ok(await main.verify());
  assert.deepEqual(report.issues, []);
  const stats = ok(await main.getStatistics());
  assert.equal(stats.total_sessions, stats.total_events);
  await main.close();
});

