// @ts-check
// examples/quickstart.mjs runs and prints what it promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir, packageDir } from './helpers.mjs';

test('examples/quickstart.mjs', () => {
  const store = join(tempDir(), 'store');
  const run = spawnSync(process.execPath, ['examples/quickstart.mjs', store], { cwd: packageDir, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /event #1: session_created /);
  assert.match(run.stdout, /Created session: [0-9a-f-]{36}/);
  assert.match(run.stdout, /New version: 2/);
  assert.match(run.stdout, /v2: Added payment processing requirements/);
  assert.match(run.stdout, /Lines added: 2, removed: 0/);
  assert.match(run.stdout, /Active or paused sessions with content: 1/);
  assert.match(run.stdout, /Found 0 stale sessions/);
  assert.match(run.stdout, /Total sessions: 1, average versions per session: 2/);
});
