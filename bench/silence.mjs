// A silent push channel: the socket stays connected and answers pings, but the server
// pushes nothing (faults.silencePushes). Default timing except `livenessMs: 2000`; each
// run on a fresh reference server, client and store (Agent Zero model), started HEALTHY
// with the world changing every TICK_MS, so pushes flow until the silence and the state
// keeps moving during it:
//   silent_detect_ratio      (store leaves HEALTHY with 'push channel silent') − (the last
//                            push it applied), ÷ livenessMs; the worst run
//   recover_from_silence_ms  faults.silencePushes(false) → HEALTHY with the server's state; the median
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { createNamespacedClient, createSyncStore } from './lib/syncwire.mjs';
import { createAgentZeroModel } from '../dist/agent-zero.js';
import { benchMain } from './lib/module.mjs';
import { assertConverged, modeWatch, startHealthy } from './lib/clients.mjs';
import { entry, median, now, seededRandom, sleep } from './lib/util.mjs';

const LIVENESS_MS = 2000;
/** The world changes this often (a notification), so a push follows every TICK_MS. */
const TICK_MS = 250;
/** The reason the machine gives when an audit finds the state moved on without a push (onAudited). */
const SILENT_REASON = 'push channel silent';

/** Resolves with the store's first mode change away from HEALTHY from now on. */
function leavesHealthy(store, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`still ${store.mode} ${timeoutMs} ms into the silence`));
    }, timeoutMs);
    const off = store.subscribe((e) => {
      if (e.type !== 'mode' || e.from !== 'HEALTHY') return;
      clearTimeout(timer);
      off();
      resolve({ at: now(), to: e.to, reason: e.reason });
    });
  });
}

/**
 * One run. The world starts changing `offsetMs` (0..TICK_MS) after HEALTHY, so pushes
 * fall anywhere relative to the store's own timers; `holdMs` (0..livenessMs) puts the
 * silence anywhere in the store's liveness window, `phaseMs` (0..TICK_MS) anywhere
 * between two pushes. Pushes come back `liftMs`
 * after the detection (`afterDegraded` false: while the handshake the silence started
 * waits for its period's first push), or `liftMs` after that handshake failed and the
 * store went DEGRADED (`afterDegraded` true: polling, maybe with a retry handshake out).
 */
async function silentRun({ offsetMs, holdMs, phaseMs, liftMs, afterDegraded }) {
  const server = await createReferenceServer();
  let ticker = null;
  // When the store applied its last push: the reducer runs with source 'push' only for a
  // push the machine accepted, in the same macrotask as the machine's step.
  let lastPushAt = -Infinity;
  let pushWaiter = null;
  const model = createAgentZeroModel();
  const reduce = (state, snapshot, ctx) => {
    if (ctx.source === 'push') {
      lastPushAt = now();
      pushWaiter?.();
    }
    return model.reduce(state, snapshot, ctx);
  };
  const nextPush = () => new Promise((resolve) => (pushWaiter = resolve));
  const client = createNamespacedClient('/state_sync', { url: server.url });
  // The silence is reported (TIMEOUT, then the failed handshake's): expected here, so
  // listened for rather than printed by the client's fallback warning.
  const errors = [];
  client.onError((e) => void errors.push(e.code));
  const store = createSyncStore({
    client,
    ...model,
    reduce,
    timing: { livenessMs: LIVENESS_MS },
  });
  const watch = modeWatch(store);
  try {
    await startHealthy(store);
    const pollsHealthy = server.stats.polls;
    await sleep(offsetMs);
    let ticks = 0;
    ticker = setInterval(() => server.world.notify(`tick ${++ticks}`), TICK_MS);
    await sleep(holdMs);
    await nextPush();
    pushWaiter = null;
    await sleep(phaseMs);
    if (store.mode !== 'HEALTHY') throw new Error(`${store.mode} before the silence`);
    // While pushes flowed no audit was needed (a push every TICK_MS < livenessMs), so the
    // last proof of the channel is the last push, not a poll.
    if (server.stats.polls !== pollsHealthy)
      throw new Error('the store polled while pushes flowed: the last proof may be a poll');

    const left = leavesHealthy(store, 3 * LIVENESS_MS + 2000);
    const silencedAt = now();
    server.faults.silencePushes(true);
    const detected = await left;
    if (detected.reason !== SILENT_REASON || !errors.includes('TIMEOUT'))
      throw new Error(`left HEALTHY for "${detected.reason}", not "${SILENT_REASON}" (TIMEOUT)`);
    // A push already on the wire when the switch flipped is applied after it: that one
    // is the last proof then.
    const lastProofAt = lastPushAt;
    const audits = server.stats.polls - pollsHealthy;

    if (afterDegraded) {
      // The handshake's period never gets its first push: DEGRADED handshakeTimeoutMs after its ack.
      await watch.next('DEGRADED', { where: (c) => c.from === 'HANDSHAKE_PENDING' });
    }
    const handshakes = store.health.counters.handshakes;
    await sleep(liftMs);
    if (store.mode === 'HEALTHY') throw new Error('HEALTHY again while pushes were silenced');
    // Where the lift lands: a retry handshake sent while DEGRADED leaves the mode DEGRADED.
    const liftMode =
      store.mode === 'DEGRADED' && store.health.counters.handshakes > handshakes
        ? 'DEGRADED (retry handshake out)'
        : store.mode;
    const healthy = watch.next('HEALTHY');
    // The world stops changing, so the state shown at HEALTHY can be compared with the
    // server's exactly; the one change below is what the first push after the lift carries.
    clearInterval(ticker);
    ticker = null;
    const liftedAt = now();
    server.faults.silencePushes(false);
    server.world.notify('after the silence');
    const healthyAt = (await healthy).at;
    assertConverged(server, store, 'recover');
    return {
      detectMs: detected.at - lastProofAt,
      fromSilenceMs: detected.at - silencedAt,
      audits,
      recoverMs: healthyAt - liftedAt,
      liftMode,
    };
  } finally {
    if (ticker) clearInterval(ticker);
    watch.off();
    store.stop();
    client.dispose();
    await server.close();
  }
}

export async function run({ quick, log }) {
  const runs = quick ? 3 : 10;
  const random = seededRandom(13);
  // Every other run lifts the silence after the store went DEGRADED.
  const plans = Array.from({ length: runs }, (_, i) => ({
    offsetMs: Math.round(random() * TICK_MS),
    holdMs: Math.round(random() * LIVENESS_MS),
    phaseMs: Math.round(random() * TICK_MS),
    afterDegraded: i % 2 === 1,
    // Pending: within the default handshakeTimeoutMs (2000). DEGRADED: within the first
    // retry's backoff (250–500 ms) and the period it opens.
    liftMs: Math.round(random() * (i % 2 === 1 ? 1000 : 1800)),
  }));
  const results = [];
  for (const plan of plans) {
    const r = await silentRun(plan);
    log(
      `offset ${plan.offsetMs}, hold ${plan.holdMs} + ${plan.phaseMs} ms: detected ${r.detectMs.toFixed(0)} ms after the last push ` +
        `(${r.fromSilenceMs.toFixed(0)} after the silence began, ${r.audits} audit poll(s)); ` +
        `lifted ${plan.liftMs} ms later in ${r.liftMode} → HEALTHY in ${r.recoverMs.toFixed(0)} ms`,
    );
    results.push(r);
  }

  const ratios = results.map((r) => r.detectMs / LIVENESS_MS);
  const fromSilence = results.map((r) => r.fromSilenceMs / LIVENESS_MS);
  const worst = Math.max(...ratios);
  const fmt = (x) => x.toFixed(3);
  const detect = entry('silent_detect_ratio', worst, 'ratio', ['<=', 1.05], {
    note: `median ${fmt(median(ratios))}; from silence on: worst ${fmt(Math.max(...fromSilence))}, median ${fmt(median(fromSilence))}`,
    detail: {
      runs,
      liveness_ms: LIVENESS_MS,
      tick_ms: TICK_MS,
      worst_ratio: Number(fmt(worst)),
      median_ratio: Number(fmt(median(ratios))),
      detect_ms: results.map((r) => Math.round(r.detectMs)),
      from_silence_worst_ratio: Number(fmt(Math.max(...fromSilence))),
      from_silence_median_ratio: Number(fmt(median(fromSilence))),
      from_silence_ms: results.map((r) => Math.round(r.fromSilenceMs)),
      audit_polls: results.map((r) => r.audits),
    },
  });
  const recover = results.map((r) => r.recoverMs);
  // Median per place the lift landed: the recovery path differs (see README).
  const byMode = {};
  for (const r of results) (byMode[r.liftMode] ??= []).push(r.recoverMs);
  const modeMedians = Object.fromEntries(
    Object.entries(byMode).map(([m, xs]) => [
      m,
      { runs: xs.length, median_ms: Math.round(median(xs)) },
    ]),
  );
  const back = entry('recover_from_silence_ms', median(recover), 'ms', ['<=', 500], {
    note: `max ${Math.max(...recover).toFixed(0)} ms; lifted in ${Object.entries(modeMedians)
      .map(([m, x]) => `${m} ×${x.runs} (median ${x.median_ms} ms)`)
      .join(', ')}`,
    detail: {
      runs,
      min_ms: Number(Math.min(...recover).toFixed(1)),
      max_ms: Number(Math.max(...recover).toFixed(1)),
      recover_ms: results.map((r) => Math.round(r.recoverMs)),
      by_mode_at_lift: modeMedians,
    },
  });
  log(`silent_detect_ratio: worst ${fmt(worst)}, ${detect.note}`);
  log(`recover_from_silence_ms: median ${median(recover).toFixed(1)} ms, ${back.note}`);
  return [detect, back];
}

benchMain(import.meta.url, run);
