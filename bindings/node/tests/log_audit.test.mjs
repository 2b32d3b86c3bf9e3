// @ts-check
// Time travel, the event log, verify/rebuild with progress, info, backup,
// export/import, salvage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { PlanningSessionManager, salvage, versions } from 'planning-session-engine';
import { openFresh, ok, fails, tempDir } from './helpers.mjs';

test('time travel and the event log', async () => {
  const { manager } = await openFresh();
  const s = ok(await manager.create({ title: 'T', initial_content: 'one' }));
  ok(await manager.update(s.id, { content: 'two' }));
  ok(await manager.pause(s.id, 'break'));
  const events = ok(await manager.events({ session_id: s.id }));
  assert.deepEqual(events.map((e) => e.type), ['session_created', 'session_updated', 'session_paused']);
  assert.deepEqual(events.map((e) => e.stream_version), [1, 2, 3]);
  assert.equal(events[1].payload.content, 'two');
  assert.match(events[1].prev_hash, /^[0-9a-f]{64}$/);

  assert.equal(ok(await manager.sessionAt(s.id, 1)).content, 'one');
  assert.equal(ok(await manager.sessionAt(s.id, 2n)).content, 'two');
  assert.equal(ok(await manager.sessionAt(s.id, 3)).status, 'paused');
  fails(await manager.sessionAt(s.id, 0), 'not_found');
  // A Date from an event stands for its whole millisecond: the state after it.
  assert.equal(ok(await manager.sessionAtTime(s.id, events[1].timestamp)).content, 'two');
  assert.equal(ok(await manager.sessionAtTime(s.id, events[0].timestamp_ns)).content, 'one');
  fails(await manager.sessionAtTime(s.id, new Date('2020-01-01')), 'not_found');

  assert.equal(ok(await manager.headSequence()), 3);
  assert.deepEqual(ok(await manager.events({ types: 'session_paused' })).map((e) => e.sequence), [3]);
  assert.deepEqual(ok(await manager.events({ from_sequence: 2, limit: 1 })).map((e) => e.sequence), [2]);
  assert.deepEqual(ok(await manager.events({ to_time: events[0].timestamp })).map((e) => e.sequence)[0], 1);
  assert.deepEqual(ok(await manager.events({ from_time: new Date(Date.now() + 3600e3) })), []);

  // scanEvents pages through the log.
  for (let i = 0; i < 25; i++) ok(await manager.create({ title: `more ${i}` }));
  /** @type {number[]} */
  const seen = [];
  assert.equal(ok(await manager.scanEvents(undefined, (e) => void seen.push(e.sequence), { chunk: 7 })), 28);
  assert.deepEqual(seen, Array.from({ length: 28 }, (_, i) => i + 1));
  /** @type {number[]} */
  const some = [];
  assert.equal(ok(await manager.scanEvents({ from_sequence: 4, types: ['session_created'] }, (e) => {
    some.push(e.sequence);
    return some.length < 5;
  }, { chunk: 2 })), 5);
  assert.deepEqual(some, [4, 5, 6, 7, 8]);
  assert.equal(ok(await manager.scanEvents({ limit: 3 }, () => true, { chunk: 2 })), 3);
  await manager.close();
});

test('verify and rebuild with progress, info, projections, backup', async () => {
  /** @type {[string, string][]} */
  const logged = [];
  const { manager, dir } = await openFresh({ logger: (level, message) => logged.push([level, message]) });
  for (let i = 0; i < 50; i++) ok(await manager.create({ title: `s${i}`, initial_content: `c${i}` }));
  /** @type {[number, number][]} */
  const progress = [];
  const report = ok(await manager.verify((done, total) => progress.push([done, total])));
  assert.equal(report.ok, true);
  assert.deepEqual(report.issues, []);
  assert.equal(report.events_checked, 50);
  assert.equal(report.sessions_checked, 50);
  assert.ok(progress.length > 0, 'progress was reported');
  assert.deepEqual(progress[progress.length - 1], [50, 50]);

  /** @type {[number, number][]} */
  const rebuilt = [];
  ok(await manager.rebuildProjections((done, total) => rebuilt.push([done, total])));
  assert.ok(rebuilt.length > 0);
  // The engine's own log lines reach the logger (on the JavaScript thread, soon after).
  for (let i = 0; i < 100 && !logged.some(([, m]) => m.includes('rebuilt every projection')); i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(logged.some(([level, m]) => level === 'info' && m === 'rebuilt every projection from the log'), JSON.stringify(logged.slice(-3)));
  assert.ok(logged.some(([level, m]) => level === 'debug' && m === 'planning: verify ok'));
  assert.equal(ok(await manager.getStatistics()).total_sessions, 50);

  const info = ok(await manager.info());
  assert.equal(info.head_sequence, 50);
  assert.equal(info.sessions, 50);
  assert.equal(info.format_version, versions.format);
  assert.ok(info.projections.length > 0);
  assert.deepEqual(ok(await manager.projections()).map((p) => p.checkpoint), info.projections.map(() => 50));

  const copy = join(tempDir(), 'backup');
  ok(await manager.backup(copy, { compact: true }));
  assert.ok(existsSync(join(copy, 'data.mdb')));
  assert.match(fails(await manager.backup(copy), 'invalid_argument'), /not empty/);
  await manager.close();
  const opened = await PlanningSessionManager.open(copy);
  const restored = opened.success ? opened.data : assert.fail('backup opens');
  assert.equal(ok(await restored.getStatistics()).total_sessions, 50);
  assert.ok(ok(await restored.verify()).ok);
  await restored.close();
  assert.notEqual(dir, copy);
});

test('export and import (all or nothing), salvage', async () => {
  const { manager, dir } = await openFresh();
  const s = ok(await manager.create({ title: 'E', initial_content: 'x' }));
  ok(await manager.update(s.id, { content: 'y' }));
  const file = join(tempDir(), 'events.jsonl');
  assert.equal(ok(await manager.exportEvents(file)), 2);
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2);

  const { manager: target } = await openFresh();
  assert.equal(ok(await target.importEvents(file)), 2);
  assert.equal(ok(await target.get(s.id)).content, 'y');
  // Importing again would break the dense sequence: nothing is appended.
  fails(await target.importEvents(file), 'invalid_argument');
  assert.equal(ok(await target.headSequence()), 2);
  fails(await target.importEvents(join(tempDir(), 'missing.jsonl')), 'storage');
  await target.close();
  await manager.close();

  const rescued = join(tempDir(), 'rescued');
  const report = ok(await salvage(dir, rescued));
  assert.equal(report.recovered_head, 2);
  assert.deepEqual(report.lost, []);
  fails(await salvage(dir, rescued), 'invalid_argument');
});

test('store options: a small map grows, reader slots, full structure check on open', async () => {
  const { manager, dir } = await openFresh({ initial_map_size: 1 << 20, max_readers: 16 });
  const big = 'line of a large plan\n'.repeat(150000); // about 3 MiB: more than the first map
  const s = ok(await manager.create({ title: 'big', initial_content: big }));
  const info = ok(await manager.info());
  assert.equal(info.max_readers, 16);
  assert.ok(info.map_size > 1 << 20, `the map grew to ${info.map_size}`);
  await manager.close();
  const again = await PlanningSessionManager.open(dir, { structure_check: 'full' });
  const reopened = again.success ? again.data : assert.fail('reopens with a full structure check');
  assert.equal(ok(await reopened.get(s.id)).content, big);
  await reopened.close();
});

test('read_only and durability options', async () => {
  const { manager, dir } = await openFresh();
  const s = ok(await manager.create({ title: 'kept', initial_content: 'x' }));
  await manager.close();

  const ro = await PlanningSessionManager.open(dir, { read_only: true });
  const reader = ro.success ? ro.data : assert.fail('opens read-only');
  assert.equal(ok(await reader.get(s.id)).title, 'kept');
  fails(await reader.create({ title: 'no' }), 'storage');
  assert.equal(ok(await reader.headSequence()), 1, 'nothing appended');
  // A second manager in this process with other options cannot share the engine.
  fails(await new PlanningSessionManager(dir).ready(), 'storage');
  await reader.close();

  const fast = await PlanningSessionManager.open(dir, { durability: 'no_sync' });
  const writer = fast.success ? fast.data : assert.fail('opens with no_sync');
  ok(await writer.update(s.id, { content: 'y' }));
  await writer.close();
  const back = await PlanningSessionManager.open(dir);
  const m = back.success ? back.data : assert.fail('reopens');
  assert.equal(ok(await m.get(s.id)).content, 'y');
  await m.close();
});
