// Found by a review of the sync store: stop() called from a subscriber, while the store is running a transition's effects. Each test failed before its fix (kept as regression tests).
import { describe, expect, it } from 'vitest';
import { flush } from '../helpers/fake-clock';
import { storeHarness } from '../helpers/store-harness';

describe('stop() from a mode listener', () => {
  it('stopping on the first HEALTHY leaves no timer behind and applies nothing after stop()', async () => {
    const h = storeHarness();
    // A one-shot sync: take the first good state, then stop.
    h.store.subscribe((e) => e.type === 'mode' && e.to === 'HEALTHY' && h.store.stop());
    void h.store.start();
    await flush();
    await h.connect();
    await h.push(2, { v: 2 }); // the period's pushes arrive before the ack
    await h.push(3, { v: 3 });
    await h.ack(); // replays 2 (HEALTHY → stop()), then 3
    expect(h.store.mode).toBe('DISCONNECTED');
    const stateAtStop = h.store.state;
    const events = h.events.length;
    expect(h.clock.pending()).toBe(0); // before the fix: the 'notify' timer scheduled by the apply after stop()
    await h.clock.advance(1000);
    expect(h.events.slice(events)).toEqual([]); // before the fix: a 'state' event after stop()
    expect(h.store.state).toBe(stateAtStop);
  });

  it('stopping on HANDSHAKE_PENDING sends no state_request after stop()', async () => {
    const h = storeHarness();
    h.store.subscribe((e) => e.type === 'mode' && e.to === 'HANDSHAKE_PENDING' && h.store.stop());
    void h.store.start();
    await flush();
    await h.connect();
    expect(h.store.mode).toBe('DISCONNECTED');
    await flush();
    expect(h.requests()).toHaveLength(0); // before the fix: the handshake effect still runs after stop()
  });

  it('stopping on the first HEALTHY drops the events still queued: a resync the reducer asked for sends nothing', async () => {
    const h = storeHarness({
      reduce: (_s, snap, ctx) => (
        ctx.requestResync('reducer wants a full view'),
        snap as Record<string, unknown>
      ),
    });
    h.store.subscribe((e) => e.type === 'mode' && e.to === 'HEALTHY' && h.store.stop());
    void h.store.start();
    await flush();
    await h.connect();
    await h.ack();
    await h.push(2, { v: 2 }); // apply queues the resync, then HEALTHY → stop()
    expect(h.store.mode).toBe('DISCONNECTED');
    await h.clock.advance(5000);
    expect(h.requests()).toHaveLength(1); // before the fix: the queued resync sent a second state_request
    expect(h.clock.pending()).toBe(0);
  });
});
