// `npm run bench [-- --quick] [-- --only=ingest,rtt]`: runs every bench module in
// a process of its own (clean heap and event loop, nothing left behind), then
// prints the table and writes bench/results.json, bench/costs.svg and the
// results section of bench/README.md.
import { execFileSync, fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { costsSvg } from './lib/chart.mjs';
import { printTable, updateReadme } from './lib/report.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Each module and the figures it must deliver, in the order of the table. */
const MODULES = [
  { file: 'ingest.mjs', figures: ['push_ingest_ratio'] },
  { file: 'notify.mjs', figures: ['notify_rate_under_burst', 'max_staleness_ms'] },
  { file: 'rtt.mjs', figures: ['request_rtt_ratio', 'request_rtt_p99_ms', 'raw_rtt_p99_ms'] },
  // With --quick, sizes (bytes only), warm-start (in Chromium) and silence (timers
  // too) run alongside recovery, which mostly waits on timers, to stay under a minute.
  {
    file: 'recovery.mjs',
    figures: [
      'resync_after_gap_ms',
      'recover_after_restart_ms',
      'degrade_detect_ms',
      'recover_from_degraded_ms',
    ],
    quickWith: ['sizes.mjs', 'warm-start.mjs', 'silence.mjs'],
  },
  {
    file: 'silence.mjs',
    figures: ['silent_detect_ratio', 'recover_from_silence_ms'],
    quickAlongside: true,
  },
  {
    file: 'reconnects.mjs',
    figures: ['heap_growth_1000_reconnects_kb', 'listener_growth_1000_reconnects'],
  },
  {
    file: 'sizes.mjs',
    figures: [
      'size_core_gz',
      'size_alpine_gz',
      'size_iife_gz',
      'size_persist_gz',
      'size_stream_gz',
      'size_react_gz',
      'size_vue_gz',
      'size_svelte_gz',
      'size_tabs_gz',
    ],
    quickAlongside: true,
  },
  { file: 'fanout.mjs', figures: ['fanout_p99_ms_100', 'fanout_p99_ms_300', 'fanout_p99_ms_1000'] },
  {
    file: 'apply-cost.mjs',
    figures: ['apply_cost_us_1kb', 'apply_cost_us_10kb', 'apply_cost_us_100kb'],
  },
  { file: 'warm-start.mjs', figures: ['warm_start_ms'], quickAlongside: true },
  { file: 'transport.mjs', figures: ['ws_back_after_block_ms', 'reload_on_blocked_ws_ms'] },
  {
    file: 'tabs.mjs',
    figures: ['tabs_server_connections', 'leader_failover_ms', 'follower_lag_ms'],
  },
];

const quick = process.argv.includes('--quick');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const LIMIT_MS = quick ? 60000 : 300000;
const EXIT_GRACE_MS = 10000;

/** Module processes running now (each leads its own process group). */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const pid of running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

/** Runs one module; resolves with its entries (or error entries), never rejects. */
function runModule(mod) {
  const load = Number(loadavg()[0].toFixed(2));
  return new Promise((resolve) => {
    // Detached: the module leads its own process group, so a stuck one can be
    // ended with everything it started (server process, browser).
    const child = fork(here(mod.file), quick ? ['--quick'] : [], {
      execArgv: ['--expose-gc'],
      detached: true,
      stdio: 'inherit',
    });
    running.add(child.pid);
    let result = null;
    let note = null;
    let exitTimer = null;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const limit = setTimeout(() => {
      note = `did not finish within ${LIMIT_MS / 1000} s`;
      killGroup();
    }, LIMIT_MS);
    child.on('message', (msg) => {
      result = msg;
      exitTimer = setTimeout(() => {
        note = `did not exit by itself within ${EXIT_GRACE_MS / 1000} s of reporting (open handles); ended`;
        killGroup();
      }, EXIT_GRACE_MS);
    });
    child.on('exit', (code) => {
      running.delete(child.pid);
      clearTimeout(limit);
      clearTimeout(exitTimer);
      const error =
        result?.error ??
        (result?.entries ? null : (note ?? `exited with code ${code} before reporting`));
      const got = new Map((result?.entries ?? []).map((e) => [e.name, e]));
      const entries = mod.figures.map(
        (name) =>
          got.get(name) ?? {
            name,
            value: null,
            unit: '',
            goal: null,
            met: false,
            error: error ?? 'not reported',
          },
      );
      for (const e of got.values()) if (!mod.figures.includes(e.name)) entries.push(e);
      // Other work on the machine shows up in latency figures: keep the load next to them.
      entries.forEach((e) => (e.load_avg_1m = load));
      if (note) entries.forEach((e) => (e.cleanup = note));
      if (note) console.log(`!! ${mod.file}: ${note}`);
      resolve({ entries, failed: Boolean(error) || Boolean(note) });
    });
  });
}

const started = Date.now();
const entries = [];
let failures = 0;
const wanted = (mod) => !only || only.some((o) => mod.file.startsWith(o));
for (const mod of MODULES) {
  const hasPartner =
    quick &&
    mod.quickAlongside &&
    MODULES.some((m) => m.quickWith?.includes(mod.file) && wanted(m));
  if (!wanted(mod) || hasPartner) continue;
  const partners = quick ? MODULES.filter((m) => mod.quickWith?.includes(m.file) && wanted(m)) : [];
  const t = Date.now();
  console.log(
    `\n== ${[mod, ...partners].map((m) => m.file).join(' + ')}${quick ? ' (quick)' : ''}`,
  );
  const results = await Promise.all([mod, ...partners].map(runModule));
  for (const r of results) {
    entries.push(...r.entries);
    if (r.failed) failures++;
  }
  console.log(`   ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
const order = MODULES.flatMap((m) => m.figures);
const rank = (e) => (order.includes(e.name) ? order.indexOf(e.name) : order.length);
entries.sort((a, b) => rank(a) - rank(b));
const seconds = ((Date.now() - started) / 1000).toFixed(0);
printTable(entries);

/** The library version measured: the commit, and whether src/ had local changes (read-only git). */
function libraryVersion() {
  try {
    const git = (...args) =>
      execFileSync('git', args, {
        cwd: here('..'),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    return `commit ${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'commit unknown';
  }
}

const meta = {
  library: libraryVersion(),
  command: `npm run bench${quick ? ' -- --quick' : ''}${only ? ` -- --only=${only.join(',')}` : ''}`,
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  machine: `Node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model?.trim() ?? 'CPU'}`,
  seconds,
  load: loadavg()
    .map((l) => l.toFixed(1))
    .join(' / '),
};
if (!only) {
  writeFileSync(here('results.json'), JSON.stringify(entries, null, 2) + '\n');
  writeFileSync(
    here('costs.svg'),
    costsSvg(entries, `${meta.command} · ${meta.date} · ${meta.machine}`),
  );
  updateReadme(here('README.md'), entries, meta);
  // The written table is laid out by prettier, as `npm test` checks every file under bench/.
  execFileSync('npx', ['prettier', '--write', here('README.md')], { stdio: 'ignore' });
  console.log(
    `\nwrote bench/results.json, bench/costs.svg and the table in bench/README.md (${seconds} s)`,
  );
}
if (failures) {
  console.log(`${failures} bench module(s) failed`);
  process.exitCode = 1;
}
