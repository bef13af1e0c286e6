// Found by a review of the sync store against the real reference server (Socket.IO on 127.0.0.1, port 0). Each test failed before its fix (kept as regression tests).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createAgentZeroModel, type AgentZeroState } from '../../src/agent-zero';
import {
  createNamespacedClient,
  createSyncStore,
  type NamespacedClient,
  type SyncStore,
} from '../../src/index';
import { countingClock } from '../helpers/counting-clock';
import { fakeEnvironment } from '../helpers/store-harness';
import { waitFor } from '../helpers/wait';

interface RefServer {
  url: string;
  stats: { connections: number; stateRequests: number; polls: number };
  close(): Promise<void>;
}

let server: RefServer;
let client: NamespacedClient;
let store: SyncStore<AgentZeroState>;
const FAST = {
  handshakeTimeoutMs: 400,
  connectGraceMs: 500,
  pollIntervalMs: 100,
  backoffBaseMs: 100,
  backoffMaxMs: 400,
  livenessMs: 30000,
};

beforeEach(async () => {
  server = await createReferenceServer();
  client = createNamespacedClient('/state_sync', {
    url: server.url,
    clock: countingClock(),
    socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 300 },
    retry: { baseMs: 50, maxMs: 300 },
  });
  store = createSyncStore({
    client,
    ...createAgentZeroModel({ timezone: 'UTC' }),
    environment: fakeEnvironment(),
    timing: FAST,
  });
});
afterEach(async () => {
  store?.stop();
  client?.dispose();
  await server.close();
});

describe('start() twice, against the reference server', () => {
  it('one state_request per connection, however many times start() was called', async () => {
    void store.start();
    await store.start(); // the Alpine plugin's start plus the page's own
    await waitFor(() => store.mode === 'HEALTHY');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.stats.stateRequests).toBe(1); // before the fix: 2 (both connect listeners handshake)
    expect(store.health.counters.handshakes).toBe(1);
  });
});
