// `npm run chaos`: the full chaos run against the built library (dist/), through the
// fault proxy, with a reference server whose world keeps changing. See
// chaos/core.mjs for what is injected and exactly what is checked.
//
//   npm run chaos                                    200 faults, short timing, a random seed (printed)
//   npm run chaos -- --seed=1234 --faults=300        reproduce a run / make it longer
//   npm run chaos -- --timing=default --faults=60    the library's default timing
//   CHAOS_SEED=1234 CHAOS_TIMING=default CHAOS_VERBOSE=1 npm run chaos
//
// --timing=short (the default) uses short timings instead of the library defaults
// (handshake 500 ms, grace 800 ms, poll every 100 ms, liveness 1.5 s, backoff 100-600 ms,
// client timeouts 1-2 s, socket.io reconnect 100-600 ms, Engine.IO ping 500/500 ms) so
// that 200 faults with their settle periods take a few minutes, not an hour.
// --timing=default gives the store no timing option and the clients no timeouts, so the
// library and socket.io run on their own defaults (liveness 30 s, handshake 2 s, reconnect
// 1-5 s, ...), with Engine.IO's ping at the reference server's 25 s / 20 s. Hold times and
// the settle timeout grow with it (settle ~126 s instead of 15 s), so allow about ten
// seconds per fault, and far more when faults fail to converge (each one then waits out
// the settle timeout twice).
// In both, the store client's socket.io Manager gives up after 3 failed reconnections in a
// row (reconnect_failed), and the store must still come back.
// Before the faults the run prints `timing: short` (or `timing: default`) and a line with
// the timings in use. The last line is always `chaos: F faults, C converged, S stale
// applies, L lost events, U unhandled errors`; the exit code is 0 only when C = F,
// S = L = U = 0 and every timer, listener and socket was released.
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { CHAOS_PROFILES, runChaos, printReport } from './core.mjs';
import * as lib from '../dist/index.js';
import { createAgentZeroModel } from '../dist/agent-zero.js';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const seed = Number(arg('seed') ?? process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const faults = Number(arg('faults') ?? process.env.CHAOS_FAULTS ?? 200);
const timing = arg('timing') ?? process.env.CHAOS_TIMING ?? 'short';
const verbose = process.argv.includes('--verbose') || process.env.CHAOS_VERBOSE === '1';
if (
  !Number.isInteger(seed) ||
  !Number.isInteger(faults) ||
  faults < 1 ||
  !Object.hasOwn(CHAOS_PROFILES, timing)
) {
  console.error(
    'usage: node chaos/run.mjs [--seed=<int>] [--faults=<int>] [--timing=short|default] [--verbose]',
  );
  process.exit(2);
}

console.log(
  `chaos seed ${seed} (reproduce the fault sequence with --seed=${seed}), ${faults} faults`,
);
let report;
try {
  report = await runChaos({
    lib,
    createModel: createAgentZeroModel,
    createReferenceServer,
    faults,
    seed,
    timing,
    verbose,
    log: console.log,
  });
} catch (e) {
  console.error(e);
  console.log('chaos: 0 faults, 0 converged, 0 stale applies, 0 lost events, 1 unhandled errors');
  process.exit(1);
}
printReport(report, console.log);
console.log(report.line);
// Exit now: engine.io's server keeps a 30 s closeTimeout timer for a long-polling transport
// it closed while no GET was waiting, even after io.close(); it would only delay the exit.
process.exit(report.ok ? 0 : 1);
