// push_ingest_ratio: state pushes per second a sync store ingests (validate, seq
// check, reduce, coalesced notify) ÷ pushes per second a bare socket.io-client
// listener takes from the same server, in alternating rounds (ABBA).
//
// Server and clients share this process on purpose: the server encodes and
// flushes a whole burst before either client reads a byte, so [first push
// arrives, last push ingested] holds client work only.
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { createNamespacedClient, createSyncStore } from './lib/syncwire.mjs';
import { benchMain } from './lib/module.mjs';
import { pushInjector } from './lib/pushes.mjs';
import { rawHandshake, rawSocket, recordingFactory, startHealthy } from './lib/clients.mjs';
import { entry, fullGc, median, now, sleep, waitFor, withTimeout } from './lib/util.mjs';

/**
 * One measured round on a socket: t0 = the burst's first push arriving at the
 * socket (prependAny runs before every other listener), t1 = the n-th push
 * ingested (the caller reports each one through `ingested()`).
 */
function armRound(socket, n) {
  let t0 = 0;
  let count = 0;
  let resolve;
  const done = new Promise((r) => (resolve = r));
  const first = (event) => {
    if (event !== 'state_push') return;
    t0 = now();
    socket.offAny(first);
  };
  socket.prependAny(first);
  return {
    ingested() {
      count += 1;
      if (count === n) resolve((n - 1) / ((now() - t0) / 1000));
    },
    done,
    cancel: () => socket.offAny(first),
  };
}

/**
 * One session: a fresh store and a fresh bare socket on one server, then
 * `pairs` alternating rounds (store, bare, bare, store, ...). Returns the
 * median pair ratio and the median rates.
 */
async function session({ n, pairs, storeFirst }) {
  const server = await createReferenceServer();
  const inject = pushInjector(server);
  const rec = recordingFactory();
  const client = createNamespacedClient('/state_sync', {
    url: server.url,
    socketFactory: rec.factory,
  });
  const rounds = { store: null, bare: null };
  let notifications = 0;
  // The default reducer (the snapshot replaces the state), counted as it returns.
  const store = createSyncStore({
    client,
    reduce: (_state, snapshot) => {
      rounds.store?.ingested();
      return snapshot;
    },
  });
  store.subscribe((e) => void (e.type === 'state' && notifications++));
  let bare;
  const openBare = async () => {
    bare = await rawSocket(server.url, '/state_sync');
    bare.on('state_push', () => rounds.bare?.ingested());
    await rawHandshake(bare, 'bare');
  };
  try {
    // Which connection is opened first alternates between sessions.
    if (storeFirst) await startHealthy(store);
    await openBare();
    if (!storeFirst) await startHealthy(store);
    await sleep(100); // both initial snapshots delivered
    const sids = { store: inject.sidOf('state-'), bare: inject.sidOf('bare-') };
    const sockets = { store: rec.socket, bare };
    const seq0 = inject.seqOf(sids.store);

    let bytes = 0;
    const round = async (who) => {
      const r = (rounds[who] = armRound(sockets[who], n));
      bytes = inject.burst(sids[who], n).bytes;
      const rate = await withTimeout(r.done, 30000, `${who} burst`).finally(() => r.cancel());
      rounds[who] = null;
      await sleep(2); // the store's coalesced notify
      return rate;
    };

    for (let i = 0; i < 4; i++) await round(i % 2 ? 'bare' : 'store'); // warm-up, not counted
    await fullGc();
    const ratios = [];
    const rates = { store: [], bare: [] };
    for (let i = 0; i < pairs; i++) {
      const got = {};
      for (const who of i % 2 ? ['bare', 'store'] : ['store', 'bare'])
        rates[who].push((got[who] = await round(who)));
      ratios.push(got.store / got.bare);
    }
    const expected = seq0 + n * (pairs + 2);
    await waitFor(() => store.health.lastSeq === expected, { what: `store at seq ${expected}` });
    const h = store.health;
    if (h.mode !== 'HEALTHY' || h.counters.pushesDropped || h.counters.resyncs)
      throw new Error(`store lost pushes: ${JSON.stringify(h)}`);
    return {
      ratio: median(ratios),
      store: median(rates.store),
      bare: median(rates.bare),
      bytes,
      notifications,
    };
  } finally {
    store.stop();
    client.dispose();
    bare?.disconnect();
    await server.close();
  }
}

export async function run({ quick, log }) {
  const n = 250;
  const sessions = quick ? 2 : 9;
  const pairs = quick ? 16 : 60;
  const results = [];
  for (let i = 0; i < sessions; i++) {
    const r = await session({ n, pairs, storeFirst: i % 2 === 0 });
    log(
      `session ${i + 1}: store ${r.store.toFixed(0)}/s, bare ${r.bare.toFixed(0)}/s, ratio ${r.ratio.toFixed(3)}`,
    );
    results.push(r);
  }
  const ratio = median(results.map((r) => r.ratio));
  const bare = median(results.map((r) => r.bare));
  const storeRate = median(results.map((r) => r.store));
  return [
    entry('push_ingest_ratio', ratio, 'ratio', ['>=', 0.9], {
      baseline: Math.round(bare),
      baseline_unit: 'pushes/s, bare listener',
      ratio,
      detail: {
        store_pushes_per_s: Math.round(storeRate),
        bare_pushes_per_s: Math.round(bare),
        store_us_per_push: Number((1e6 / storeRate).toFixed(1)),
        bare_us_per_push: Number((1e6 / bare).toFixed(1)),
        burst: n,
        pairs_per_session: pairs,
        sessions,
        push_bytes: results[0].bytes,
        session_ratios: results.map((r) => Number(r.ratio.toFixed(3))),
      },
    }),
  ];
}

benchMain(import.meta.url, run);
