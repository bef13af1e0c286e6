import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncStoreEvent } from '../../src/index';
import { openTabChannel } from '../../src/tabs/channel';
import { createElection, type Election } from '../../src/tabs/election';
import { createMirror, RELEAD_MS, type Mirror } from '../../src/tabs/mirror';
import { toWireHealth } from '../../src/tabs/wire-health';
import { createFakeBus, fakeSource, healthOf } from '../helpers/fake-bus';
import { createFakeClock, flush, type FakeClock } from '../helpers/fake-clock';
import { createFakeLocks } from '../helpers/fake-locks';

type S = { pos: number };
type Bus = ReturnType<typeof createFakeBus>;

/** A tab's mirror on `bus`, recording what its subscribers hear. */
const tab = (bus: Bus, clock: FakeClock, id: string, notifyIntervalMs = 0) => {
  const port = bus.open('app');
  const channel = openTabChannel({ channel: port, name: 'app', tabId: id });
  const mirror = createMirror<S>({ channel, clock, initialState: { pos: -1 }, notifyIntervalMs });
  const events: SyncStoreEvent<S>[] = [];
  mirror.subscribe((e) => events.push(e));
  /** Delivers the first message in flight to this tab (manual bus). */
  const hear = () => bus.deliver(bus.inFlight.findIndex((m) => m.to.port === port));
  return { mirror, channel, port, events, hear };
};
const at = (clock: FakeClock, epoch: string, seq: number) => ({
  epoch,
  lastSeq: seq,
  lastAppliedAt: clock.now(),
  source: 'push' as const,
});

describe('createMirror', () => {
  it('a follower shows the leader state, mode and health, with its own role', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const follower = tab(bus, clock, 'F');
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    leader.mirror.lead(source);
    await clock.advance(0);
    expect(follower.mirror.state).toEqual({ pos: 0 });
    expect(follower.mirror.mode).toBe('HEALTHY');
    const h = follower.mirror.health;
    expect(h).toMatchObject({ role: 'follower', epoch: 'e1', lastSeq: 0, staleMs: 0 });
    expect(Object.isFrozen(h) && Object.isFrozen(h.counters)).toBe(true);
    expect(follower.mirror.health).toBe(h); // the same snapshot until something changes
    expect(leader.mirror.health.role).toBe('leader');
    expect(follower.events).toEqual([
      { type: 'mode', from: 'DISCONNECTED', to: 'HEALTHY', reason: 'leader' },
      { type: 'state', state: { pos: 0 } },
    ]);
  });

  it('a follower keeps its state object while the leader state is the same (mode or health moves)', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const follower = tab(bus, clock, 'F');
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    leader.mirror.lead(source);
    await clock.advance(0);
    const shown = follower.mirror.state;
    follower.events.length = 0;
    // A health change with the same state: the store notifies, the state object stays.
    source.health = healthOf({
      ...source.health,
      counters: { ...source.health.counters, polls: 1 },
    });
    source.listeners.forEach((fn) => fn({ type: 'health' }));
    await clock.advance(0);
    expect(follower.mirror.state).toBe(shown);
    expect(follower.mirror.health.counters.polls).toBe(1);
    expect(follower.events).toEqual([{ type: 'health' }]);
    // A mode change with the same state: a mode event only.
    source.health = healthOf({ ...source.health, mode: 'DEGRADED', staleMs: 0 });
    source.listeners.forEach((fn) =>
      fn({ type: 'mode', from: 'HEALTHY', to: 'DEGRADED', reason: 'x' }),
    );
    await clock.advance(0);
    expect(follower.mirror.state).toBe(shown);
    expect(follower.events.at(-1)).toMatchObject({ type: 'mode', to: 'DEGRADED' });
    // A new state object is a new state, even if equal.
    source.apply({ pos: 0 }, at(clock, 'e1', 1));
    await clock.advance(0);
    expect(follower.mirror.state).not.toBe(shown);
    expect(follower.events.at(-1)).toEqual({ type: 'state', state: { pos: 0 } });
  });

  it('mirrors staleness as a moment: staleMs grows on the follower as on the leader', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const follower = tab(bus, clock, 'F');
    const health = healthOf({ ...at(clock, 'e1', 0), mode: 'DEGRADED', staleMs: 300 });
    leader.mirror.lead(fakeSource<S>({ pos: 0 }, health));
    await clock.advance(200);
    expect(follower.mirror.health.staleMs).toBe(500);
    expect(follower.events[0]).toEqual({
      type: 'mode',
      from: 'DISCONNECTED',
      to: 'DEGRADED',
      reason: 'leader',
    });
  });

  it('notifies at once when none is due, then one per notifyIntervalMs, like a store', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const follower = tab(bus, clock, 'F', 100);
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    leader.mirror.lead(source);
    for (let i = 1; i <= 3; i++) source.apply({ pos: i }, at(clock, 'e1', i));
    await flush();
    const states = () => follower.events.filter((e) => e.type === 'state');
    // The first snapshot in its own message task, with no timer: nothing to coalesce it with.
    expect(states()).toEqual([{ type: 'state', state: { pos: 0 } }]);
    await clock.advance(100); // the rest of the burst: one notification, notifyIntervalMs later
    expect(states()).toEqual([
      { type: 'state', state: { pos: 0 } },
      { type: 'state', state: { pos: 3 } },
    ]);
    source.apply({ pos: 4 }, at(clock, 'e1', 4));
    await clock.advance(50);
    expect(states()).toHaveLength(2);
    await clock.advance(50);
    expect(follower.events.at(-1)).toEqual({ type: 'state', state: { pos: 4 } });
  });

  it('a hello from a new follower gets the current snapshot at once', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    leader.mirror.lead(source);
    source.apply({ pos: 1 }, at(clock, 'e1', 1));
    await flush();
    const late = tab(bus, clock, 'F');
    expect(late.mirror.state).toEqual({ pos: -1 });
    late.mirror.follow();
    await clock.advance(0);
    expect(late.mirror.state).toEqual({ pos: 1 });
    expect(late.mirror.cursor).toMatchObject({ epoch: 'e1', lastSeq: 1 });
  });

  it('never applies reordered, duplicated or older snapshots', () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const leader = tab(bus, clock, 'L');
    const follower = tab(bus, clock, 'F');
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    leader.mirror.lead(source);
    source.apply({ pos: 1 }, at(clock, 'e1', 1));
    bus.duplicate(1);
    bus.deliver(1); // pos 1 first
    expect(follower.mirror.state).toEqual({ pos: 1 });
    const shown = follower.mirror.state;
    bus.deliver(0); // then the late pos 0
    expect(follower.mirror.state).toBe(shown);
    bus.deliverAll(); // and pos 1 again
    expect(follower.mirror.state).toBe(shown);
  });

  it('a new leader behind the follower does not take it back, and its next snapshot is shown', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const old = tab(bus, clock, 'A');
    const next = tab(bus, clock, 'B');
    const follower = tab(bus, clock, 'F');
    const a = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    old.mirror.lead(a);
    bus.deliverAll();
    await clock.advance(10);
    a.apply({ pos: 1 }, at(clock, 'e1', 1));
    follower.hear(); // F hears pos 1
    bus.inFlight.length = 0; // B never did: A crashed before it was delivered
    old.mirror.dispose();
    old.channel.close();
    // B leads from what it mirrored (pos 0): older than what F shows, in the same epoch.
    const b = fakeSource<S>(next.mirror.state, healthOf({ ...next.mirror.health }));
    next.mirror.lead(b);
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 1 });
    expect(follower.mirror.cursor.term).toBe(next.mirror.cursor.term);
    await clock.advance(10);
    b.apply({ pos: 2 }, at(clock, 'e1', 2));
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 2 });
  });

  it('a new leader still in an older epoch waits until its store has applied later state', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const old = tab(bus, clock, 'A');
    const next = tab(bus, clock, 'B');
    const follower = tab(bus, clock, 'F');
    const a = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    old.mirror.lead(a);
    bus.deliverAll();
    await clock.advance(10);
    a.apply({ pos: 1 }, at(clock, 'e2', 0)); // the server restarted: a new epoch
    follower.hear();
    bus.inFlight.length = 0; // A crashed before B heard of e2
    old.mirror.dispose();
    expect(follower.mirror.cursor.epoch).toBe('e2');
    const b = fakeSource<S>(next.mirror.state, healthOf({ ...next.mirror.health }));
    next.mirror.lead(b); // B resumes from e1: not comparable by seq, applied earlier
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 1 });
    await clock.advance(10);
    b.apply({ pos: 2 }, at(clock, 'e2', 1)); // B's store caught up with the server
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 2 });
  });

  it("a new leader's older state is not taken, but its mode and connection are", async () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const old = tab(bus, clock, 'A');
    const next = tab(bus, clock, 'B');
    const follower = tab(bus, clock, 'F');
    const a = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    old.mirror.lead(a);
    bus.deliverAll();
    await clock.advance(10);
    a.apply({ pos: 1 }, at(clock, 'e1', 1));
    follower.hear();
    bus.inFlight.length = 0; // A crashed before B heard of pos 1
    old.mirror.dispose();
    // B leads from pos 0, its store still connecting.
    const health = healthOf({ ...next.mirror.health, mode: 'DISCONNECTED', connected: false });
    next.mirror.lead(fakeSource<S>(next.mirror.state, health));
    follower.events.length = 0;
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 1 });
    expect(follower.mirror.health).toMatchObject({ mode: 'DISCONNECTED', connected: false });
    expect(follower.mirror.health).toMatchObject({ epoch: 'e1', lastSeq: 1 }); // of the state shown
    expect(follower.events).toEqual([
      { type: 'mode', from: 'HEALTHY', to: 'DISCONNECTED', reason: 'leader' },
    ]);
  });

  it('a new epoch is taken from the current leader, not from a late message of an old one', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const old = tab(bus, clock, 'A');
    const next = tab(bus, clock, 'B');
    const follower = tab(bus, clock, 'F');
    const a = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    old.mirror.lead(a);
    a.apply({ pos: 1 }, at(clock, 'e1', 1));
    const late = bus.inFlight.splice(0);
    await clock.advance(10);
    const b = fakeSource<S>({ pos: 5 }, healthOf(at(clock, 'e2', 0)));
    next.mirror.lead(b);
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 5 });
    bus.inFlight.push(...late); // the old leader's messages arrive after all
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 5 });
    expect(follower.mirror.cursor.epoch).toBe('e2');
  });

  it('a new leader with nothing to show does not blank the followers', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const old = tab(bus, clock, 'A');
    const follower = tab(bus, clock, 'F');
    old.mirror.lead(fakeSource<S>({ pos: 3 }, healthOf(at(clock, 'e1', 3))));
    await flush();
    old.mirror.dispose();
    const next = tab(bus, clock, 'B');
    next.mirror.lead(fakeSource<S>({ pos: -1 }, healthOf({ mode: 'DISCONNECTED' })));
    await flush();
    expect(follower.mirror.state).toEqual({ pos: 3 });
  });

  it('a leader that steps down keeps showing its last state, then follows', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const a = tab(bus, clock, 'A');
    const b = tab(bus, clock, 'B');
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    a.mirror.lead(source);
    await flush();
    a.mirror.follow();
    expect(a.mirror.role).toBe('follower');
    expect(a.mirror.health.role).toBe('follower');
    expect(a.mirror.state).toEqual({ pos: 0 });
    source.apply({ pos: 1 }, at(clock, 'e1', 1)); // no longer posted
    await clock.advance(10);
    const other = fakeSource<S>({ pos: 2 }, healthOf(at(clock, 'e1', 2)));
    b.mirror.lead(other);
    await clock.advance(0);
    expect(a.mirror.state).toEqual({ pos: 2 });
    expect(source.listeners.size).toBe(0);
  });

  it('two leaderships of one term are ordered by tab id; a live leader outranked by a dead one takes a term above it', async () => {
    // Z leads and crashes in the millisecond it led; B leads in that same millisecond without
    // having heard of Z (its message was lost): both take the same term. F heard Z, and Z
    // ranks above B, so F drops B's snapshots: it says whom it follows, and B takes a term above.
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const dead = tab(bus, clock, 'Z');
    const live = tab(bus, clock, 'B');
    const follower = tab(bus, clock, 'F');
    dead.mirror.lead(fakeSource<S>({ pos: 1 }, healthOf(at(clock, 'e1', 1))));
    follower.hear();
    bus.inFlight.length = 0; // lost on its way to B
    dead.mirror.dispose();
    dead.channel.close();
    const b = fakeSource<S>({ pos: 1 }, healthOf(at(clock, 'e1', 1)));
    live.mirror.lead(b);
    expect(live.mirror.cursor.term).toBe(follower.mirror.cursor.term); // the same millisecond
    bus.deliverAll();
    expect(follower.mirror.leader).toBe('B');
    expect(follower.mirror.cursor.term).toBeGreaterThan(live.mirror.cursor.term - 1);
    await clock.advance(10);
    b.apply({ pos: 2 }, at(clock, 'e1', 2));
    bus.deliverAll();
    expect(follower.mirror.state).toEqual({ pos: 2 });
  });

  it('a leader that stepped down follows the live leader of its own term', () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const a = tab(bus, clock, 'A');
    const z = tab(bus, clock, 'Z');
    // Two leaders of the channel election, in one millisecond, neither hearing the other.
    a.mirror.lead(fakeSource<S>({ pos: 1 }, healthOf(at(clock, 'e1', 1))));
    const zs = fakeSource<S>({ pos: 1 }, healthOf(at(clock, 'e1', 1)));
    z.mirror.lead(zs);
    bus.inFlight.length = 0;
    z.mirror.follow(); // Z lost the election to A (A's term was the same)
    bus.deliverAll();
    expect(z.mirror.leader).toBe('A');
    expect(a.mirror.cursor.term).toBeGreaterThan(z.mirror.cursor.term - 1);
  });

  it('two live leaders outbid each other at most once per RELEAD_MS each', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const a = tab(bus, clock, 'A');
    const b = tab(bus, clock, 'B');
    tab(bus, clock, 'F').mirror.follow();
    a.mirror.lead(fakeSource<S>({ pos: 1 }, healthOf(at(clock, 'e1', 1))));
    b.mirror.lead(fakeSource<S>({ pos: 1 }, healthOf(at(clock, 'e1', 1))));
    let delivered = 0;
    const drain = () => {
      for (; bus.inFlight.length && delivered < 1000; delivered++) bus.deliver(0);
    };
    drain();
    expect(delivered).toBeLessThan(40); // not a storm
    const before = delivered;
    await clock.advance(RELEAD_MS);
    drain();
    expect(delivered - before).toBeLessThan(40);
    expect(clock.pending()).toBeLessThanOrEqual(2);
    a.mirror.dispose();
    b.mirror.dispose();
  });

  it('dispose() leaves no timer, listener or handler', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const leader = tab(bus, clock, 'L');
    const follower = tab(bus, clock, 'F', 100);
    const source = fakeSource<S>({ pos: 0 }, healthOf(at(clock, 'e1', 0)));
    leader.mirror.lead(source);
    await flush();
    source.apply({ pos: 1 }, at(clock, 'e1', 1));
    await flush();
    expect(clock.pending()).toBe(1); // the follower's coalesced notification
    follower.mirror.dispose();
    leader.mirror.dispose();
    expect(clock.pending()).toBe(0);
    expect(source.listeners.size).toBe(0);
    source.apply({ pos: 2 }, at(clock, 'e1', 2));
    await clock.advance(200);
    expect(follower.mirror.state).toEqual({ pos: 1 });
  });

  it('toWireHealth turns staleMs into the moment it counts from', () => {
    const now = 1_700_000_000_000;
    expect(toWireHealth(healthOf({ mode: 'HEALTHY' }), now).confirmedAt).toBe(now);
    expect(toWireHealth(healthOf({ mode: 'DEGRADED', staleMs: 40 }), now).confirmedAt).toBe(
      now - 40,
    );
    expect(toWireHealth(healthOf({ mode: 'DEGRADED', staleMs: null }), now).confirmedAt).toBeNull();
  });
});

/**
 * The model: a server whose state moves on (seq up, sometimes a new epoch), tabs that open,
 * crash and close, elected on fake locks and mirroring over a fake bus whose messages are
 * lost, reordered or duplicated. A tab that becomes leader starts from the state it mirrored
 * (as `createSharedSyncStore` will) and then shows the server's current state.
 */
describe('createMirror, model: tabs, leaders and a lossy channel', () => {
  type Op =
    | { op: 'server' }
    | { op: 'open' }
    | { op: 'settle' }
    | { op: 'sync' }
    | { op: 'newEpoch' }
    | { op: 'rehandshake' }
    | { op: 'crash'; which: number }
    | { op: 'crashLeader' }
    | { op: 'lose'; which: number }
    | { op: 'deliver' | 'drop' | 'duplicate'; which: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.constant({ op: 'server' as const }), weight: 4 },
    { arbitrary: fc.constant({ op: 'newEpoch' as const }), weight: 1 },
    // The leader's store handshakes again (a reconnect): its seq starts again at 1.
    { arbitrary: fc.constant({ op: 'rehandshake' as const }), weight: 1 },
    { arbitrary: fc.constant({ op: 'open' as const }), weight: 2 },
    { arbitrary: fc.constant({ op: 'settle' as const }), weight: 2 },
    { arbitrary: fc.constant({ op: 'sync' as const }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('crash' as const), which: fc.nat(9) }), weight: 1 },
    { arbitrary: fc.constant({ op: 'crashLeader' as const }), weight: 1 },
    // Everything on its way to one tab is lost (a tab that was frozen, say).
    { arbitrary: fc.record({ op: fc.constant('lose' as const), which: fc.nat(9) }), weight: 2 },
    {
      arbitrary: fc.record({
        op: fc.constantFrom('deliver' as const, 'drop' as const, 'duplicate' as const),
        which: fc.nat(30),
      }),
      weight: 6,
    },
  );

  const lostEpochThenFailover: Op[] = [
    { op: 'open' },
    { op: 'open' },
    { op: 'settle' },
    { op: 'sync' },
    { op: 'newEpoch' },
    { op: 'deliver', which: 1 },
    { op: 'lose', which: 1 },
    { op: 'crashLeader' },
    { op: 'settle' },
    { op: 'deliver', which: 0 },
  ];

  it('no follower ever shows an older state; after the channel settles all show the leader', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60, size: 'max' }), async (ops) => {
        const clock = createFakeClock();
        const bus = createFakeBus({ manual: true });
        const locks = createFakeLocks();
        // The server's history: each position is an epoch. The seq a store shows counts the
        // pushes of its own sync period (as the server's does): each handshake starts it again.
        const history = [{ epoch: 'e0' }];
        let periodSeq = 1;
        const server = () => history.length - 1;
        type Tab = ReturnType<typeof tab> & {
          id: string;
          election: Election;
          source?: ReturnType<typeof fakeSource<S>>;
        };
        const tabs: Tab[] = [];
        let opened = 0;
        const showAt = (pos: number) => {
          const h = history[pos]!;
          return {
            epoch: h.epoch,
            lastSeq: ++periodSeq,
            lastAppliedAt: clock.now(),
            source: 'push' as const,
          };
        };
        const open = () => {
          const id = `t${opened++}`;
          const t: Tab = {
            ...tab(bus, clock, id),
            id,
            election: createElection({ name: 'app', locks: locks.forTab(id) }),
          };
          t.election.onRole((role) => {
            if (role !== 'leader') return t.mirror.follow();
            // Resumes from what it mirrored, then its store catches up with the server.
            const m: Mirror<S> = t.mirror;
            t.source = fakeSource<S>(m.state, healthOf({ ...m.health }));
            periodSeq = 1; // its own connection, its own period
            t.mirror.lead(t.source);
            t.source.apply({ pos: server() }, showAt(server()));
          });
          t.mirror.follow();
          tabs.push(t);
        };
        const leader = () => tabs.find((t) => t.election.role === 'leader');
        const shown = new Map<string, number>();
        open();
        for (const o of ops) {
          await clock.advance(1);
          if (o.op === 'server' || o.op === 'newEpoch') {
            const last = history[server()]!;
            history.push({ epoch: o.op === 'server' ? last.epoch : `e${history.length}` });
            leader()?.source?.apply({ pos: server() }, showAt(server()));
          } else if (o.op === 'rehandshake') {
            periodSeq = 1;
            leader()?.source?.apply({ pos: server() }, showAt(server()));
          } else if (o.op === 'open') {
            if (tabs.length < 5) open();
          } else if (o.op === 'crash' || o.op === 'crashLeader') {
            const l = leader();
            const i = o.op === 'crash' ? o.which % tabs.length : l ? tabs.indexOf(l) : -1;
            if (tabs.length > 1 && i >= 0) {
              const [t] = tabs.splice(i, 1);
              t!.mirror.dispose();
              t!.channel.close();
              locks.close(t!.id);
            }
          } else if (o.op === 'settle') {
            await flush();
          } else if (o.op === 'lose') {
            const port = tabs[o.which % tabs.length]!.port;
            for (let i = bus.inFlight.length - 1; i >= 0; i--)
              if (bus.inFlight[i]!.to.port === port) bus.drop(i);
          } else if (o.op === 'sync') {
            bus.deliverAll();
          } else if (bus.inFlight.length) {
            bus[o.op](o.which % bus.inFlight.length);
          }
          // Safety: what each tab shows only moves forward along the server's history.
          for (const t of tabs) {
            const pos = t.mirror.state.pos;
            expect(pos).toBeGreaterThanOrEqual(shown.get(t.id) ?? -1);
            shown.set(t.id, pos);
          }
        }
        // Liveness: with the channel delivering again, every tab shows the leader's state.
        await flush();
        await flush();
        const l = leader();
        expect(l).toBeDefined();
        l!.source!.apply({ pos: server() }, showAt(server()));
        bus.deliverAll();
        await clock.advance(1);
        for (const t of tabs) expect(t.mirror.state.pos).toBe(server());
        for (const t of tabs) t.election.dispose();
      }),
      {
        numRuns: 300,
        // Rare by chance, so always run: a tab misses the new epoch, then leads after a crash.
        examples: [[lostEpochThenFailover]],
      },
    );
  });
});
