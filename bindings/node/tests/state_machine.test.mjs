// @ts-check
// The state machine, every (state, operation) pair: allowed moves change the
// status; every other one is an error value and appends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFresh, ok, fails, head } from './helpers.mjs';

/** @typedef {import('planning-session-engine').PlanningSessionManager} Manager */
/** @typedef {'active' | 'paused' | 'converted' | 'archived'} Status */

/**
 * Brings a new session into `state`.
 * @param {Manager} manager
 * @param {Status} state
 */
async function sessionIn(manager, state) {
  const id = ok(await manager.create({ title: `in ${state}`, initial_content: 'x' })).id;
  if (state === 'paused') ok(await manager.pause(id, 'r'));
  if (state === 'converted') ok(await manager.markConverted(id, { project_id: 'p' }));
  if (state === 'archived') ok(await manager.archive(id));
  return id;
}

/** @type {Record<string, (m: Manager, id: string) => Promise<import('planning-session-engine').Result<import('planning-session-engine').PlanningSession>>>} */
const operations = {
  pause: (m, id) => m.pause(id, 'why'),
  resume: (m, id) => m.resume(id),
  markConverted: (m, id) => m.markConverted(id, { project_id: 'proj', work_item_ids: ['w'] }),
  archive: (m, id) => m.archive(id),
  update: (m, id) => m.update(id, { content: 'changed' }),
  restoreVersion: (m, id) => m.restoreVersion(id, 1),
};

// state -> operation -> resulting status, or the error code.
/** @type {Record<Status, Record<string, string>>} */
const matrix = {
  active: { pause: 'paused', resume: 'invalid_transition', markConverted: 'converted', archive: 'archived', update: 'active', restoreVersion: 'active' },
  paused: { pause: 'invalid_transition', resume: 'active', markConverted: 'invalid_state', archive: 'archived', update: 'invalid_state', restoreVersion: 'invalid_state' },
  converted: { pause: 'invalid_transition', resume: 'invalid_transition', markConverted: 'invalid_state', archive: 'archived', update: 'invalid_state', restoreVersion: 'invalid_state' },
  archived: { pause: 'invalid_transition', resume: 'invalid_transition', markConverted: 'invalid_state', archive: 'invalid_transition', update: 'invalid_state', restoreVersion: 'invalid_state' },
};
const statuses = new Set(['active', 'paused', 'converted', 'archived']);

test('state machine matrix', async (t) => {
  const { manager } = await openFresh();
  for (const [state, row] of Object.entries(matrix)) {
    for (const [op, expected] of Object.entries(row)) {
      await t.test(`${state} --${op}-->  ${expected}`, async () => {
        const id = await sessionIn(manager, /** @type {Status} */ (state));
        const before = await head(manager);
        const stateBefore = ok(await manager.get(id));
        const result = await operations[op](manager, id);
        if (statuses.has(expected)) {
          assert.equal(ok(result).status, expected);
          assert.equal(await head(manager), before + 1, 'one event appended');
        } else {
          const message = fails(result, expected);
          assert.match(message, /[a-z]/);
          assert.equal(await head(manager), before, 'nothing appended');
          assert.deepEqual(ok(await manager.get(id)), stateBefore, 'nothing changed');
        }
      });
    }
  }
  await manager.close();
});

test('invalid_transition names both states', async () => {
  const { manager } = await openFresh();
  const id = await sessionIn(manager, 'archived');
  const message = fails(await manager.pause(id), 'invalid_transition');
  assert.match(message, /archived/);
  assert.match(message, /paused/);
  await manager.close();
});
