// request_rtt_ratio: p50 round trip of client.request() ÷ p50 of a raw
// socket.emitWithAck(), same server, same handler (`echo` on
// /dev_websocket_test), same payload; sequential, in alternating blocks.
import { createReferenceServer } from '../demo/server/reference-server.mjs';
import { createNamespacedClient } from './lib/syncwire.mjs';
import { benchMain } from './lib/module.mjs';
import { rawSocket, wirePayload } from './lib/clients.mjs';
import { entry, fullGc, now, percentile } from './lib/util.mjs';

const NS = '/dev_websocket_test';
const DATA = { text: 'x'.repeat(200), n: 42, list: [1, 2, 3], nested: { ok: true } };

export async function run({ quick, log }) {
  const total = quick ? 1000 : 5000;
  const block = quick ? 100 : 250;
  const server = await createReferenceServer();
  const client = createNamespacedClient(NS, { url: server.url });
  let raw;
  try {
    await client.connect();
    raw = await rawSocket(server.url, NS);
    const lib = async () => {
      const t = now();
      const res = await client.request('echo', DATA);
      if (!res.results[0]?.ok) throw new Error('echo failed');
      return now() - t;
    };
    const bare = async () => {
      const t = now();
      // The same wire payload the library builds: { ts, data, correlationId }.
      const res = await raw.emitWithAck('echo', wirePayload(DATA));
      if (!res.results[0]?.ok) throw new Error('echo failed');
      return now() - t;
    };
    for (let i = 0; i < (quick ? 100 : 300); i++) {
      await lib(); // warm-up
      await bare();
    }
    await fullGc();
    const samples = { lib: [], raw: [] };
    for (let done = 0, b = 0; done < total; done += block, b++) {
      for (const who of b % 2 ? ['raw', 'lib'] : ['lib', 'raw']) {
        const fn = who === 'lib' ? lib : bare;
        for (let i = 0; i < block; i++) samples[who].push(await fn());
      }
    }
    const p = (who, q) => percentile(samples[who], q);
    const ratio = p('lib', 50) / p('raw', 50);
    log(
      `p50 ${p('lib', 50).toFixed(3)} vs ${p('raw', 50).toFixed(3)} ms (×${ratio.toFixed(3)}), p99 ${p('lib', 99).toFixed(3)} vs ${p('raw', 99).toFixed(3)} ms`,
    );
    const n = samples.lib.length;
    return [
      entry('request_rtt_ratio', ratio, 'ratio', ['<=', 1.1], {
        baseline: p('raw', 50),
        baseline_unit: 'ms, raw emitWithAck p50',
        ratio,
        detail: {
          request_p50_ms: Number(p('lib', 50).toFixed(4)),
          raw_p50_ms: Number(p('raw', 50).toFixed(4)),
          requests_each: n,
          payload_bytes: JSON.stringify(DATA).length,
        },
      }),
      entry('request_rtt_p99_ms', p('lib', 99), 'ms', null, {
        baseline: p('raw', 99),
        baseline_unit: 'ms, raw p99',
        ratio: p('lib', 99) / p('raw', 99),
      }),
      entry('raw_rtt_p99_ms', p('raw', 99), 'ms', null),
    ];
  } finally {
    client.dispose();
    raw?.disconnect();
    await server.close();
  }
}

benchMain(import.meta.url, run);
