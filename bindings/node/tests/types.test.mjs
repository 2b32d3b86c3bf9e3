// @ts-check
// index.d.ts is strict enough to catch what the runtime rejects: each
// expect-error directive below fails `tsc --noEmit` if the types stop flagging
// its line, and each call is checked to throw the TypeError the types predict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanningSessionManager } from 'planning-session-engine';
import { openFresh, ok } from './helpers.mjs';

test('types and runtime agree on wrong input', async () => {
  const { manager } = await openFresh();
  // @ts-expect-error title must be a string
  assert.throws(() => manager.create({ title: 1 }), TypeError);
  // @ts-expect-error unknown field
  assert.throws(() => manager.update('id', { contnet: 'x' }), TypeError);
  // @ts-expect-error status values are a closed set
  assert.throws(() => manager.list({ status: 'done' }), TypeError);
  // @ts-expect-error Date filters take Dates
  assert.throws(() => manager.list({ created_after: '2025-01-01' }), TypeError);
  // @ts-expect-error durability values are a closed set
  assert.throws(() => new PlanningSessionManager('x', { durability: 'fast' }), TypeError);

  // Narrowing on success gives typed data.
  const created = await manager.create({ title: 'typed', initial_content: 'a' });
  if (created.success) {
    /** @type {Date} */
    const when = created.data.created_at;
    /** @type {'active' | 'paused' | 'converted' | 'archived'} */
    const status = created.data.status;
    assert.ok(when instanceof Date);
    assert.equal(status, 'active');
  } else {
    /** @type {string} */
    const code = created.error.code;
    assert.fail(code);
  }
  const versions = ok(await manager.getVersions(ok(created).id));
  /** @type {number} */
  const n = versions[0].version_number;
  assert.equal(n, 1);
  await manager.close();
});
