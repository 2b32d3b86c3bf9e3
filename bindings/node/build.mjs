// Builds the addon (build/Release/planning_node.node) with cmake-js against the
// machine's Node.js headers (npm_config_nodedir, default /usr): nothing is
// downloaded. Uses Ninja and ccache when they are installed, at most 2 jobs
// (PLANNING_NODE_JOBS overrides). With CI=true the engine is compiled with
// -DPLANNING_WERROR=ON, as in the repository's own CI build.
//
//   node build.mjs                       compile the engine from this repository
//   node build.mjs --engine-prefix DIR   link the engine installed under DIR instead
//
// Other arguments are passed to cmake-js (e.g. --debug).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const has = (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;

const extra = process.argv.slice(2);
let enginePrefix = '';
const at = extra.indexOf('--engine-prefix');
if (at >= 0) {
  enginePrefix = resolve(extra[at + 1] ?? '');
  extra.splice(at, 2);
}

// Switching between the two engine sources needs a fresh configure.
const cache = join(here, 'build', 'CMakeCache.txt');
const cached = existsSync(cache)
  ? (readFileSync(cache, 'utf8').match(/^PLANNING_NODE_ENGINE_PREFIX:PATH=(.*)$/m)?.[1] ?? '')
  : null;
const command = cached !== null && cached !== enginePrefix ? 'rebuild' : 'compile';

const args = [command, '--out', 'build', '--parallel', process.env.PLANNING_NODE_JOBS ?? '2'];
if (has('ninja')) args.push('-G', 'Ninja');
if (has('ccache')) args.push('--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache');
if (process.env.CI === 'true') args.push('--CDPLANNING_WERROR=ON');
args.push(`--CDPLANNING_NODE_ENGINE_PREFIX=${enginePrefix}`);
args.push(...extra);

const cli = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const env = { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' };
const run = spawnSync(process.execPath, [cli, ...args], { cwd: here, env, stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

// A Node addon is a shared module: the linker leaves undefined symbols for load
// time. Load it with every symbol bound now, so that a missing one fails the build.
const outIndex = args.indexOf('--out');
const addon = join(here, args[outIndex + 1], 'Release', 'planning_node.node');
const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], {
  env: { ...process.env, LD_BIND_NOW: '1' },
  stdio: 'inherit',
});
if (load.status !== 0) {
  console.error(`build.mjs: ${addon} does not load`);
  process.exit(1);
}
console.log(`build.mjs: ${addon} loads`);
