// apply_cost_us_{1kb,10kb,100kb}: CPU time per push for a snapshot of that size
// to go through the real client and store (envelope validation, seq check,
// Agent Zero reducer, notify scheduling), in a tight loop on a fake SocketLike
// passed through the public socketFactory option. The same loop into a bare
// listener on the same fake socket is the baseline, subtracted.
import { createNamespacedClient, createSyncStore } from './lib/syncwire.mjs';
import { createAgentZeroModel } from '../dist/agent-zero.js';
import { World } from '../demo/server/world.mjs';
import { benchMain } from './lib/module.mjs';
import { fakeSocketFactory } from './lib/fake-socket.mjs';
import { entry, median, now, sleep, waitFor } from './lib/util.mjs';

/** A world with one chat whose full snapshot is about `kb` KiB of JSON. */
function snapshotOf(kb) {
  const world = new World({ seed: false });
  const chat = world.addChat('apply cost');
  const request = { context: chat, log_from: 0, notifications_from: 0, timezone: 'UTC' };
  const line = 'The agent reads the request, calls a tool and writes the answer. ';
  while (JSON.stringify(world.buildSnapshot(request)).length < kb * 1024) {
    world.appendLog(chat, { type: 'agent', heading: 'Agent 0: working', content: line.repeat(4) });
  }
  return { chat, text: JSON.stringify(world.buildSnapshot(request)) };
}

/** A client + store on a fake socket, HEALTHY; `push(seq, snapshot)` delivers one state_push. */
async function fakeStore(model) {
  const factory = fakeSocketFactory();
  const client = createNamespacedClient('/state_sync', {
    url: 'http://127.0.0.1:9',
    auth: {},
    socketFactory: factory,
  });
  const store = createSyncStore({ client, ...model });
  await store.start();
  await waitFor(() => factory.last?.period, { what: 'handshake' });
  const socket = factory.last;
  const push = (seq, snapshot) =>
    socket.fire('state_push', {
      handlerId: 'bench',
      eventId: `e-${seq}`,
      correlationId: socket.period,
      ts: '2026-01-01T00:00:00.000Z',
      data: { runtime_epoch: socket.epoch, seq, snapshot },
    });
  push(2, {});
  await waitFor(() => store.mode === 'HEALTHY', { what: 'HEALTHY' });
  return {
    store,
    push,
    close: () => {
      store.stop();
      client.dispose();
    },
  };
}

/** µs per push (median over rounds) for `batch` pushes fired back to back into `deliver`. */
async function timeLoop(deliver, pool, batch, rounds) {
  const perPush = [];
  let seq = 3;
  for (let r = 0; r < rounds + 2; r++) {
    globalThis.gc?.(); // rounds start from the same clean heap
    const t = now();
    for (let i = 0; i < batch; i++, seq++) deliver(seq, pool[seq % pool.length]);
    if (r >= 2) perPush.push(((now() - t) * 1000) / batch); // the first two rounds warm the JIT
    await sleep(2); // the coalesced notify runs
  }
  return median(perPush);
}

export async function run({ quick, log }) {
  const rounds = quick ? 4 : 15;
  const out = [];
  for (const kb of [1, 10, 100]) {
    const batch = Math.round((quick ? 2500 : 8000) / kb ** 0.75);
    const { chat, text } = snapshotOf(kb);
    // Fresh objects, as socket.io-client would hand over after JSON.parse.
    const pool = Array.from({ length: 32 }, () => JSON.parse(text));

    const model = createAgentZeroModel({ timezone: 'UTC' });
    model.selected = chat;
    const a0 = await fakeStore(model);
    const storeUs = await timeLoop(a0.push, pool, batch, rounds);
    const ok =
      a0.store.mode === 'HEALTHY' &&
      a0.store.state.logs.length > 0 &&
      a0.store.health.counters.pushesDropped === 0;
    a0.close();
    if (!ok) throw new Error(`the store did not apply the ${kb} KB pushes`);

    const plain = await fakeStore({}); // default reducer: the snapshot replaces the state
    const defaultUs = await timeLoop(plain.push, pool, batch, rounds);
    plain.close();

    let received = 0;
    const bareUs = await timeLoop(
      (seq, snapshot) => {
        received += seq && snapshot ? 1 : 0; // a bare listener: takes the envelope, nothing else
      },
      pool,
      batch,
      rounds,
    );
    if (received !== batch * (rounds + 2)) throw new Error('bare loop lost pushes');
    // For scale: what decoding the push off the wire costs (JSON.parse of its text).
    const decodeUs = await timeLoop(() => JSON.parse(text), pool, Math.max(20, batch >> 2), rounds);

    const value = storeUs - bareUs;
    log(
      `${kb} KB (${(text.length / 1024).toFixed(1)} KiB): store ${storeUs.toFixed(2)} µs/push (default reducer ${defaultUs.toFixed(2)}), bare ${bareUs.toFixed(3)}, JSON.parse ${decodeUs.toFixed(1)} µs`,
    );
    out.push(
      entry(`apply_cost_us_${kb}kb`, value, 'µs/push', null, {
        baseline: Number(bareUs.toFixed(3)),
        baseline_unit: 'µs/push, bare listener on the same fake socket (subtracted)',
        detail: {
          store_with_agent_zero_reducer_us: Number(storeUs.toFixed(2)),
          store_with_default_reducer_us: Number((defaultUs - bareUs).toFixed(2)),
          wire_decode_us: Number(decodeUs.toFixed(1)),
          snapshot_bytes: text.length,
          log_items: pool[0].logs.length,
          pushes_per_round: batch,
          rounds,
        },
      }),
    );
  }
  return out;
}

benchMain(import.meta.url, run);
