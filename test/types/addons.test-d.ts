// The add-on entries' types: requestStream with and without an event map, and the Alpine
// plugin's typed accessors.
import Alpine from 'alpinejs';
import { describe, expectTypeOf, test } from 'vitest';
import { createAgentZeroModel, type AgentZeroState } from '../../src/agent-zero';
import { syncStore, syncwirePlugin, type AlpineSyncStore } from '../../src/alpine';
import { createSyncStore, getNamespacedClient } from '../../src/index';
import { requestStream, type StreamEvent } from '../../src/stream';

interface StreamEvents {
  server: {
    stream_event: { state: string; seq: number; text?: string };
    stream_error: { state: 'error'; reason: string };
  };
  client: { stream_start: { data: { count: number } } };
}

describe('requestStream', () => {
  test('with an event map: data and stream events typed from the names', () => {
    const client = getNamespacedClient<StreamEvents>('/dev_websocket_test');
    const one = requestStream(client, 'stream_start', { count: 3 }, { replyEvent: 'stream_event' });
    expectTypeOf(one).toEqualTypeOf<
      AsyncIterableIterator<StreamEvent<{ state: string; seq: number; text?: string }>>
    >();
    const both = requestStream(
      client,
      'stream_start',
      { count: 1 },
      {
        replyEvent: ['stream_event', 'stream_error'],
      },
    );
    expectTypeOf(both).toEqualTypeOf<
      AsyncIterableIterator<
        StreamEvent<
          { state: string; seq: number; text?: string } | { state: 'error'; reason: string }
        >
      >
    >();
  });

  test('with an event map: wrong names and data are errors', () => {
    const client = getNamespacedClient<StreamEvents>('/dev_websocket_test');
    // @ts-expect-error: count is a number
    requestStream(client, 'stream_start', { count: '3' }, { replyEvent: 'stream_event' });
    // @ts-expect-error: not a client event of the map
    requestStream(client, 'stream_stop', { count: 3 }, { replyEvent: 'stream_event' });
    // @ts-expect-error: not a server event of the map
    requestStream(client, 'stream_start', { count: 3 }, { replyEvent: 'stream_evnt' });
  });

  test('without a map: any names, a per-call event type', () => {
    const client = getNamespacedClient('/dev_websocket_test');
    const plain = requestStream(client, 'stream_start', { count: 3 }, { replyEvent: 'x' });
    expectTypeOf(plain).toEqualTypeOf<
      AsyncIterableIterator<StreamEvent<Record<string, unknown>>>
    >();
    const typed = requestStream<{ text: string }>(client, 'a', null, { replyEvent: ['b', 'c'] });
    expectTypeOf(typed).toEqualTypeOf<AsyncIterableIterator<StreamEvent<{ text: string }>>>();
  });
});

describe('syncwire/alpine', () => {
  const store = createSyncStore({
    client: getNamespacedClient('/state_sync'),
    ...createAgentZeroModel(),
  });

  test('plugin.alpineStore(Alpine) is typed by the plugin store', () => {
    const plugin = syncwirePlugin({ store, name: 'a0' });
    Alpine.plugin(plugin);
    const sync = plugin.alpineStore(Alpine);
    expectTypeOf(sync).toEqualTypeOf<AlpineSyncStore<AgentZeroState>>();
    expectTypeOf(sync.state.logs).toEqualTypeOf<AgentZeroState['logs']>();
  });

  test('syncStore<S>(Alpine, name?) for code without the plugin object', () => {
    const sync = syncStore<AgentZeroState>(Alpine);
    expectTypeOf(sync.state.context).toEqualTypeOf<string>();
    expectTypeOf(sync.start).returns.toEqualTypeOf<Promise<void>>();
    // @ts-expect-error: not a field of AgentZeroState
    void sync.state.nope;
  });
});
