// Recovery times with the library's DEFAULT timing (no `timing` option, default
// client options), each the median of independent runs on a fresh server,
// client and store (Agent Zero model), started HEALTHY:
//   resync_after_gap_ms       the push that reveals a seq gap arrives → HEALTHY with the server's state
//   recover_after_restart_ms  faults.restart() → HEALTHY on the new epoch with the server's state
//   degrade_detect_ms         faults.blockTransports(true) (connection dropped, every reconnect refused) → DEGRADED
//   recover_from_degraded_ms  faults.blockTransports(false) → HEALTHY with the server's state
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { createNamespacedClient, createSyncStore } from './lib/syncwire.mjs';
import { createAgentZeroModel } from '../dist/agent-zero.js';
import { benchMain } from './lib/module.mjs';
import { assertConverged, modeWatch, startHealthy } from './lib/clients.mjs';
import { entry, median, now, seededRandom, sleep } from './lib/util.mjs';

/** A fresh server + default client + default store, HEALTHY; `fn` gets them and returns measurements. */
async function withSetup(fn) {
  const server = await createReferenceServer();
  const client = createNamespacedClient('/state_sync', { url: server.url });
  const store = createSyncStore({ client, ...createAgentZeroModel() });
  const watch = modeWatch(store);
  try {
    await startHealthy(store);
    await sleep(30);
    return await fn({ server, store, watch });
  } finally {
    store.stop();
    client.dispose();
    await server.close();
  }
}

const scenarios = {
  gap: () =>
    withSetup(async ({ server, store, watch }) => {
      const reveal = watch.next('HANDSHAKE_PENDING', {
        where: (c) => c.reason.startsWith('seq gap'),
      });
      const healthy = watch.next('HEALTHY');
      server.faults.injectGap();
      server.world.notify('after the gap'); // its push skips one seq
      const t0 = (await reveal).at; // same macrotask as the push's arrival
      const t1 = (await healthy).at;
      assertConverged(server, store, 'gap');
      return { resync_after_gap_ms: t1 - t0 };
    }),

  restart: () =>
    withSetup(async ({ server, store, watch }) => {
      const before = server.runtime.id;
      const healthy = watch.next('HEALTHY', { where: () => store.health.epoch !== before });
      const t0 = now();
      void server.faults.restart();
      const t1 = (await healthy).at;
      assertConverged(server, store, 'restart');
      return { recover_after_restart_ms: t1 - t0 };
    }),

  degraded: (holdMs) =>
    withSetup(async ({ server, store, watch }) => {
      const degraded = watch.next('DEGRADED');
      const t0 = now();
      server.faults.blockTransports(true);
      const t1 = (await degraded).at;
      await sleep(holdMs); // lifts at a random point of the reconnect backoff
      const healthy = watch.next('HEALTHY', { timeoutMs: 20000 });
      const t2 = now();
      server.faults.blockTransports(false);
      const t3 = (await healthy).at;
      assertConverged(server, store, 'recover');
      return { degrade_detect_ms: t1 - t0, recover_from_degraded_ms: t3 - t2 };
    }),
};

/** `runs` calls of fn(i), `concurrency` at a time, starts staggered by `staggerMs`. */
async function runMany(runs, concurrency, staggerMs, fn) {
  const out = [];
  for (let i = 0; i < runs; i += concurrency) {
    const wave = Array.from({ length: Math.min(concurrency, runs - i) }, (_, k) =>
      sleep(k * staggerMs).then(() => fn(i + k)),
    );
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

export async function run({ quick, log }) {
  const runs = quick ? 3 : 10;
  // Full runs one at a time; --quick runs the slow scenarios' runs side by side (staggered), each on its own server.
  const concurrency = quick ? runs : 1;
  const random = seededRandom(7);
  const holds = Array.from({ length: runs }, () => Math.round(random() * (quick ? 1000 : 2000)));
  const results = {};
  const add = (list) =>
    list.forEach((r) => Object.entries(r).forEach(([k, v]) => (results[k] ??= []).push(v)));
  add(await runMany(runs, 1, 0, () => scenarios.gap()));
  if (quick) {
    // Both slow scenarios at once, too (each run has its own server).
    const [a, b] = await Promise.all([
      runMany(runs, concurrency, 331, () => scenarios.restart()),
      sleep(167).then(() => runMany(runs, concurrency, 331, (i) => scenarios.degraded(holds[i]))),
    ]);
    add(a);
    add(b);
  } else {
    add(await runMany(runs, 1, 0, () => scenarios.restart()));
    add(await runMany(runs, 1, 0, (i) => scenarios.degraded(holds[i])));
  }
  const goals = {
    resync_after_gap_ms: 100,
    recover_after_restart_ms: 1500,
    degrade_detect_ms: 2500,
    recover_from_degraded_ms: 6000,
  };
  return Object.entries(goals).map(([name, goal]) => {
    const xs = results[name];
    log(`${name}: median ${median(xs).toFixed(1)} ms of ${xs.map((x) => x.toFixed(0)).join(', ')}`);
    return entry(name, median(xs), 'ms', ['<=', goal], {
      detail: {
        runs: xs.length,
        min_ms: Number(Math.min(...xs).toFixed(1)),
        max_ms: Number(Math.max(...xs).toFixed(1)),
        concurrency: name === 'resync_after_gap_ms' ? 1 : concurrency,
      },
    });
  });
}

benchMain(import.meta.url, run);
