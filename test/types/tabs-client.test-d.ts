// syncwire/tabs: the shared store is a SyncStore (so it goes wherever one does), its state is
// inferred as createSyncStore's, and a client with an event map types its `client`.
import { assertType, describe, expectTypeOf, test } from 'vitest';
import { createAgentZeroModel, type AgentZeroState } from '../../src/agent-zero';
import {
  getNamespacedClient,
  type RequestResponse,
  type ServerEnvelope,
  type SyncStore,
} from '../../src/index';
import {
  createSharedSyncStore,
  type SharedHealth,
  type SharedSyncStore,
  type TabRole,
} from '../../src/tabs';

interface DevEvents {
  server: { ticker: { n: number } };
  client: { echo: { data: { hello: number }; result: { hello: number } } };
}

describe('createSharedSyncStore', () => {
  test('is a SyncStore, with the state inferred from the options', () => {
    const store = createSharedSyncStore({
      channel: 'app',
      client: getNamespacedClient('/state_sync'),
      initialState: { count: 0 },
      reduce: (state, snapshot: { delta: number }) => ({ count: state.count + snapshot.delta }),
    });
    expectTypeOf(store.state).toEqualTypeOf<{ count: number }>();
    assertType<SyncStore<{ count: number }>>(store);
    expectTypeOf(store.role).toEqualTypeOf<TabRole>();
    expectTypeOf(store.health).toEqualTypeOf<SharedHealth>();
    expectTypeOf(store.health.role).toEqualTypeOf<TabRole>();
  });

  test('takes the Agent Zero model with no cast', () => {
    const store = createSharedSyncStore({
      channel: 'a0',
      client: getNamespacedClient('/state_sync'),
      ...createAgentZeroModel(),
    });
    assertType<SharedSyncStore<AgentZeroState>>(store);
  });

  test("a typed client types the shared store's client", () => {
    const store = createSharedSyncStore({
      channel: 'dev',
      client: getNamespacedClient<DevEvents>('/dev_websocket_test'),
    });
    store.client.on('ticker', (envelope) => {
      expectTypeOf(envelope).toEqualTypeOf<ServerEnvelope<{ n: number }>>();
    });
    expectTypeOf(store.client.request('echo', { hello: 1 })).toEqualTypeOf<
      Promise<RequestResponse<{ hello: number }>>
    >();
    // @ts-expect-error: not a client event of the map
    void store.client.request('ehco', { hello: 1 });
    // @ts-expect-error: the data is { hello: number }
    void store.client.request('echo', { hello: 'x' });
  });

  test('the channel name is required', () => {
    // @ts-expect-error: no channel
    createSharedSyncStore({ client: getNamespacedClient('/state_sync') });
  });
});
