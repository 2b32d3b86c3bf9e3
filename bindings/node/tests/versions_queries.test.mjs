// @ts-check
// Version history and diffs; queries with Date filters; statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFresh, ok, fails } from './helpers.mjs';

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('version history: every content change is a version, byte-identical', async () => {
  const { manager } = await openFresh();
  const id = ok(await manager.create({ title: 'Doc', initial_content: 'line 1\n' })).id;
  /** @type {string[]} */
  const contents = ['line 1\n'];
  for (let i = 2; i <= 20; i++) {
    const content = `${contents[contents.length - 1]}line ${i}\n`;
    contents.push(content);
    const s = ok(await manager.update(id, { content, change_summary: `add line ${i}`, updated_by: 'user:ann' }));
    assert.equal(s.current_version, i);
  }
  // A change of title only, or the same content again, makes no version.
  assert.equal(ok(await manager.update(id, { title: 'Doc 2' })).current_version, 20);
  assert.equal(ok(await manager.update(id, { content: contents[19] })).current_version, 20);
  const versions = ok(await manager.getVersions(id));
  assert.equal(versions.length, 20);
  versions.forEach((v, i) => {
    assert.equal(v.version_number, i + 1);
    assert.equal(v.content, contents[i]);
    assert.equal(v.session_id, id);
    assert.ok(v.created_at instanceof Date);
    if (i > 0) {
      assert.equal(v.change_summary, `add line ${i + 1}`);
      assert.equal(v.created_by, 'user:ann');
      assert.deepEqual(v.changed_fields, ['content']);
      assert.ok(v.event_seq > versions[i - 1].event_seq);
    }
  });
  const diff = ok(await manager.compareVersions(id, 3, 10));
  assert.deepEqual([diff.from_version, diff.to_version, diff.lines_added, diff.lines_removed, diff.lines_unchanged], [3, 10, 7, 0, 3]);
  assert.match(diff.unified, /^--- version 3\n\+\+\+ version 10\n/);
  const back = ok(await manager.compareVersions(id, 10, 3));
  assert.equal(back.lines_removed, 7);
  assert.equal(ok(await manager.compareVersions(id, 5, 5)).lines_added, 0);

  const restored = ok(await manager.restoreVersion(id, 2, 'user:john'));
  assert.equal(restored.current_version, 21);
  assert.equal(restored.content, contents[1]);
  const v21 = ok(await manager.getVersion(id, 21));
  assert.equal(v21.content, contents[1]);
  assert.match(v21.change_summary, /2/);

  const snap = ok(await manager.createVersion(id, 'checkpoint', 'user:ann'));
  assert.equal(snap.version_number, 22);
  assert.equal(snap.content, contents[1]);
  assert.equal(snap.change_summary, 'checkpoint');
  await manager.close();
});

test('auto_version: false keeps content changes out of the history', async () => {
  const { manager } = await openFresh({ auto_version: false });
  const id = ok(await manager.create({ title: 'Doc', initial_content: 'a' })).id;
  const s = ok(await manager.update(id, { content: 'b' }));
  assert.equal(s.content, 'b');
  assert.equal(s.current_version, 1);
  assert.equal(ok(await manager.getVersions(id)).length, 1);
  assert.equal(ok(await manager.createVersion(id, 'manual')).version_number, 2);
  await manager.close();
});

test('queries: status, repository, Date filters (exclusive), content, order, paging', async () => {
  const { manager } = await openFresh();
  const first = ok(await manager.create({ title: 'Alpha', repository_path: '/r/one', initial_content: 'x', created_by: 'ann' }));
  await sleep(5);
  const middle = new Date();
  await sleep(5);
  const second = ok(await manager.create({ title: 'Beta', repository_path: '/r/one', created_by: 'bob' }));
  const third = ok(await manager.create({ title: 'Gamma', repository_path: '/r/two', initial_content: 'y' }));
  ok(await manager.pause(second.id));
  ok(await manager.markConverted(third.id, { project_id: 'P-1' }));

  /** @param {import('planning-session-engine').SessionFilters} f */
  const titles = async (f) => ok(await manager.list(f)).map((s) => s.title);
  assert.deepEqual(await titles({}), ['Alpha', 'Beta', 'Gamma']);
  assert.deepEqual(await titles({ status: 'paused' }), ['Beta']);
  assert.deepEqual(await titles({ status: ['active', 'converted'] }), ['Alpha', 'Gamma']);
  assert.deepEqual(await titles({ created_after: middle }), ['Beta', 'Gamma']);
  assert.deepEqual(await titles({ created_before: middle }), ['Alpha']);
  assert.deepEqual(await titles({ created_after: first.created_at }), ['Beta', 'Gamma'], 'bounds are exclusive');
  assert.deepEqual(await titles({ created_after: new Date('2025-01-01'), created_before: new Date('2025-06-01') }), []);
  assert.deepEqual(await titles({ updated_after: middle, status: 'paused' }), ['Beta']);
  assert.deepEqual(await titles({ has_content: true }), ['Alpha', 'Gamma']);
  assert.deepEqual(await titles({ has_content: false }), ['Beta']);
  assert.deepEqual(await titles({ repository_path: '/r/one' }), ['Alpha', 'Beta']);
  assert.deepEqual(await titles({ project_id: 'P-1' }), ['Gamma']);
  assert.deepEqual(await titles({ created_by: 'bob' }), ['Beta']);
  assert.deepEqual(await titles({ title_contains: 'AMM' }), ['Gamma']);
  assert.deepEqual(await titles({ order_by: 'title', descending: true }), ['Gamma', 'Beta', 'Alpha']);
  assert.deepEqual(await titles({ limit: 1, offset: 1 }), ['Beta']);
  assert.deepEqual(ok(await manager.findActive()).map((s) => s.id), [first.id]);
  assert.deepEqual(ok(await manager.findByRepository('/r/two')).map((s) => s.id), [third.id]);
  assert.deepEqual(ok(await manager.findByRepository('/nowhere')), []);

  const stats = ok(await manager.getStatistics());
  assert.deepEqual(stats, {
    total_sessions: 3,
    active_sessions: 1,
    paused_sessions: 1,
    converted_sessions: 1,
    archived_sessions: 0,
    removed_sessions: 0,
    sessions_with_content: 2,
    total_versions: 2,
    average_versions_per_session: 2 / 3,
    total_events: 5,
  });
  ok(await manager.remove(first.id));
  fails(await manager.get(first.id), 'not_found');
  assert.deepEqual(await titles({}), ['Beta', 'Gamma']);
  const after = ok(await manager.getStatistics());
  assert.equal(after.total_sessions, 2);
  assert.equal(after.removed_sessions, 1);
  await manager.close();
});
