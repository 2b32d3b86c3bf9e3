// Test harness for `planctl serve`: a temporary store filled through planctl,
// and the server started on a free loopback port (and stopped after).
// $PLANCTL names the planctl binary (CTest sets it).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PLANCTL = process.env.PLANCTL;
if (!PLANCTL) throw new Error('set PLANCTL to the planctl binary');

export const XSS = '<script>alert(1)</script>';

// Runs planctl on `db`; returns stdout (throws on a non-zero exit).
export function planctl(db, args, input) {
  return execFileSync(PLANCTL, ['--db', db, ...args], {
    input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' },
  });
}

export function planctlJson(db, args, input) {
  return JSON.parse(planctl(db, ['--json', ...args], input));
}

// A store with a few sessions: "Roadmap 2027" with three versions, a paused
// one, a converted one, and one whose every field is hostile.
export function makeStore() {
  const dir = mkdtempSync(join(tmpdir(), 'planctl-serve-'));
  const db = join(dir, 'store');
  const roadmap = planctlJson(db, ['create', '--title', 'Roadmap 2027', '--repo-path', '/src/app',
    '--by', 'alice', '--content', '-', '--metadata', '{"team":"core"}'],
  '# Roadmap\n\n- ship the console\n- keep the log\n\nIntro paragraph.\n').id;
  planctl(db, ['update', roadmap, '--content', '-', '--summary', 'add goals', '--by', 'bob'],
    '# Roadmap\n\n- ship the console\n- keep the log\n- measure it\n\nIntro paragraph.\n');
  planctl(db, ['update', roadmap, '--content', '-', '--summary', 'reword', '--by', 'alice'],
    '# Roadmap 2027\n\n- ship the web console\n- keep the log\n- measure it\n\nIntro paragraph.\n');
  const paused = planctlJson(db, ['create', '--title', 'Storage audit', '--by', 'carol']).id;
  planctl(db, ['pause', paused, '--reason', 'waiting', '--by', 'carol']);
  const converted = planctlJson(db, ['create', '--title', 'Billing revamp', '--by', 'dave',
    '--content', '-'], 'Plan.\n').id;
  planctl(db, ['convert', converted, '--project', 'PRJ-7', '--work-item', 'W-1', '--by', 'dave']);
  const hostile = planctlJson(db, ['create', '--title', XSS, '--description', XSS,
    '--repo-path', XSS, '--by', XSS, '--metadata', JSON.stringify({ note: XSS }), '--content', '-'],
  `# Heading\n\n${XSS}\n\n<img src=x onerror=alert(1)>\n\ninline <b onclick="alert(1)">bold</b>\n\n[link](javascript:alert(1))\n`).id;
  return { dir, db, roadmap, paused, converted, hostile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// Starts `planctl serve` on 127.0.0.1 with a free port; resolves once it
// listens. stop() sends SIGTERM and waits for the exit.
export function startServer(db, extra = []) {
  const proc = spawn(PLANCTL, ['--db', db, 'serve', '--listen', '127.0.0.1:0', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${stderr}`)); });
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/listening on (http:\/\/[^ ]+?)\/ /);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
      resolve({
        url: m[1], proc, stdout: () => stdout, stderr: () => stderr,
        stop: async () => { proc.kill('SIGTERM'); return exited; },
      });
    });
  });
}

// Writes `content` to a file in `dir` (for --content FILE).
export function writeContent(dir, name, content) {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
