// @ts-check
// Stale sessions and recovery; signals as an EventEmitter in log order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionRecovery, EVENT_TYPES } from 'planning-session-engine';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openFresh, ok, fails, head, tempDir, packageDir } from './helpers.mjs';

const HOUR = 3600e3;

test('stale sessions: recommendations by inactivity, apply, restoreFromHistory', async () => {
  const { manager } = await openFresh();
  const a = ok(await manager.create({ title: 'active one' })).id;
  const p = ok(await manager.create({ title: 'paused one' })).id;
  const c = ok(await manager.create({ title: 'converted one' })).id;
  ok(await manager.pause(p, 'later'));
  ok(await manager.markConverted(c, { project_id: 'x' }));
  const now = Date.now();

  const fresh = await SessionRecovery.findStale(manager);
  assert.equal(fresh.success, true);
  assert.deepEqual(fresh.stale_sessions, []);
  assert.deepEqual(fresh.recommendations, {});

  const day = await SessionRecovery.findStale(manager, { now: new Date(now + 25 * HOUR) });
  assert.deepEqual(day.stale_sessions.map((s) => s.id), [a], 'only active sessions are stale after 24 h');
  assert.deepEqual(day.recommendations, { [a]: 'pause' });
  if (day.success) assert.deepEqual(day.data.recommendations, day.recommendations);

  const custom = await SessionRecovery.findStale(manager, { now: new Date(now + 2 * HOUR), inactive_for_ms: HOUR, archive_after_ms: 1.5 * HOUR });
  assert.deepEqual(new Set(custom.stale_sessions.map((s) => s.id)), new Set([a, p]));
  assert.deepEqual(custom.recommendations, { [a]: 'archive', [p]: 'archive' });
  const bad = await SessionRecovery.findStale(manager, { inactive_for_ms: 2 * HOUR, archive_after_ms: HOUR });
  fails(bad, 'invalid_argument');
  assert.deepEqual(bad.stale_sessions, []);

  const week = await SessionRecovery.findStale(manager, { now: new Date(now + 8 * 24 * HOUR) });
  assert.deepEqual(week.recommendations, { [a]: 'archive', [p]: 'archive' });
  /** @type {[number, number][]} */
  const steps = [];
  assert.equal(ok(await SessionRecovery.apply(manager, week, 'planning:test', (done, total) => steps.push([done, total]))), 2);
  assert.deepEqual(steps.at(-1), [2, 2]);
  assert.equal(ok(await manager.get(a)).status, 'archived');
  assert.equal(ok(await manager.get(p)).status, 'archived');
  assert.equal(ok(await SessionRecovery.apply(manager, week)), 0, 'changed sessions are skipped');

  const restored = ok(await SessionRecovery.restoreFromHistory(c, manager));
  assert.deepEqual(restored, ok(await manager.get(c)));
  fails(await SessionRecovery.restoreFromHistory('missing', manager), 'not_found');
  await manager.close();
});

test('signals: per-type events and "event", on the JS thread, in log order', async () => {
  const { manager } = await openFresh();
  /** @type {import('planning-session-engine').PlanningEvent[]} */
  const all = [];
  /** @type {string[]} */
  const created = [];
  manager.on('event', (e) => all.push(e));
  manager.on('session_created', (e) => created.push(e.session_id));
  /** @type {string[]} */
  const statusChanges = [];
  manager.on('status_changed', (e) => statusChanges.push(e.type));
  const s = ok(await manager.create({ title: 'S', initial_content: 'v1' }));
  // Delivered before the promise of the call that committed it resolves.
  assert.equal(all.length, 1);
  assert.equal(all[0].type, 'session_created');
  assert.equal(all[0].session_id, s.id);
  assert.ok(all[0].timestamp instanceof Date);
  assert.equal(typeof all[0].timestamp_ns, 'bigint');
  assert.equal(all[0].payload.title, 'S');

  ok(await manager.update(s.id, { content: 'v2' }));
  ok(await manager.pause(s.id));
  ok(await manager.resume(s.id));
  ok(await manager.restoreVersion(s.id, 1));
  ok(await manager.createVersion(s.id));
  ok(await manager.markConverted(s.id, { project_id: 'p' }));
  ok(await manager.archive(s.id));
  const t = ok(await manager.create({ title: 'T' }));
  ok(await manager.remove(t.id));
  assert.deepEqual(new Set(all.map((e) => e.type)), new Set(EVENT_TYPES), 'every event type is emitted');
  assert.deepEqual(statusChanges, ['session_paused', 'session_resumed', 'session_converted', 'session_archived']);

  // Rejected calls emit nothing.
  const before = all.length;
  fails(await manager.update(s.id, { content: 'no' }), 'invalid_state');
  fails(await manager.create({ title: '' }), 'invalid_argument');
  assert.equal(all.length, before);

  // Many concurrent writes: events arrive in sequence order.
  const writes = [];
  for (let i = 0; i < 300; i++) writes.push(manager.create({ title: `c${i}` }));
  await Promise.all(writes);
  const seqs = all.map((e) => e.sequence);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'dense, in log order');
  assert.equal(seqs.length, await head(manager));
  assert.equal(created.length, 302);

  // removing the listeners stops delivery
  manager.removeAllListeners('event');
  manager.removeAllListeners('session_created');
  ok(await manager.create({ title: 'quiet' }));
  assert.equal(all.length, seqs.length);
  // removeAllListeners() keeps the manager able to deliver to new listeners
  manager.removeAllListeners();
  /** @type {number[]} */
  const later = [];
  manager.on('session_created', (e) => later.push(e.sequence));
  ok(await manager.create({ title: 'heard' }));
  assert.deepEqual(later, [seqs.length + 2]);
  await manager.close();
});

test('a throwing listener is reported as uncaughtException, the write stands', () => {
  // In a child process: the test runner itself treats uncaughtException as a failure.
  const script = `
    const { PlanningSessionManager } = require('planning-session-engine');
    process.on('uncaughtException', (e) => console.log('uncaught:', e.message));
    (async () => {
      const m = new PlanningSessionManager(process.argv[1]);
      m.once('session_created', () => { throw new Error('listener failed'); });
      const r = await m.create({ title: 'S' });
      await new Promise((resolve) => setImmediate(resolve));
      const got = await m.get(r.success ? r.data.id : '');
      console.log('stored:', got.success && got.data.title);
      await m.close();
    })();`;
  const run = spawnSync(process.execPath, ['-e', script, join(tempDir(), 'store')], { encoding: 'utf8', cwd: packageDir });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /uncaught: listener failed/);
  assert.match(run.stdout, /stored: S/);
});
