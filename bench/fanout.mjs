// fanout_p99_ms_{100,300,1000}: p99 latency from one server broadcast (through
// the reference server's manager, as its `fanout` handler does) to delivery at
// each syncwire client's `on('fanout_event')` callback, with 100, 300 and 1,000
// clients connected over 127.0.0.1. The server runs in its own process; all
// clients share this one, so a broadcast's last deliveries wait for the
// earlier ones on this core. Send time is stamped by the server; both
// processes' clocks are aligned over IPC.
import { createNamespacedClient } from './lib/syncwire.mjs';
import { benchMain } from './lib/module.mjs';
import { startServerProcess } from './lib/server-process.mjs';
import { entry, median, percentile, sleep, wallNow, withTimeout } from './lib/util.mjs';

const NS = '/dev_websocket_test';

export async function run({ quick, log }) {
  const steps = [100, 300, 1000];
  const broadcasts = quick ? 5 : 30;
  const server = await startServerProcess();
  const clients = [];
  let current = null; // { i, offset, latencies, left, done }
  const onEvent = ({ data }) => {
    const c = current;
    if (!c || data.i !== c.i) return;
    c.latencies.push(wallNow() - (data.sentAt - c.offset));
    if (--c.left === 0) c.done();
  };
  try {
    const out = [];
    for (const target of steps) {
      // Ramp gently: 20 connects at a time, a pause between batches.
      while (clients.length < target) {
        const batch = Array.from({ length: Math.min(20, target - clients.length) }, () =>
          createNamespacedClient(NS, { url: server.url }),
        );
        clients.push(...batch);
        batch.forEach((c) => c.on('fanout_event', onEvent));
        await withTimeout(
          Promise.all(batch.map((c) => c.connect())),
          30000,
          'connecting a batch of clients',
        );
        await sleep(quick ? 2 : 20);
      }
      const stats = await server.call('stats');
      if (stats.connections !== target)
        throw new Error(`server has ${stats.connections} connections, expected ${target}`);
      const { offset, rtt } = await server.clockOffset();
      const latencies = [];
      const loops = [];
      for (let i = -2; i < broadcasts; i++) {
        // two warm-up broadcasts, not counted
        await sleep(quick ? 20 : 50);
        const c = { i: `${target}-${i}`, offset, latencies: i < 0 ? [] : latencies, left: target };
        const delivered = new Promise((resolve) => (c.done = resolve));
        current = c;
        const sent = await server.call('broadcast', {
          namespace: NS,
          event: 'fanout_event',
          i: c.i,
        });
        if (sent.n !== target) throw new Error(`broadcast reached ${sent.n} of ${target}`);
        if (i >= 0) loops.push(sent.loopMs);
        await withTimeout(delivered, 15000, `broadcast ${c.i}`);
        current = null;
      }
      const p99 = percentile(latencies, 99);
      log(
        `${target} clients: p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (server loop ${median(loops).toFixed(2)} ms, clock offset ${offset.toFixed(3)} ± ${(rtt / 2).toFixed(3)} ms)`,
      );
      out.push(
        entry(`fanout_p99_ms_${target}`, p99, 'ms', null, {
          detail: {
            clients: target,
            broadcasts,
            deliveries: latencies.length,
            p50_ms: Number(percentile(latencies, 50).toFixed(2)),
            max_ms: Number(Math.max(...latencies).toFixed(2)),
            server_broadcast_loop_ms: Number(median(loops).toFixed(2)),
            clock_offset_ms: Number(offset.toFixed(3)),
            clock_uncertainty_ms: Number((rtt / 2).toFixed(3)),
          },
        }),
      );
    }
    return out;
  } finally {
    clients.forEach((c) => c.dispose());
    // Let the server see every disconnect before it closes (bounded).
    for (
      let i = 0;
      i < 100 && (await server.call('stats').catch(() => ({ connections: 0 }))).connections > 0;
      i++
    )
      await sleep(20);
    await server.close();
  }
}

benchMain(import.meta.url, run);
