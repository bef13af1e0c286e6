// Found by a review of the sync store (store.ts / machine.ts): lifecycle bugs; each test failed before its fix (kept as regression tests).
import { describe, expect, it } from 'vitest';
import type { ReduceContext } from '../../src/index';
import { flush } from '../helpers/fake-clock';
import { storeHarness } from '../helpers/store-harness';

type Log = { items: number[]; cursor: number };
// A delta reducer (like Agent Zero's log): a full resync starts from initialState, later snapshots append.
const logReduce = (s: Log, snap: object, _ctx: ReduceContext): Log => {
  const d = snap as { items?: number[]; cursor?: number };
  return { items: [...s.items, ...(d.items ?? [])], cursor: d.cursor ?? s.cursor };
};
const logPayload = (s: Log) => ({
  context: null,
  log_from: s.cursor,
  notifications_from: 0,
  timezone: 'UTC',
});
const logOpts = {
  reduce: logReduce,
  payload: logPayload,
  initialState: { items: [], cursor: 0 } as Log,
};

describe('store lifecycle', () => {
  it('start() called twice sends one state_request per connect, not two', async () => {
    const h = storeHarness();
    void h.store.start();
    void h.store.start(); // e.g. the Alpine plugin starts it, and the page calls $store.sync.start() too
    await flush();
    await h.connect();
    expect(h.requests()).toHaveLength(1);
    await h.ack();
    await h.push(2, { v: 1 });
    expect(h.store.mode).toBe('HEALTHY');
    // Every later reconnect: still one handshake.
    h.socket().drop('transport close');
    await h.connect();
    expect(h.requests()).toHaveLength(2);
  });

  it("a restart on a live connection does not take the previous run's first push as the new period's (untagged server)", async () => {
    const h = storeHarness<Log>(logOpts);
    void h.store.start();
    await flush();
    await h.connect(); // run 1: state_request #1 sent; the server opens a period for it
    h.store.stop(); // e.g. a component unmounted right away...
    void h.store.start(); // ...and mounted again: the socket is still connected
    await flush();
    expect(h.requests()).toHaveLength(2);
    // The server answered #1 with its first push (seq 2, full: items [1]) before it saw #2.
    await h.push(2, { items: [1], cursor: 1 });
    // #2 resets the period: ack, then the new period's full snapshot (items [1, 2]) and a delta.
    await h.ack();
    await h.push(2, { items: [1, 2], cursor: 2 });
    await h.push(3, { items: [3], cursor: 3 });
    expect(h.store.state.items).toEqual([1, 2, 3]); // before the fix: [1, 3], item 2 lost for good
  });
});
