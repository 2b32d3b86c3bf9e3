// Benchmark: the seed-style workload through this package, through Emmett with
// its SQLite event store, and through the engine's C++ API — side by side, in
// one run, on the same disk.
//
//   cd bindings/node && npm run build && (cd bench && npm ci) && node bench/bench.mjs
//   options: --sessions N --single N --rounds N --reads N --histories N --depth N --repeat N
//
// Workload (1 KiB markdown documents, 16 lines; every write durable):
//   setup     N sessions, and 20 sessions with DEPTH versions each (not timed)
//   single    durable updates, one at a time (each awaited)
//   1,000     1,000 updates in flight at once (rounds of Promise.all; the C++
//             API: one apply_batch of 1,000)
//   reads     session reads, one at a time (Emmett: aggregateStream folding the
//             session's events; it has no read model built in)
//   histories full version histories of the 20 deep sessions (Emmett: readStream)
//
// Emmett's SQLite store opens a connection per call (WAL; synchronous is
// SQLite's default FULL, checked below) and rejects concurrent appends to one
// file (most fail with a version error), so its "1,000" figure is 1,000 appends
// issued through a queue, one at a time: what a caller has to do with it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const require = createRequire(import.meta.url);

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '200' },
    single: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    reads: { type: 'string', default: '3000' },
    histories: { type: 'string', default: '300' },
    depth: { type: 'string', default: '50' },
    'emmett-rounds': { type: 'string', default: '1' },
    'emmett-single': { type: 'string', default: '200' },
    repeat: { type: 'string', default: '3' },
  },
});
const cfg = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]));

// --- shared -------------------------------------------------------------------

let counter = 0;
function contentKib(n) {
  let text = '';
  for (let line = 0; line < 16; line++) text += `- item ${n}.${line} `.padEnd(63, 'x') + '\n';
  return text;
}
function rng(seed) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
}
async function timed(ops, fn) {
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return ops / seconds;
}
const dataRoot = join(here, '.data', `run-${process.pid}`);
rmSync(dataRoot, { recursive: true, force: true });
mkdirSync(dataRoot, { recursive: true });

// --- the C++ API ---------------------------------------------------------------

function cxx() {
  const build = join(packageDir, 'build');
  const target = spawnSync('cmake', ['--build', build, '--target', 'planning_cxx_bench', '-j2'], { stdio: 'inherit' });
  if (target.status !== 0) throw new Error('cannot build planning_cxx_bench (run `npm run build` in bindings/node first)');
  const binary = join(build, 'planning_cxx_bench');
  const run = spawnSync(binary, [join(dataRoot, 'cxx'), cfg.sessions, cfg.single, cfg.rounds, cfg.reads, cfg.histories, cfg.depth].map(String), {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`planning_cxx_bench failed: ${run.stderr}`);
  const r = JSON.parse(run.stdout);
  return { single: r.single_updates_per_s, concurrent: r.batch_updates_per_s, reads: r.reads_per_s, histories: r.histories_per_s };
}

// --- this package ----------------------------------------------------------------

async function nodePackage() {
  const { PlanningSessionManager } = require(packageDir);
  const opened = await PlanningSessionManager.open(join(dataRoot, 'node'));
  if (!opened.success) throw new Error(opened.error.message);
  const m = opened.data;
  const must = (r) => {
    if (!r.success) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.data;
  };
  const setup = m.batch();
  for (let i = 0; i < cfg.sessions; i++) setup.create({ title: `Session ${i}`, repository_path: '/projects/bench', initial_content: contentKib(counter++) });
  const ids = must(await m.applyBatch(setup)).map((r) => must(r).id);
  const deepBatch = m.batch();
  for (let i = 0; i < 20; i++) deepBatch.create({ title: `History ${i}`, initial_content: contentKib(counter++) });
  const deep = must(await m.applyBatch(deepBatch)).map((r) => must(r).id);
  const versions = m.batch();
  for (let v = 1; v < cfg.depth; v++) for (const id of deep) versions.update(id, { content: contentKib(counter++), change_summary: 'autosave' });
  must(await m.applyBatch(versions));

  const out = {};
  out.single = await timed(cfg.single, async () => {
    for (let i = 0; i < cfg.single; i++) must(await m.update(ids[i % ids.length], { content: contentKib(counter++), change_summary: 'autosave' }));
  });
  out.concurrent = await timed(cfg.rounds * 1000, async () => {
    for (let round = 0; round < cfg.rounds; round++) {
      const promises = [];
      for (let i = 0; i < 1000; i++) promises.push(m.update(ids[i % ids.length], { content: contentKib(counter++), change_summary: 'autosave' }));
      for (const r of await Promise.all(promises)) must(r);
    }
  });
  let next = rng(42);
  out.reads = await timed(cfg.reads, async () => {
    for (let i = 0; i < cfg.reads; i++) must(await m.get(ids[next() % ids.length]));
  });
  next = rng(42);
  out.reads_concurrent = await timed(cfg.reads, async () => {
    for (let i = 0; i < cfg.reads; i += 64) {
      const batch = [];
      for (let k = i; k < Math.min(i + 64, cfg.reads); k++) batch.push(m.get(ids[next() % ids.length]));
      for (const r of await Promise.all(batch)) must(r);
    }
  });
  next = rng(7);
  let read = 0;
  out.histories = await timed(cfg.histories, async () => {
    for (let i = 0; i < cfg.histories; i++) read += must(await m.getVersions(deep[next() % deep.length])).length;
  });
  if (read !== cfg.histories * cfg.depth) throw new Error(`read ${read} versions, expected ${cfg.histories * cfg.depth}`);
  await m.close();
  return out;
}

// --- Emmett + SQLite ------------------------------------------------------------------

let emmettRetries = 0;
let emmettUnhandled = 0;
process.on('unhandledRejection', (reason) => {
  if (/SQLITE_(BUSY|MISUSE)/.test(String(reason))) emmettUnhandled++;
  else throw reason;
});

async function emmett() {
  const { getSQLiteEventStore } = await import('@event-driven-io/emmett-sqlite');
  const sqlite3 = (await import('sqlite3')).default;
  const fileName = join(dataRoot, 'emmett.db');
  const store = getSQLiteEventStore({ fileName });
  const evolve = (state, event) => {
    switch (event.type) {
      case 'SessionCreated':
        return { ...event.data, status: 'active', current_version: 1 };
      case 'SessionUpdated':
        return { ...state, content: event.data.content, current_version: state.current_version + 1, updated_by: event.data.updated_by };
      default:
        return state;
    }
  };
  const stream = (id) => `planning_session-${id}`;
  // Now and then an Emmett write fails with SQLITE_BUSY ("cannot commit
  // transaction - SQL statements in progress"), sometimes as an unhandled
  // rejection inside Emmett (seen in this benchmark's runs; each connection
  // sends `PRAGMA journal_mode = WAL` without waiting for it, a likely cause).
  // A caller would retry, so this does too, and counts the retries.
  const retrying = async (fn) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= 5 || !/SQLITE_BUSY/.test(String(error))) throw error;
        emmettRetries++;
      }
    }
  };
  const create = (id, title) =>
    retrying(() => store.appendToStream(stream(id), [{ type: 'SessionCreated', data: { id, title, repository_path: '/projects/bench', content: contentKib(counter++) } }]));
  const update = (id) =>
    retrying(() => store.appendToStream(stream(id), [{ type: 'SessionUpdated', data: { content: contentKib(counter++), change_summary: 'autosave' } }]));

  const ids = [];
  for (let i = 0; i < cfg.sessions; i++) {
    ids.push(`s${i}`);
    await create(`s${i}`, `Session ${i}`);
  }
  const deep = [];
  for (let i = 0; i < 20; i++) {
    deep.push(`h${i}`);
    const events = [{ type: 'SessionCreated', data: { id: `h${i}`, title: `History ${i}`, content: contentKib(counter++) } }];
    for (let v = 1; v < cfg.depth; v++) events.push({ type: 'SessionUpdated', data: { content: contentKib(counter++), change_summary: 'autosave' } });
    await retrying(() => store.appendToStream(stream(`h${i}`), events));
  }

  // The settings Emmett's connections get: WAL, and synchronous FULL (2).
  const db = new sqlite3.Database(fileName);
  const pragma = (sql) => new Promise((resolve, reject) => db.get(sql, (e, row) => (e ? reject(e) : resolve(Object.values(row)[0]))));
  const settings = { journal_mode: await pragma('PRAGMA journal_mode'), synchronous: await pragma('PRAGMA synchronous'), sqlite: await pragma('SELECT sqlite_version()') };
  db.close();
  if (settings.journal_mode !== 'wal' || settings.synchronous !== 2) throw new Error(`Emmett's SQLite is not WAL + FULL: ${JSON.stringify(settings)}`);

  // Concurrent appends to one file, in a process of their own (Emmett leaves
  // some of the resulting errors unhandled).
  const probe = spawnSync(process.execPath, [join(here, 'emmett_probe.mjs'), join(dataRoot, 'emmett-probe.db')], { encoding: 'utf8' });
  const concurrent_appends_of_100 = probe.status === 0 ? JSON.parse(probe.stdout) : { error: probe.stderr.slice(0, 200) };

  const out = { settings, concurrent_appends_of_100 };
  out.single = await timed(cfg['emmett-single'], async () => {
    for (let i = 0; i < cfg['emmett-single']; i++) await update(ids[i % ids.length]);
  });
  out.concurrent = await timed(cfg['emmett-rounds'] * 1000, async () => {
    for (let round = 0; round < cfg['emmett-rounds']; round++) {
      // 1,000 updates requested at once, appended through a queue (concurrent appends fail).
      let chain = Promise.resolve();
      const promises = [];
      for (let i = 0; i < 1000; i++) {
        const id = ids[i % ids.length];
        chain = chain.then(() => update(id));
        promises.push(chain);
      }
      await Promise.all(promises);
    }
  });
  let next = rng(42);
  out.reads = await timed(cfg.reads, async () => {
    for (let i = 0; i < cfg.reads; i++) {
      const r = await store.aggregateStream(stream(ids[next() % ids.length]), { evolve, initialState: () => null });
      if (!r.state) throw new Error('no state');
    }
  });
  out.reads_concurrent = null; // concurrent reads share Emmett's one connection variable unsafely: not measured
  next = rng(7);
  let read = 0;
  out.histories = await timed(cfg.histories, async () => {
    for (let i = 0; i < cfg.histories; i++) {
      const r = await store.readStream(stream(deep[next() % deep.length]));
      read += r.events.map((e, k) => ({ version_number: k + 1, content: e.data.content })).length;
    }
  });
  if (read !== cfg.histories * cfg.depth) throw new Error(`Emmett read ${read} versions, expected ${cfg.histories * cfg.depth}`);
  return out;
}

// --- run ---------------------------------------------------------------------------
// The three run in turn, `repeat` times (the disk's fsync latency drifts while
// other work shares the machine); each cell of the table is the median.

const pkg = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
console.log(`config: ${JSON.stringify(cfg)}; data on ${dataRoot}`);
const runs = { c: [], n: [], e: [] };
for (let r = 1; r <= cfg.repeat; r++) {
  counter = 0;
  rmSync(dataRoot, { recursive: true, force: true });
  mkdirSync(dataRoot, { recursive: true });
  runs.c.push(cxx());
  console.log(`run ${r} C++ API      `, JSON.stringify(runs.c.at(-1)));
  runs.n.push(await nodePackage());
  console.log(`run ${r} Node package `, JSON.stringify(runs.n.at(-1)));
  runs.e.push(await emmett());
  console.log(`run ${r} Emmett+SQLite`, JSON.stringify(runs.e.at(-1)));
}
rmSync(dataRoot, { recursive: true, force: true });
const median = (list, key) => {
  const xs = list.map((x) => x[key]).filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return xs.length ? xs[Math.floor(xs.length / 2)] : null;
};
const medians = (list) => Object.fromEntries(['single', 'concurrent', 'reads', 'reads_concurrent', 'histories'].map((k) => [k, median(list, k)]));
const c = medians(runs.c);
const n = medians(runs.n);
const e = { ...medians(runs.e), settings: runs.e[0].settings, concurrent_appends_of_100: runs.e[0].concurrent_appends_of_100 };

const f = (x) => (x === null || x === undefined ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a');
const rows = [
  ['durable single updates, one at a time', 'single', 'vs C++ ≥ 0.8×'],
  ['1,000 concurrent updates (C++: batch of 1,000)', 'concurrent', 'vs Emmett ≥ 5×'],
  ['session reads, one at a time', 'reads', 'vs Emmett ≥ 10×'],
  ['session reads, 64 in flight', 'reads_concurrent', ''],
  [`full version histories (${cfg.depth} versions)`, 'histories', 'vs Emmett ≥ 3×'],
];
console.log('\n| workload | C++ API /s | Node package /s | Emmett+SQLite /s | Node ÷ C++ | Node ÷ Emmett | goal |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const [label, key, goal] of rows) {
  const cx = key === 'reads_concurrent' ? null : c[key];
  console.log(`| ${label} | ${f(cx)} | ${f(n[key])} | ${f(e[key])} | ${ratio(n[key], cx)} | ${ratio(n[key], e[key])} | ${goal} |`);
}
console.log(
  `\nversions: node ${process.version}, planning-session-engine ${JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version} (engine ${require(packageDir).versions.engine}), ` +
    `@event-driven-io/emmett ${pkg('@event-driven-io/emmett')}, @event-driven-io/emmett-sqlite ${pkg('@event-driven-io/emmett-sqlite')}, ` +
    `sqlite3 ${pkg('sqlite3')} (SQLite ${e.settings.sqlite}); Emmett journal_mode=${e.settings.journal_mode}, synchronous=${e.settings.synchronous} (FULL); ` +
    `100 concurrent Emmett appends: ${JSON.stringify(e.concurrent_appends_of_100)}; ` +
    `Emmett SQLITE_BUSY retries: ${emmettRetries}, unhandled SQLite rejections inside Emmett: ${emmettUnhandled}`,
);
