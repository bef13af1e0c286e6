// heap_growth_1000_reconnects_kb and listener_growth_1000_reconnects: one client
// + store taken through server-side transport drops (the server closes every
// Engine.IO connection; the client reconnects and the store handshakes back to
// HEALTHY), with a full GC before and after. The server runs in another process,
// so this heap holds only the client side.
import v8 from 'node:v8';
import { createNamespacedClient, createSyncStore } from './lib/syncwire.mjs';
import { createAgentZeroModel } from '../dist/agent-zero.js';
import { benchMain } from './lib/module.mjs';
import { startServerProcess } from './lib/server-process.mjs';
import {
  countSocketListeners,
  countingEnvironment,
  modeWatch,
  recordingFactory,
  startHealthy,
} from './lib/clients.mjs';
import { entry, fullGc, now } from './lib/util.mjs';

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const spaces = () =>
  Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));

export async function run({ quick, log }) {
  const cycles = quick ? 150 : 1000;
  // V8 keeps compiling the reconnect paths for a few hundred cycles (code space
  // grows, no JS object does): measured after a warm-up, so that is not counted.
  const warmup = quick ? 80 : 250;
  // A short push throttle and reconnect delay only make each cycle quick; the code paths are the same.
  const server = await startServerProcess({ pushThrottleMs: 2 });
  const rec = recordingFactory();
  const env = countingEnvironment();
  const client = createNamespacedClient('/state_sync', {
    url: server.url,
    socketFactory: rec.factory,
    socketOptions: { reconnectionDelay: 1, reconnectionDelayMax: 1, randomizationFactor: 0 },
  });
  const store = createSyncStore({ client, ...createAgentZeroModel(), environment: env });
  const watch = modeWatch(store);
  const listeners = () => {
    const c = countSocketListeners(rec.socket);
    return {
      ...c,
      environment: env.listenerCount,
      total: c.socket + c.manager + c.engine + env.listenerCount,
    };
  };
  const cycle = async () => {
    const healthy = watch.next('HEALTHY', { where: (c) => c.from !== 'HEALTHY', timeoutMs: 10000 });
    const dropped = watch.next('DISCONNECTED', { timeoutMs: 10000 });
    await server.call('closeTransports');
    await dropped;
    await healthy;
  };
  try {
    await startHealthy(store);
    for (let i = 0; i < warmup; i++) await cycle();
    await fullGc();
    const heap0 = process.memoryUsage().heapUsed;
    const s0 = spaces();
    const l0 = listeners();
    const t0 = timeouts();
    const start = now();
    for (let i = 0; i < cycles; i++) await cycle();
    const elapsed = now() - start;
    watch.changes.length = 0; // the bench's own record of mode changes is not the store's memory
    await fullGc();
    const heap1 = process.memoryUsage().heapUsed;
    const s1 = spaces();
    const grew = (name) => Math.round(((s1[name] ?? 0) - (s0[name] ?? 0)) / 1024);
    const l1 = listeners();
    const t1 = timeouts();
    const growthKb = (heap1 - heap0) / 1024;
    const h = store.health;
    if (rec.sockets.length !== 1) throw new Error(`the client built ${rec.sockets.length} sockets`);
    log(
      `${cycles} cycles in ${(elapsed / 1000).toFixed(1)} s: heap ${(heap0 / 1048576).toFixed(2)} → ${(heap1 / 1048576).toFixed(2)} MiB (${growthKb.toFixed(1)} KiB), listeners ${JSON.stringify(l0)} → ${JSON.stringify(l1)}, timers ${t0} → ${t1}`,
    );
    return [
      entry('heap_growth_1000_reconnects_kb', growthKb, 'KiB', ['<=', 1024], {
        detail: {
          cycles,
          warmup_cycles: warmup,
          heap_before_kib: Math.round(heap0 / 1024),
          heap_after_kib: Math.round(heap1 / 1024),
          growth_by_space_kib: {
            old: grew('old_space'),
            code: grew('code_space'),
            large_object: grew('large_object_space'),
            new: grew('new_space'),
          },
          ms_per_cycle: Number((elapsed / cycles).toFixed(2)),
          handshakes: h.counters.handshakes,
        },
      }),
      entry('listener_growth_1000_reconnects', l1.total - l0.total, 'listeners', ['<=', 0], {
        detail: {
          cycles,
          before: l0,
          after: l1,
          active_timers_before: t0,
          active_timers_after: t1,
        },
      }),
    ];
  } finally {
    store.stop();
    client.dispose();
    await server.close();
  }
}

benchMain(import.meta.url, run);
