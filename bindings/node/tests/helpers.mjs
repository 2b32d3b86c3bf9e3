// @ts-check
// Shared test helpers: a fresh store directory per test, removed afterwards.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { PlanningSessionManager } from 'planning-session-engine';

/** The package's directory (tests run child processes there). */
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** @type {string[]} */
const made = [];

/** A new empty directory under the system temp dir (removed at exit). */
export function tempDir(prefix = 'planning-node-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/**
 * Opens a manager on a fresh store and asserts that it opened.
 * @param {import('planning-session-engine').ManagerOptions} [options]
 */
export async function openFresh(options) {
  const dir = join(tempDir(), 'store');
  const opened = await PlanningSessionManager.open(dir, options);
  assert.ok(opened.success, opened.success ? '' : opened.error.message);
  return { manager: opened.data, dir };
}

/**
 * Unwraps a successful result (fails the test on an error result).
 * @template T
 * @param {import('planning-session-engine').Result<T>} result
 * @returns {T}
 */
export function ok(result) {
  if (!result.success) assert.fail(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.data;
}

/**
 * Asserts an error result with `code`; returns its message.
 * @param {import('planning-session-engine').Result<unknown>} result
 * @param {string} code
 */
export function fails(result, code) {
  if (result.success) assert.fail(`expected error ${code}, got success`);
  assert.equal(result.error.code, code, result.error.message);
  assert.equal(typeof result.error.message, 'string');
  assert.ok(result.error.message.length > 0);
  return result.error.message;
}

/**
 * The head sequence of the manager's log.
 * @param {import('planning-session-engine').PlanningSessionManager} manager
 */
export async function head(manager) {
  return ok(await manager.headSequence());
}

/**
 * LMDB's last committed transaction id, read from the two meta pages of
 * data.mdb (MDB_meta.mm_txnid at byte 144 of each meta page): each durable
 * commit adds one.
 * @param {string} storeDir
 * @param {number} pageSize
 */
export function lmdbTxnId(storeDir, pageSize) {
  const bytes = readFileSync(join(storeDir, 'data.mdb'));
  const a = bytes.readBigUInt64LE(144);
  const b = bytes.readBigUInt64LE(pageSize + 144);
  return a > b ? a : b;
}
