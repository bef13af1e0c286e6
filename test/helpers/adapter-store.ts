// A HEALTHY store on the fake harness, for the framework adapters' tests: pushes that the test
// applies now or with their notification, and a count of the subscriptions open on it.
import type { SyncStore } from '../../src/index';
import { envelope } from './fake-socket';
import { storeHarness } from './store-harness';

export type AdapterState = { a?: number; b?: number; list?: number[] };

/** A HEALTHY store showing `{ a: 1, b: 1, list: [1, 2] }`. */
export async function adapterStore() {
  const harness = storeHarness<AdapterState>();
  await harness.healthy({ a: 1, b: 1, list: [1, 2] });
  let active = 0;
  // The store as the adapter sees it, with its subscriptions counted.
  const store: SyncStore<AdapterState> = {
    ...harness.store,
    get mode() {
      return harness.store.mode;
    },
    get state() {
      return harness.store.state;
    },
    get health() {
      return harness.store.health;
    },
    subscribe(fn) {
      active++;
      const off = harness.store.subscribe(fn);
      let done = false;
      return () => {
        if (!done) active--;
        done = true;
        off();
      };
    },
  };
  let seq = 2;
  /** Applies a push now: the state changes at once, subscribers hear of it on the next tick. */
  const pushNow = (snapshot: AdapterState) =>
    harness
      .socket()
      .serverEmit('state_push', envelope({ runtime_epoch: 'E1', seq: ++seq, snapshot }));
  /** A push and the notification that follows it. */
  const push = async (snapshot: AdapterState) => {
    pushNow(snapshot);
    await harness.clock.advance(20);
  };
  /** The socket drops: the mode changes, the state stays. */
  const drop = async () => {
    harness.socket().drop();
    await harness.clock.advance(0);
  };
  return { harness, store, pushNow, push, drop, active: () => active };
}

/** Equal arrays of numbers, element by element. */
export const shallowEqual = (x: number[] | undefined, y: number[] | undefined) =>
  x === y || (!!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]));
