// @ts-check
// Async done right: calls return Promises, LMDB work runs off the JS thread,
// and concurrent writes share durable commits (counted as LMDB transactions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFresh, ok, lmdbTxnId } from './helpers.mjs';

test('1,000 concurrent update promises share group commits', async () => {
  const { manager, dir } = await openFresh();
  const pageSize = ok(await manager.info()).page_size;
  /** @type {string[]} */
  const ids = [];
  for (let i = 0; i < 10; i++) ids.push(ok(await manager.create({ title: `s${i}`, initial_content: 'v1' })).id);

  // The measure can fail: awaited one at a time, each update is its own commit.
  let before = lmdbTxnId(dir, pageSize);
  for (let i = 0; i < 20; i++) ok(await manager.update(ids[i % 10], { content: `sequential ${i}` }));
  assert.ok(lmdbTxnId(dir, pageSize) - before >= 20n, 'sequential updates commit one by one');

  before = lmdbTxnId(dir, pageSize);
  const promises = [];
  for (let i = 0; i < 1000; i++)
    promises.push(manager.update(ids[i % 10], { content: `concurrent ${i}\n`.repeat(64), change_summary: `autosave ${i}` }));
  const results = await Promise.all(promises);
  const commits = lmdbTxnId(dir, pageSize) - before;
  assert.ok(results.every((r) => r.success));
  assert.ok(commits <= 50n, `1,000 concurrent updates took ${commits} commits`);
  // Writes apply in call order: the last update of each session wins.
  for (let k = 0; k < 10; k++) {
    const s = ok(await manager.get(ids[k]));
    assert.equal(s.content, `concurrent ${990 + k}\n`.repeat(64));
    assert.equal(s.current_version, 1 + 2 + 100);
  }
  await manager.close();
});

test('the JS thread stays free while the store works', async () => {
  const { manager } = await openFresh();
  const promises = [];
  for (let i = 0; i < 200; i++) promises.push(manager.create({ title: `t${i}`, initial_content: 'x'.repeat(1024) }));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  await Promise.all(promises);
  for (let i = 0; i < 50; i++) ok(await manager.list({ has_content: true, limit: 50 }));
  clearInterval(timer);
  assert.ok(ticks > 0, 'timers ran while calls were pending');
  const p = manager.getStatistics();
  assert.ok(p instanceof Promise, 'every call returns a Promise');
  assert.equal(ok(await p).total_sessions, 200);
  await manager.close();
});

test('batches: one commit, one result per operation, later ones see earlier ones', async () => {
  const { manager, dir } = await openFresh();
  const pageSize = ok(await manager.info()).page_size;
  const a = ok(await manager.create({ title: 'A', initial_content: 'a1' }));
  const before = lmdbTxnId(dir, pageSize);
  const batch = manager.batch()
    .create({ title: 'B', initial_content: 'b1' })
    .update(a.id, { content: 'a2', change_summary: 'sync' })
    .pause(a.id, 'waiting')
    .update(a.id, { content: 'rejected: paused' })
    .resume(a.id)
    .createVersion(a.id, 'snapshot')
    .restoreVersion(a.id, 1)
    .markConverted('missing', { project_id: 'p' });
  assert.equal(batch.size, 8);
  const results = ok(await manager.applyBatch(batch));
  assert.equal(lmdbTxnId(dir, pageSize) - before, 1n, 'one commit');
  assert.equal(results.length, 8);
  assert.equal(ok(results[0]).title, 'B');
  assert.equal(ok(results[1]).current_version, 2);
  assert.equal(ok(results[2]).status, 'paused');
  assert.equal(results[3].success, false);
  assert.equal(results[3].success === false && results[3].error.code, 'invalid_state');
  assert.equal(ok(results[4]).status, 'active');
  assert.equal(ok(results[5]).current_version, 3);
  assert.equal(ok(results[6]).content, 'a1');
  assert.equal(results[7].success === false && results[7].error.code, 'not_found');
  assert.deepEqual(ok(await manager.applyBatch(manager.batch())), []);
  await manager.close();
});

test('optimistic concurrency: expected_stream_version', async () => {
  const { manager } = await openFresh();
  const s = ok(await manager.create({ title: 'A', initial_content: 'v1' }));
  const ok1 = manager.update(s.id, { content: 'mine', expected_stream_version: s.stream_version });
  const lost = manager.update(s.id, { content: 'theirs', expected_stream_version: s.stream_version });
  assert.equal(ok(await ok1).content, 'mine');
  const r = await lost;
  assert.equal(r.success === false && r.error.code, 'conflict');
  assert.equal(ok(await manager.get(s.id)).content, 'mine');
  await manager.close();
});

test('close() waits for the writes already queued; later calls get invalid_state', async () => {
  const { manager, dir } = await openFresh();
  const pending = [];
  for (let i = 0; i < 100; i++) pending.push(manager.create({ title: `queued ${i}` }));
  const closing = manager.close();
  const late = await manager.create({ title: 'too late' });
  assert.equal(late.success === false && late.error.code, 'invalid_state');
  await closing;
  const results = await Promise.all(pending);
  assert.ok(results.every((r) => r.success), 'every queued write was committed');
  const { PlanningSessionManager } = await import('planning-session-engine');
  const reopened = await PlanningSessionManager.open(dir);
  const m = reopened.success ? reopened.data : assert.fail('reopens');
  assert.equal(ok(await m.getStatistics()).total_sessions, 100);
  await m.close();
});
