// store.state and store.health are snapshots: the same object on every read until something in
// them changes, so a framework can compare them by identity (useSyncExternalStore, Svelte stores).
import { describe, expect, it } from 'vitest';
import { storeHarness } from '../helpers/store-harness';

describe('snapshot-stable reads', () => {
  it('store.health is the same frozen object while nothing changes, over time', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    const first = h.store.health;
    expect(h.store.health).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.counters)).toBe(true);
    await h.clock.advance(10_000); // below livenessMs: no audit, nothing happens
    expect(h.store.health).toBe(first);
    expect(first.staleMs).toBe(0);
  });

  it('a push applied (counters, seq, time) makes a new health object, then stable again', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    const before = h.store.health;
    await h.push(3, { v: 2 });
    await h.clock.advance(0);
    const after = h.store.health;
    expect(after).not.toBe(before);
    expect(after.counters.pushesApplied).toBe(before.counters.pushesApplied + 1);
    expect(after.lastSeq).toBe(3);
    expect(h.store.health).toBe(after);
    // The old snapshot is left as it was.
    expect(before.lastSeq).toBe(2);
  });

  it('a counter alone (a dropped push) makes a new object', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    const before = h.store.health;
    await h.push(2, { v: 1 }); // a duplicate: dropped
    const after = h.store.health;
    expect(after.counters.pushesDropped).toBe(before.counters.pushesDropped + 1);
    expect(after).not.toBe(before);
    expect(after.mode).toBe('HEALTHY');
  });

  it('a mode change makes a new object; staleMs then grows with the clock on the same object', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    const healthy = h.store.health;
    h.socket().drop();
    await h.clock.advance(0);
    expect(h.store.mode).not.toBe('HEALTHY');
    const down = h.store.health;
    expect(down).not.toBe(healthy);
    expect(down.mode).toBe(h.store.mode);
    expect(down.connected).toBe(false);
    const stale = down.staleMs!;
    await h.clock.advance(700); // within connectGraceMs: no poll, no mode change
    expect(h.store.health).toBe(down);
    expect(down.staleMs).toBe(stale + 700);
  });

  it('an error makes a new object with lastError, frozen', async () => {
    const h = storeHarness();
    h.fetch.respond(() => ({ status: 500, body: {} }));
    void h.store.start();
    await h.clock.advance(2500); // never connected: degraded to polls, which fail
    const failed = h.store.health;
    expect(failed.lastError?.code).toBe('POLL_FAILED');
    expect(Object.isFrozen(failed.lastError)).toBe(true);
    h.fetch.respond(() => ({ status: 200, body: { v: 1 } }));
    await h.clock.advance(6000); // the next poll is answered
    const answered = h.store.health;
    expect(answered).not.toBe(failed);
    expect(answered.source).toBe('poll');
    expect(answered.lastError?.code).toBe('POLL_FAILED'); // kept after recovery
    expect(h.store.health).toBe(answered);
  });

  it('store.state is the same object until an apply replaces it; a mode change keeps it', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    const state = h.store.state;
    expect(h.store.state).toBe(state);
    h.socket().drop();
    await h.clock.advance(0);
    expect(h.store.state).toBe(state);
    expect(Object.isFrozen(state)).toBe(false); // the user's own object, never frozen by syncwire
  });

  it('health reads stay correct: a spread or JSON copy carries staleMs as a value', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.socket().drop();
    await h.clock.advance(300);
    const health = h.store.health;
    expect({ ...health }.staleMs).toBe(health.staleMs);
    expect(JSON.parse(JSON.stringify(health)).staleMs).toBe(health.staleMs);
    expect(() => {
      (health as { mode: string }).mode = 'HEALTHY';
    }).toThrow(TypeError);
  });
});
