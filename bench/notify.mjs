// notify_rate_under_burst and max_staleness_ms: 1,000 well-formed pushes per
// second for 5 s into a HEALTHY store; how often subscribers are notified, and
// the longest wait from a push arriving at the socket to the first notification
// whose state includes it.
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { createNamespacedClient, createSyncStore } from './lib/syncwire.mjs';
import { benchMain } from './lib/module.mjs';
import { pushInjector } from './lib/pushes.mjs';
import { recordingFactory, startHealthy } from './lib/clients.mjs';
import { entry, now, percentile, sleep, waitFor } from './lib/util.mjs';

export async function run({ quick, log }) {
  const rate = 1000;
  const durationMs = quick ? 2000 : 5000;
  const server = await createReferenceServer();
  const inject = pushInjector(server);
  const rec = recordingFactory();
  const client = createNamespacedClient('/state_sync', {
    url: server.url,
    socketFactory: rec.factory,
  });
  const store = createSyncStore({ client }); // default reducer: the state is the pushed snapshot
  try {
    await startHealthy(store);
    await sleep(50);
    const sid = inject.sidOf('state-');
    const firstSeq = inject.seqOf(sid) + 1;
    const arrivals = new Map(); // seq → arrival time
    rec.socket.prependAny((event, env) => {
      if (event === 'state_push' && env?.data?.seq >= firstSeq) arrivals.set(env.data.seq, now());
    });
    const notifications = [];
    const staleness = [];
    let covered = firstSeq - 1;
    store.subscribe((e) => {
      if (e.type !== 'state') return;
      const t = now();
      notifications.push(t);
      const seq = e.state.bench_seq ?? 0;
      if (seq <= covered) return;
      for (let s = covered + 1; s <= seq; s++)
        if (arrivals.has(s)) staleness.push(t - arrivals.get(s));
      covered = seq;
    });
    const sent = await inject.stream(sid, rate, durationMs);
    await waitFor(() => covered === sent.lastSeq, {
      what: 'the last push notified',
      timeoutMs: 5000,
    });
    const times = [...arrivals.values()];
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    const notifyRate = notifications.length / span;
    const maxStale = Math.max(...staleness);
    const h = store.health;
    if (h.mode !== 'HEALTHY' || h.counters.pushesDropped || staleness.length !== sent.sent)
      throw new Error(`pushes lost: ${JSON.stringify(h)}`);
    log(
      `${sent.sent} pushes at ${(sent.sent / span).toFixed(0)}/s → ${notifications.length} notifications (${notifyRate.toFixed(0)}/s), max staleness ${maxStale.toFixed(1)} ms`,
    );
    return [
      entry('notify_rate_under_burst', notifyRate, 'notifications/s', ['<=', 100], {
        detail: {
          pushes: sent.sent,
          push_rate_per_s: Math.round(sent.sent / span),
          duration_ms: durationMs,
          notifications: notifications.length,
          pushes_per_notification: Number((sent.sent / notifications.length).toFixed(2)),
        },
      }),
      entry('max_staleness_ms', maxStale, 'ms', ['<=', 50], {
        detail: {
          p50_ms: Number(percentile(staleness, 50).toFixed(2)),
          p99_ms: Number(percentile(staleness, 99).toFixed(2)),
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
