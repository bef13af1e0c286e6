// The client's event maps: names, payloads, data and results inferred from the event name;
// wrong ones are compile errors; a client without a map keeps the untyped signatures.
import { assertType, describe, expectTypeOf, test } from 'vitest';
import {
  createClientRegistry,
  createNamespacedClient,
  createSyncStore,
  getNamespacedClient,
  type NamespacedClient,
  type RequestResponse,
  type ServerEnvelope,
} from '../../src/index';

interface DevEvents {
  server: { server_restart: { runtimeId: string }; ticker: { n: number } };
  client: {
    echo: { data: { hello: number }; result: { hello: number } };
    ping: { result: { pong: true } };
    note: { data?: { text: string } };
  };
}

const typed = getNamespacedClient<DevEvents>('/dev_websocket_test');
const untyped = getNamespacedClient('/dev_websocket_test');

describe('a client with an event map', () => {
  test('on() and off() infer the payload from the event name', () => {
    typed.on('server_restart', (envelope) => {
      expectTypeOf(envelope).toEqualTypeOf<ServerEnvelope<{ runtimeId: string }>>();
      expectTypeOf(envelope.data.runtimeId).toEqualTypeOf<string>();
    });
    const onTick = ({ data }: ServerEnvelope<{ n: number }>) => data.n;
    typed.on('ticker', onTick);
    typed.off('ticker', onTick);
  });

  test('on() and off() refuse names and payload types the map does not have', () => {
    // @ts-expect-error: not a server event of the map
    typed.on('server_restrat', () => {});
    // @ts-expect-error: the payload is { runtimeId: string }
    typed.on('server_restart', (envelope: ServerEnvelope<{ runtimeId: number }>) => envelope);
    const onTick = ({ data }: ServerEnvelope<{ n: number }>) => data.n;
    // @ts-expect-error: a ticker callback is no server_restart callback
    typed.off('server_restart', onTick);
    // @ts-expect-error: a client event is not something the server sends
    typed.on('echo', () => {});
    // @ts-expect-error: a typed client takes no per-call payload type
    typed.on<{ other: string }>('server_restart', () => {});
  });

  test('onPayload() takes the map names; the payload stays unknown (nothing checked it)', () => {
    typed.onPayload('ticker', (payload) => expectTypeOf(payload).toEqualTypeOf<unknown>());
    // @ts-expect-error: not a server event of the map
    typed.onPayload('state_push', () => {});
  });

  test('request() types data and results from the event name', async () => {
    const response = await typed.request('echo', { hello: 1 }, { timeoutMs: 1500 });
    expectTypeOf(response).toEqualTypeOf<RequestResponse<{ hello: number }>>();
    expectTypeOf(response.results[0]!.data).toEqualTypeOf<{ hello: number } | undefined>();
    // An event without data: none to pass; a result type of its own.
    expectTypeOf(typed.request('ping')).resolves.toEqualTypeOf<RequestResponse<{ pong: true }>>();
    // Optional data: with or without; no result type, so the untyped default.
    assertType<Promise<RequestResponse<Record<string, unknown>>>>(typed.request('note'));
    assertType<Promise<RequestResponse>>(typed.request('note', { text: 'hi' }));
  });

  test('request() refuses wrong names and data', () => {
    // @ts-expect-error: hello is a number
    void typed.request('echo', { hello: 'world' });
    // @ts-expect-error: echo needs its data
    void typed.request('echo');
    // @ts-expect-error: not a client event of the map
    void typed.request('ehco', { hello: 1 });
    // @ts-expect-error: ping carries no data
    void typed.request('ping', { extra: 1 });
    // @ts-expect-error: a typed client takes no per-call result type
    void typed.request<{ other: string }>('echo', { hello: 1 });
  });

  test('emit() types data from the event name', () => {
    expectTypeOf(typed.emit('echo', { hello: 2 }, { confirm: false })).toEqualTypeOf<
      Promise<void>
    >();
    void typed.emit('note');
    // @ts-expect-error: hello is a number
    void typed.emit('echo', { hello: true });
    // @ts-expect-error: not a client event of the map
    void typed.emit('server_restart', { runtimeId: 'r' });
  });

  test('createNamespacedClient and a registry take the map too', () => {
    const made = createNamespacedClient<DevEvents>('/dev', { url: 'http://127.0.0.1:9' });
    expectTypeOf(made).toEqualTypeOf<NamespacedClient<DevEvents>>();
    const fromRegistry = createClientRegistry().get<DevEvents>('/dev');
    expectTypeOf(fromRegistry).toEqualTypeOf<NamespacedClient<DevEvents>>();
    // @ts-expect-error: a misspelt side is no event map
    getNamespacedClient<{ srever: { a: { b: 1 } } }>('/dev');
  });

  test('a map with one side typed leaves the other untyped', () => {
    const half = getNamespacedClient<{ server: { ticker: { n: number } } }>('/dev');
    half.on('ticker', ({ data }) => expectTypeOf(data.n).toEqualTypeOf<number>());
    // @ts-expect-error: the server side is typed
    half.on('anything', () => {});
    // The client side is not: any name, today's defaults and per-call result types.
    assertType<Promise<RequestResponse<{ x: 1 }>>>(half.request<{ x: 1 }>('anything', { a: 1 }));
  });

  test('a typed client is a client: the sync store takes it', () => {
    assertType<NamespacedClient>(typed);
    createSyncStore({ client: typed });
  });
});

describe('a client without an event map (as before)', () => {
  test('any event name, Record<string, unknown> payloads and results', async () => {
    untyped.on('whatever', ({ data }) =>
      expectTypeOf(data).toEqualTypeOf<Readonly<Record<string, unknown>>>(),
    );
    const response = await untyped.request('whatever', { any: 'thing' });
    expectTypeOf(response).toEqualTypeOf<RequestResponse<Record<string, unknown>>>();
    void untyped.emit('whatever');
    untyped.onPayload('whatever', (payload) => expectTypeOf(payload).toEqualTypeOf<unknown>());
  });

  test('per-call payload and result types', async () => {
    untyped.on<{ runtimeId: string }>('server_restart', ({ data }) =>
      expectTypeOf(data.runtimeId).toEqualTypeOf<string>(),
    );
    const cb = (envelope: ServerEnvelope<{ n: number }>) => envelope.data.n;
    untyped.on('ticker', cb);
    untyped.off('ticker', cb);
    const { results } = await untyped.request<{ hello: number }>('echo', { hello: 1 });
    expectTypeOf(results[0]!.data).toEqualTypeOf<{ hello: number } | undefined>();
  });

  test('data must still be an object', () => {
    // @ts-expect-error: data is an object (or null)
    void untyped.request('echo', 'hello');
    // @ts-expect-error: a payload type is an object
    untyped.on<string>('echo', () => {});
  });
});
