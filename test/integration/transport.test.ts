// Back to WebSocket after a proxy stopped blocking it, against the real reference server
// through the fault proxy (chaos/fault-proxy.mjs), with the real socket.io-client and the
// default socket factory: its WebSocket probe, the move, and the transport memo.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFaultProxy, type FaultProxy } from '../../chaos/fault-proxy.mjs';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createAgentZeroModel } from '../../src/agent-zero';
import {
  createNamespacedClient,
  createSyncStore,
  type MemoStorage,
  type NamespacedClient,
  type SyncStore,
} from '../../src/index';
import { waitFor } from '../helpers/wait';

interface RefServer {
  url: string;
  stats: { stateRequests: number };
  world: { addChat(name: string): string };
  close(): Promise<void>;
}

let server: RefServer;
let proxy: FaultProxy;
const clients: NamespacedClient[] = [];
const stores: SyncStore<unknown>[] = [];

const memoStorage = (): MemoStorage & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
};

const make = (ns: string, storage: MemoStorage, lines: string[] = []) => {
  const c = createNamespacedClient(ns, {
    url: proxy.url,
    logger: { enabled: ['connect'], sink: (_c, message) => void lines.push(message) },
    // Short probe delays keep the test short; the defaults are tested on fake time.
    websocketProbe: { baseMs: 200, maxMs: 400 },
    transportMemo: { storage },
  });
  clients.push(c);
  return c;
};

beforeEach(async () => {
  server = await createReferenceServer();
  proxy = await createFaultProxy({ target: server.url });
});
afterEach(async () => {
  stores.splice(0).forEach((s) => s.stop());
  clients.splice(0).forEach((c) => c.dispose());
  await proxy.close();
  await server.close();
});

describe('back to WebSocket through a proxy that stops blocking it', () => {
  it('a store on long-polling is moved back to WebSocket and resumes incrementally: no full state, never empty', async () => {
    proxy.blockWebSockets(true);
    const storage = memoStorage();
    const client = make('/state_sync', storage);
    const model = createAgentZeroModel();
    let fullRequests = 0;
    const store = createSyncStore({
      client,
      ...model,
      // A full resync asks with the initial state; a resume with the state shown.
      payload: (state) => {
        if (state === model.initialState) fullRequests++;
        return model.payload(state);
      },
    });
    stores.push(store);
    const shown: number[] = [];
    store.subscribe((e) => {
      if (e.type === 'state') shown.push((e.state as { contexts: unknown[] }).contexts.length);
    });
    server.world.addChat('before the move');
    await store.start();
    await waitFor(() => store.mode === 'HEALTHY');
    expect(client.transport.name).toBe('polling');
    expect(storage.data.size).toBe(1); // WebSocket refused here: remembered
    expect(fullRequests).toBe(1); // the first handshake
    const requests = server.stats.stateRequests;
    const { resyncs } = store.health.counters;

    proxy.blockWebSockets(false);
    await waitFor(() => client.transport.name === 'websocket', 10000);
    await waitFor(() => store.mode === 'HEALTHY');
    expect(client.transport.moves).toBe(1);
    expect(fullRequests).toBe(1); // the move's handshake resumed with the cursors
    expect(store.health.counters.resyncs).toBe(resyncs);
    expect(server.stats.stateRequests).toBe(requests + 1);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((n) => n > 0)).toBe(true); // never an empty state
    expect(storage.data.size).toBe(0); // WebSocket works again: forgotten

    server.world.addChat('after the move');
    await waitFor(() => shown.at(-1) === shown[0]! + 1);
    expect(store.mode).toBe('HEALTHY');
  });

  it('a WebSocket reset by the proxy falls back to long-polling, then comes back; no request is lost', async () => {
    const storage = memoStorage();
    const client = make('/dev_websocket_test', storage);
    await client.connect();
    expect(client.transport.name).toBe('websocket');
    proxy.blockWebSockets(true); // resets the open WebSocket: Socket.IO reconnects on long-polling
    await waitFor(() => client.transport.name === 'polling', 10000);
    expect(storage.data.size).toBe(1);

    // Requests keep coming, with short gaps (the move waits for one), across the lift.
    let stop = false;
    const settled: string[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        const res = await client.request('echo', { i }).then(
          (r) => JSON.stringify(r.results[0]?.data),
          (e: Error) => e.message,
        );
        settled.push(res);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    proxy.blockWebSockets(false);
    await waitFor(() => client.transport.name === 'websocket', 10000);
    const atMove = settled.length;
    await waitFor(() => settled.length >= atMove + 3);
    stop = true;
    await traffic;
    expect(client.transport.moves).toBe(1);
    expect(settled).toEqual(settled.map((_, i) => JSON.stringify({ echo: { i } })));
    expect(storage.data.size).toBe(0);
  });

  it('a client made while the memo remembers the block starts on long-polling and still upgrades when it can', async () => {
    proxy.blockWebSockets(true);
    const storage = memoStorage();
    const first = make('/dev_websocket_test', storage);
    await first.connect();
    expect(first.transport.name).toBe('polling');
    first.dispose();

    // Within the TTL, on the same network: long-polling first, no WebSocket attempt to wait for.
    const lines: string[] = [];
    const second = make('/dev_websocket_test', storage, lines);
    await second.connect();
    expect(lines[0]).toBe('websocket blocked here lately: starting on long-polling');
    expect(second.transport.name).toBe('polling');
    expect(storage.data.size).toBe(1);

    // The network lets WebSockets through again: Engine.IO's upgrade, or the probe, gets there.
    proxy.blockWebSockets(false);
    await waitFor(() => second.transport.name === 'websocket', 10000);
    expect(storage.data.size).toBe(0);
  });
});
