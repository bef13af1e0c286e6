// The sync store's generics: state, snapshot and request data inferred from the options, the
// Agent Zero model fully typed, and wrong reducers compile errors.
import { describe, expectTypeOf, test } from 'vitest';
import {
  createAgentZeroModel,
  type AgentZeroState,
  type SnapshotRequestV1,
  type SnapshotV1,
} from '../../src/agent-zero';
import {
  getNamespacedClient,
  createSyncStore,
  type ReduceContext,
  type SyncStore,
  type SyncStoreOptions,
} from '../../src/index';

const client = getNamespacedClient('/state_sync');

interface Counter {
  count: number;
}
interface CounterSnapshot {
  delta: number;
}

describe('createSyncStore', () => {
  test('the state comes from initialState, the snapshot from reduce, without casts', () => {
    const store = createSyncStore({
      client,
      initialState: { count: 0 },
      reduce: (state, snapshot: CounterSnapshot, context) => {
        expectTypeOf(state).toEqualTypeOf<{ count: number }>();
        expectTypeOf(context).toEqualTypeOf<ReduceContext>();
        return { count: state.count + snapshot.delta };
      },
      payload: (state) => ({ since: state.count }),
      hasChanged: (state, snapshot) => {
        expectTypeOf(snapshot).toEqualTypeOf<CounterSnapshot>();
        return snapshot.delta !== 0 || state.count < 0;
      },
    });
    expectTypeOf(store).toEqualTypeOf<SyncStore<{ count: number }>>();
    expectTypeOf(store.state.count).toEqualTypeOf<number>();
  });

  test('explicit type arguments: <State, Snapshot, Payload>', () => {
    const store = createSyncStore<Counter, CounterSnapshot>({
      client,
      initialState: { count: 0 },
      reduce: (state, snapshot) => {
        expectTypeOf(snapshot).toEqualTypeOf<CounterSnapshot>();
        return { count: state.count + snapshot.delta };
      },
    });
    expectTypeOf(store.state).toEqualTypeOf<Counter>();
    expectTypeOf<SyncStoreOptions<Counter, CounterSnapshot, { since: number }>['payload']>()
      .parameter(0)
      .toEqualTypeOf<Counter>();
  });

  test('wrong state, snapshot or payload types are errors', () => {
    createSyncStore<Counter, CounterSnapshot>({
      client,
      // @ts-expect-error: the snapshot has no `count`
      reduce: (state, snapshot) => ({ count: snapshot.count }),
    });
    createSyncStore<Counter, CounterSnapshot>({
      client,
      // @ts-expect-error: reduce returns a Counter
      reduce: (state) => ({ count: String(state.count) }),
    });
    createSyncStore<Counter, CounterSnapshot, { since: number }>({
      client,
      // @ts-expect-error: the request data is { since: number }
      payload: () => ({ since: 'now' }),
    });
    // @ts-expect-error: the initial state is a Counter
    createSyncStore<Counter>({ client, initialState: { count: '0' } });
  });

  test('without a model: the snapshot replaces a Record<string, unknown> state', () => {
    const store = createSyncStore({ client });
    expectTypeOf(store.state).toEqualTypeOf<Record<string, unknown>>();
  });
});

describe('the Agent Zero model', () => {
  test('createSyncStore({ client, ...createAgentZeroModel() }) is fully typed', () => {
    const model = createAgentZeroModel();
    const store = createSyncStore({ client, ...model });
    expectTypeOf(store).toEqualTypeOf<SyncStore<AgentZeroState>>();
    expectTypeOf(store.state.contexts[0]!.id).toEqualTypeOf<string>();
    expectTypeOf(model.reduce).parameter(1).toEqualTypeOf<SnapshotV1>();
    expectTypeOf(model.payload).returns.toEqualTypeOf<SnapshotRequestV1>();
  });

  test("a reduce wrapping the model's reads SnapshotV1", () => {
    const model = createAgentZeroModel();
    createSyncStore({
      client,
      ...model,
      reduce: (state, snapshot: SnapshotV1, context) => {
        expectTypeOf(snapshot.logs[0]!.no).toEqualTypeOf<number>();
        return model.reduce(state, snapshot, context);
      },
    });
    createSyncStore({
      client,
      ...model,
      // @ts-expect-error: the model's reduce takes a SnapshotV1, not any object
      reduce: (state, snapshot: { other: true }, context) => model.reduce(state, snapshot, context),
    });
  });
});
