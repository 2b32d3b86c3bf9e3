// @ts-check
// A process killed (SIGKILL) in the middle of writing loses nothing it had
// acknowledged: every write whose promise resolved is in the store after
// reopening, with the exact content, and verify() passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PlanningSessionManager } from 'planning-session-engine';
import { ok, tempDir, packageDir } from './helpers.mjs';

const writer = new URL('./fixtures/crash_writer.mjs', import.meta.url).pathname;

/**
 * Runs the writer until it has acknowledged `acks` writes, kills it, and
 * returns the acknowledged writes.
 * @param {string} dir @param {number} round @param {number} acks
 * @returns {Promise<{ id: string, version: number, tag: string }[]>}
 */
function runAndKill(dir, round, acks) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(round)], { cwd: packageDir });
    let out = '';
    let err = '';
    let killed = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (!killed && out.split('\n').length > acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended by itself (${code}): ${err}`));
      // Complete lines only (a killed writer may leave half a line).
      const lines = out.split('\n').slice(0, -1).filter((l) => l.startsWith('ack '));
      resolve(lines.map((l) => {
        const [, id, version, tag] = l.split(' ');
        return { id, version: Number(version), tag };
      }));
    });
  });
}

test('a process killed mid-write loses nothing acknowledged', async () => {
  const dir = join(tempDir(), 'store');
  /** @type {{ id: string, version: number, tag: string }[]} */
  const acknowledged = [];
  for (let round = 1; round <= 3; round++) acknowledged.push(...(await runAndKill(dir, round, 150 + 40 * round)));
  assert.ok(acknowledged.length >= 3 * 150);

  const opened = await PlanningSessionManager.open(dir);
  const manager = opened.success ? opened.data : assert.fail(`reopens: ${JSON.stringify(opened)}`);
  const report = ok(await manager.verify());
  assert.deepEqual(report.issues, []);
  assert.equal(ok(await manager.getStatistics()).total_sessions, 24);
  for (const { id, version, tag } of acknowledged) {
    const v = ok(await manager.getVersion(id, version));
    assert.ok(v.content.startsWith(`# ${tag}\n`), `version ${version} of ${id} is ${tag}`);
  }
  await manager.close();
});
