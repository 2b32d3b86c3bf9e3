// @ts-check
// Bad input: wrong argument types throw a TypeError naming the argument
// (synchronously, before anything is queued); bad values resolve with an
// error value. Either way nothing is appended.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanningSessionManager, SessionRecovery, WriteBatch } from 'planning-session-engine';
import { openFresh, ok, fails, head, tempDir } from './helpers.mjs';

/** Calls with deliberately wrong types, hidden from the type checker. @type {any} */
let m;

test('wrong argument types throw a TypeError naming the argument', async () => {
  const { manager } = await openFresh();
  m = manager;
  const id = ok(await manager.create({ title: 'T' })).id;
  const before = await head(manager);
  /** @type {[() => unknown, RegExp][]} */
  const cases = [
    [() => m.create(), /request must be an object/],
    [() => m.create('title'), /request must be an object/],
    [() => m.create({ title: 42 }), /request\.title must be a string/],
    [() => m.create({ title: 'x', metadata: [1] }), /request\.metadata must be an object/],
    [() => m.create({ title: 'x', metadata: 'x' }), /request\.metadata must be an object/],
    [() => m.create({ title: 'x', titel: 'typo' }), /request has an unknown field 'titel'/],
    [() => m.update(123, { content: 'x' }), /sessionId must be a string/],
    [() => m.update(id, { content: 7 }), /updates\.content must be a string/],
    [() => m.update(id, { contnet: 'x' }), /updates has an unknown field 'contnet'/],
    [() => m.update(id, { expected_stream_version: -1 }), /expected_stream_version must be a non-negative integer/],
    [() => m.pause(id, 5), /reason must be a string/],
    [() => m.markConverted(id, { project_id: 'p', work_item_ids: 'wi-1' }), /work_item_ids must be an array/],
    [() => m.markConverted(id, { project_id: 'p', work_item_ids: [1] }), /work_item_ids\[0\] must be a string/],
    [() => m.compareVersions(id, '1', 2), /fromVersion must be a non-negative integer/],
    [() => m.restoreVersion(id, 1.5), /versionNumber must be a non-negative integer/],
    [() => m.list({ created_after: '2025-01-01' }), /filters\.created_after must be a Date/],
    [() => m.list({ created_after: new Date('nonsense') }), /filters\.created_after must be a valid Date/],
    [() => m.list({ status: 'done' }), /filters\.status must be one of/],
    [() => m.list({ colour: 'red' }), /filters has an unknown field 'colour'/],
    [() => m.events({ types: ['nope'] }), /query\.types must be one of/],
    [() => m.applyBatch([{ op: 'create' }]), /batch must be a WriteBatch/],
    [() => new WriteBatch().update(id, { content: /** @type {any} */ (1) }), /updates\.content must be a string/],
    [() => m.verify('yes'), /onProgress must be a function/],
    [() => SessionRecovery.findStale(/** @type {any} */ ({})), /manager must be a PlanningSessionManager/],
    [() => SessionRecovery.apply(manager, { stale_sessions: [], recommendations: {} }), /report must be a result of SessionRecovery\.findStale/],
    [() => new PlanningSessionManager(/** @type {any} */ (5)), /path must be a string/],
    [() => PlanningSessionManager.open(/** @type {any} */ (undefined)), /path must be a string/],
    [() => new PlanningSessionManager('x', /** @type {any} */ ({ durability: 'fast' })), /options\.durability must be one of/],
    [() => new PlanningSessionManager('x', /** @type {any} */ ({ max_readers: 0 })), /options\.max_readers must be a positive integer/],
    [() => new PlanningSessionManager('x', /** @type {any} */ ({ autoVersion: true })), /options has an unknown field 'autoVersion'/],
    [() => m.scanEvents({}, 'not a function'), /visit must be a function/],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, (/** @type {any} */ e) => e instanceof TypeError && message.test(e.message), String(message));
  }
  const cyclic = /** @type {any} */ ({ a: 1 });
  cyclic.self = cyclic;
  assert.throws(() => m.create({ title: 'x', metadata: cyclic }), /request\.metadata must be JSON-serializable/);
  assert.equal(await head(manager), before, 'nothing appended');
  await manager.close();
});

test('bad values resolve with clear error values and append nothing', async () => {
  const { manager } = await openFresh();
  const id = ok(await manager.create({ title: 'T', initial_content: 'a' })).id;
  const before = await head(manager);
  assert.match(fails(await manager.create({ title: '   ' }), 'invalid_argument'), /title/);
  assert.match(fails(await manager.create({ title: 'x'.repeat(1025) }), 'invalid_argument'), /title/);
  /** @type {any} */
  let deep = {};
  for (let i = 0; i < 100; i++) deep = { d: deep };
  assert.match(fails(await manager.create({ title: 'deep', metadata: deep }), 'invalid_argument'), /metadata/);
  assert.match(fails(await manager.update('no-such-id', { content: 'x' }), 'not_found'), /no-such-id/);
  fails(await manager.get('no-such-id'), 'not_found');
  fails(await manager.getVersion(id, 9), 'not_found');
  fails(await manager.compareVersions(id, 1, 9), 'not_found');
  fails(await manager.restoreVersion(id, 9), 'not_found');
  fails(await manager.markConverted(id, { project_id: '' }), 'invalid_argument');
  const current = ok(await manager.get(id));
  assert.match(fails(await manager.update(id, { content: 'b', expected_stream_version: current.stream_version + 5 }), 'conflict'), /stream/);
  assert.equal(await head(manager), before, 'nothing appended');
  await manager.close();
});

test('a manager that cannot open resolves every call with the open error', async () => {
  const dir = `${tempDir()}/missing`;
  const manager = new PlanningSessionManager(dir, { create_if_missing: false });
  fails(await manager.ready(), 'storage');
  fails(await manager.create({ title: 'x' }), 'storage');
  fails(await manager.get('x'), 'storage');
  const opened = await PlanningSessionManager.open(dir, { create_if_missing: false });
  fails(opened, 'storage');
  await manager.close();
});

test('calls after close resolve with invalid_state', async () => {
  const { manager } = await openFresh();
  await manager.close();
  assert.match(fails(await manager.create({ title: 'x' }), 'invalid_state'), /closed/);
  assert.match(fails(await manager.list(), 'invalid_state'), /closed/);
});
