import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncwireError } from '../../src/index';
import { openTabChannel, type TabChannel } from '../../src/tabs/channel';
import type { TabRole } from '../../src/tabs/election';
import {
  BROADCAST_ELECTION_DEFAULTS,
  createBroadcastElection,
  type BroadcastElectionOptions,
} from '../../src/tabs/election-bc';
import type { TabMessage } from '../../src/tabs/messages';
import { createFakeBus } from '../helpers/fake-bus';
import { createFakeClock, flush, type FakeClock } from '../helpers/fake-clock';
import { createTabClock, freezablePort } from '../helpers/fake-tab';

const { heartbeatMs: HB, timeoutMs: TO, claimMs: CL } = BROADCAST_ELECTION_DEFAULTS;
type Bus = ReturnType<typeof createFakeBus>;
type Options = Partial<BroadcastElectionOptions>;

/**
 * Tab `id` joins the election of 'app' on `bus`, on a clock and a port of its own (so it can be
 * frozen or crash), recording its roles, its errors and the handlers it leaves on its channel.
 */
function join(bus: Bus, base: FakeClock, id: string, options: Options = {}) {
  const clock = createTabClock(base);
  const frozen = freezablePort(bus.open('app'));
  const opened = openTabChannel({ channel: frozen.port, name: 'app', tabId: id });
  const handlers = new Map<string, unknown>();
  const channel: TabChannel = {
    ...opened,
    handle(kind, fn) {
      handlers.set(kind, fn);
      opened.handle(kind, fn);
    },
  };
  const roles: TabRole[] = [];
  const errors: SyncwireError[] = [];
  const election = createBroadcastElection({
    name: 'app',
    channel,
    tabId: id,
    clock,
    onError: (e) => errors.push(e),
    ...options,
  });
  election.onRole((r) => roles.push(r));
  return {
    id,
    election,
    channel,
    clock,
    roles,
    errors,
    /** Kinds that still have a handler on the channel. */
    handled: () => [...handlers].filter(([, fn]) => fn !== undefined).map(([k]) => k),
    freeze() {
      clock.freeze();
      frozen.freeze();
    },
    thaw(timersFirst: boolean) {
      if (timersFirst) clock.thaw();
      frozen.thaw();
      clock.thaw();
    },
    /** The tab dies: no goodbye, no timer, nothing heard. */
    crash() {
      opened.close();
      clock.kill();
    },
  };
}
type Tab = ReturnType<typeof join>;

/** Everything posted on 'app', as a tab that only listens hears it (automatic bus). */
const wire = (bus: Bus) => {
  const heard: TabMessage[] = [];
  bus.open('app').addEventListener!('message', (e) => heard.push(e.data as TabMessage));
  const show = (m: TabMessage) => `${m.from}:${m.kind}`;
  return { heard, kinds: () => heard.map(show) };
};
const leaders = (tabs: Tab[]) => tabs.filter((t) => t.election.role === 'leader').map((t) => t.id);

/** A bus and a clock with tab `a` leading, after `a` joined alone. */
async function withLeader(manual = false) {
  const clock = createFakeClock();
  const bus = createFakeBus();
  const a = join(bus, clock, 'a');
  await clock.advance(HB + CL);
  expect(a.election.role).toBe('leader');
  bus.manual = manual;
  return { clock, bus, a };
}

describe('createBroadcastElection', () => {
  it('a lone tab asks for a leader, bids after heartbeatMs, leads claimMs later', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const w = wire(bus);
    const a = join(bus, clock, 'a');
    await clock.advance(HB - 1);
    expect(w.kinds()).toEqual(['a:probe']);
    await clock.advance(1);
    expect(w.kinds()).toEqual(['a:probe', 'a:claim']);
    expect(w.heard[1]!.body).toEqual({ term: clock.now() }); // a first term: the wall clock
    await clock.advance(CL - 1);
    expect(a.election.role).toBe('follower');
    await clock.advance(1);
    expect(a.election.role).toBe('leader');
    expect(a.roles).toEqual(['leader']);
    await clock.advance(2 * HB);
    expect(w.kinds()).toEqual(['a:probe', 'a:claim', 'a:lead', 'a:lead', 'a:lead']);
    expect(a.election.error).toBeNull();
  });

  it('a tab that joins follows: the leader answers its probe at once', async () => {
    const { clock, bus, a } = await withLeader();
    const w = wire(bus);
    const b = join(bus, clock, 'b');
    await flush();
    expect(w.kinds()).toEqual(['b:probe', 'a:lead']);
    await clock.advance(10 * TO);
    expect(b.roles).toEqual([]);
    expect(w.kinds().filter((k) => k.startsWith('b:'))).toEqual(['b:probe']);
    expect(a.roles).toEqual(['leader']);
  });

  it('a leader that leaves says goodbye: a follower leads claimMs later', async () => {
    const { clock, bus, a } = await withLeader();
    const b = join(bus, clock, 'b');
    await clock.advance(HB / 2);
    a.election.dispose();
    a.channel.close();
    expect(a.election.role).toBe('follower');
    await clock.advance(CL - 1);
    expect(b.election.role).toBe('follower');
    await clock.advance(1);
    expect(b.election.role).toBe('leader');
    expect(a.roles).toEqual(['leader']); // dispose is not announced
  });

  it('followers that bid together on a goodbye elect one (equal terms: the greater id)', async () => {
    const { clock, bus, a } = await withLeader();
    const w = wire(bus);
    const tabs = ['b', 'd', 'c'].map((id) => join(bus, clock, id));
    await clock.advance(HB);
    a.election.dispose();
    await clock.advance(CL);
    const claims = w.heard.filter((m) => m.kind === 'claim');
    expect(claims.map((m) => m.from).sort()).toEqual(['b', 'c', 'd']);
    expect(new Set(claims.map((m) => m.body.term)).size).toBe(1);
    expect(leaders(tabs)).toEqual(['d']);
    await clock.advance(10 * TO);
    expect(tabs.map((t) => t.roles)).toEqual([[], ['leader'], []]);
  });

  it.each([0, 1, HB / 2, HB - 1])(
    'a leader that crashes %i ms after a heartbeat is replaced within timeoutMs + claimMs',
    async (offset) => {
      const { clock, bus, a } = await withLeader();
      const tabs = ['b', 'c'].map((id) => join(bus, clock, id));
      const w = wire(bus);
      await clock.advance(HB * 4); // a just posted a heartbeat
      await clock.advance(offset);
      a.crash();
      const crashedAt = clock.now();
      while (!leaders(tabs).length && clock.now() - crashedAt < 2000) await clock.advance(1);
      const took = clock.now() - crashedAt;
      expect(took).toBe(TO + CL - offset);
      expect(took).toBeLessThan(1000);
      // Both watches fired together: the second heard the first bid and gave it time.
      expect(w.kinds().filter((k) => k.endsWith(':claim'))).toEqual(['b:claim']);
      await clock.advance(10 * TO);
      expect(leaders(tabs)).toHaveLength(1);
      expect(tabs.flatMap((t) => t.roles)).toEqual(['leader']);
    },
  );

  it.each([true, false])(
    'a frozen leader that thaws (timers first: %s) steps down to the newer leader',
    async (timersFirst) => {
      const { clock, bus, a } = await withLeader();
      const b = join(bus, clock, 'b');
      await clock.advance(HB);
      a.freeze();
      await clock.advance(TO + CL);
      expect(b.election.role).toBe('leader');
      expect(a.election.role).toBe('leader'); // frozen: it has not heard
      a.thaw(timersFirst);
      await clock.advance(0);
      expect(a.election.role).toBe('follower');
      expect(a.roles).toEqual(['leader', 'follower']);
      await clock.advance(10 * TO);
      expect(leaders([a, b])).toEqual(['b']);
      expect(b.roles).toEqual(['leader']);
    },
  );

  it('a leader that hears a lower-ranked one answers at once, and the lower one steps down', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const [a, b] = ['a', 'b'].map((id) => join(bus, clock, id));
    await clock.advance(HB);
    bus.inFlight.length = 0; // the bids are lost: both lead
    await clock.advance(CL);
    expect(leaders([a!, b!])).toEqual(['a', 'b']);
    const toA = bus.inFlight.findIndex((m) => (m.data as TabMessage).from === 'b');
    bus.drop(toA); // a does not hear b's heartbeat...
    bus.deliverAll(); // ...but b hears a's, answers at once, and a hears that
    expect(leaders([a!, b!])).toEqual(['b']);
    expect(a!.roles).toEqual(['leader', 'follower']);
  });

  it('terms rise above every term heard of, even when the wall clock is set back', async () => {
    const base = createFakeClock();
    let back = 0;
    const clock: FakeClock = { ...base, now: () => base.now() - back };
    const bus = createFakeBus();
    // 'b' leads first: on equal terms the greater id would win, so only the term decides here.
    const b = join(bus, clock, 'b');
    await base.advance(HB + CL);
    const a = join(bus, clock, 'a');
    await base.advance(HB);
    back = 3_600_000; // the machine's clock goes back an hour
    b.freeze();
    await base.advance(TO + CL);
    expect(a.election.role).toBe('leader');
    b.thaw(true);
    await base.advance(0);
    expect(leaders([a, b])).toEqual(['a']);
    expect(b.roles).toEqual(['leader', 'follower']);
  });

  it('a follower that missed heartbeats bids, and the leader, alive, keeps the lead', async () => {
    const { clock, bus, a } = await withLeader();
    const b = join(bus, clock, 'b');
    await clock.advance(HB);
    bus.manual = true;
    const bid = () => bus.inFlight.some((m) => (m.data as TabMessage).kind === 'claim');
    let missed = 0;
    for (; !bid() && missed < 2 * TO; missed += 10) {
      bus.inFlight.length = 0; // every heartbeat is lost
      await clock.advance(10);
    }
    expect(missed).toBe(TO);
    bus.deliverAll(); // a hears the bid and answers; b hears the answer and gives way
    await clock.advance(CL);
    bus.manual = false;
    await clock.advance(10 * TO);
    expect(a.roles).toEqual(['leader']);
    expect(b.roles).toEqual([]);
  });

  it('bids that crossed end with one leader, whether heard or lost', async () => {
    for (const lost of [false, true]) {
      const clock = createFakeClock();
      const bus = createFakeBus({ manual: true });
      const tabs = ['a', 'c', 'b'].map((id) => join(bus, clock, id));
      await clock.advance(HB); // nobody answered the probes: all bid, none hears the others
      expect(bus.inFlight.filter((m) => (m.data as TabMessage).kind === 'claim')).toHaveLength(6);
      if (lost) bus.inFlight.length = 0;
      else bus.deliverAll();
      await clock.advance(CL);
      expect(leaders(tabs)).toEqual(lost ? ['a', 'c', 'b'] : ['c']);
      bus.deliverAll(); // the two lower leaders hear 'c' (equal terms, greater id) step down
      expect(leaders(tabs)).toEqual(['c']);
      bus.manual = false;
      await clock.advance(10 * TO);
      expect(leaders(tabs)).toEqual(['c']);
    }
  });

  it('dispose leaves no timer, no handler and no role change, in every phase', async () => {
    const { clock, bus, a } = await withLeader();
    const b = join(bus, clock, 'b'); // follows
    const c = join(bus, clock, 'c');
    await clock.advance(HB);
    bus.manual = true;
    const d = join(bus, clock, 'd'); // its probe is never answered: it bids
    await clock.advance(HB);
    expect(bus.inFlight.some((m) => (m.data as TabMessage).from === 'd')).toBe(true);
    for (const t of [a, b, d]) {
      t.election.dispose();
      t.election.dispose();
      expect(t.clock.pending()).toBe(0);
      expect(t.handled()).toEqual([]);
      expect(t.election.role).toBe('follower');
    }
    bus.manual = false;
    bus.deliverAll(); // a's and d's goodbyes: c bids at once and leads
    await clock.advance(CL);
    expect(leaders([a, b, c, d])).toEqual(['c']);
    c.election.dispose();
    await clock.advance(10 * TO);
    expect(clock.pending()).toBe(0);
    expect([a, b, c, d].map((t) => t.roles)).toEqual([['leader'], [], ['leader'], []]);
  });

  it('a role listener may dispose the election: later listeners are not called', async () => {
    const clock = createFakeClock();
    const bus = createFakeBus();
    const a = join(bus, clock, 'a');
    const late: TabRole[] = [];
    a.election.onRole(() => a.election.dispose());
    a.election.onRole((r) => late.push(r));
    await clock.advance(HB + CL);
    expect(a.roles).toEqual(['leader']);
    expect(late).toEqual([]);
    expect(clock.pending()).toBe(0);
    expect(a.handled()).toEqual([]);
  });

  it('a role listener that throws is reported (HANDLER_ERROR) and the others still hear', async () => {
    const clock = createFakeClock();
    const a = join(createFakeBus(), clock, 'a');
    a.election.onRole(() => {
      throw new Error('boom');
    });
    const heard: TabRole[] = [];
    a.election.onRole((r) => heard.push(r));
    await clock.advance(HB + CL);
    expect(heard).toEqual(['leader']);
    expect(a.roles).toEqual(['leader']);
    expect(a.errors.map((e) => [e.code, e.message])).toEqual([
      ['HANDLER_ERROR', 'onRole listener: boom'],
    ]);
  });

  it('onRole returns a remover', async () => {
    const clock = createFakeClock();
    const a = join(createFakeBus(), clock, 'a');
    const heard: TabRole[] = [];
    a.election.onRole((r) => heard.push(r))();
    await clock.advance(HB + CL);
    expect(heard).toEqual([]);
  });

  it('checks its options', () => {
    const bus = createFakeBus();
    const channel = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: 'a' });
    const clock = createFakeClock();
    const ok = { name: 'app', channel, tabId: 'a', clock };
    const make = (over: object) => () => createBroadcastElection({ ...ok, ...over });
    expect(make({ channel: {} })).toThrow(/channel: expected an object with post\(\), handle\(\)/);
    expect(make({ clock: { now: () => 1 } })).toThrow(/clock: expected an object with now\(\)/);
    expect(make({ name: 'other' })).toThrow(/name: expected the channel's name, "app"/);
    expect(make({ tabId: 'b' })).toThrow(/tabId: expected the channel's tab id, "a"/);
    expect(make({ heartbeatMs: 0 })).toThrow(/heartbeatMs: expected a number > 0, got 0/);
    expect(make({ claimMs: 'x' })).toThrow(/claimMs: expected a number > 0, got string/);
    expect(make({ timeoutMs: HB })).toThrow(/timeoutMs: expected more than heartbeatMs \(250\)/);
    expect(clock.pending()).toBe(0); // nothing started
  });
});

describe('createBroadcastElection, model: tabs open, leave, crash, freeze and thaw on a lossy channel', () => {
  // The bound checked: from the moment delivery is reliable (a leader lost before then counts
  // from then; none is lost during it), exactly one running tab leads within timeoutMs +
  // claimMs, and the same one after. A follower's watch, re-armed at worst then (a late
  // heartbeat or bid delivered), fires within timeoutMs; its bid waits claimMs.
  const BOUND = TO + CL;
  const STEP = 10;
  type Op =
    | { op: 'open' }
    | { op: 'dispose'; which: number }
    | { op: 'crash'; which: number }
    | { op: 'freeze'; which: number }
    | { op: 'thaw'; which: number; timersFirst: boolean }
    | { op: 'advance'; ms: number }
    | { op: 'net'; action: 'deliver' | 'drop' | 'duplicate' | 'reorder'; i: number }
    | { op: 'calm'; ms: number };
  const which = fc.nat(20);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('open' as const) }), weight: 3 },
    {
      arbitrary: fc.record({
        op: fc.constantFrom('dispose' as const, 'crash' as const, 'freeze' as const),
        which,
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({ op: fc.constant('thaw' as const), which, timersFirst: fc.boolean() }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        op: fc.constant('advance' as const),
        ms: fc.integer({ min: 0, max: 800 }),
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        op: fc.constant('net' as const),
        action: fc.constantFrom(
          'deliver' as const,
          'deliver' as const,
          'drop' as const,
          'duplicate' as const,
          'reorder' as const,
        ),
        i: fc.nat(30),
      }),
      weight: 6,
    },
    {
      arbitrary: fc.record({
        op: fc.constant('calm' as const),
        ms: fc.integer({ min: 1, max: 150 }).map((n) => n * STEP),
      }),
      weight: 1,
    },
  );

  async function run(ops: Op[]) {
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    type ModelTab = Tab & { state: 'live' | 'disposed' | 'crashed'; frozen: boolean };
    const tabs: ModelTab[] = [];
    const live = () => tabs.filter((t) => t.state === 'live');
    // Tabs that run: a frozen tab neither hears nor posts, so the others elect without it.
    const running = () => live().filter((t) => !t.frozen);
    const pick = (list: ModelTab[], i: number) => list[i % list.length];

    const open = () => {
      const t: ModelTab = { ...join(bus, clock, `t${tabs.length}`), state: 'live', frozen: false };
      // Roles alternate, are the election's own, and are never heard once it is disposed.
      t.election.onRole((r) => {
        expect(t.state).toBe('live');
        expect(t.roles.at(-2)).not.toBe(r);
        expect(t.election.role).toBe(r);
      });
      tabs.push(t);
    };

    // Delivery works for `ms`: what was in flight arrives, then each message as it is posted.
    const calm = async (ms: number) => {
      bus.manual = false;
      bus.deliverAll();
      const start = clock.now();
      let stable: string | undefined;
      for (let t = 0; t < ms; t += STEP) {
        await clock.advance(STEP);
        if (clock.now() - start < BOUND || !running().length) continue;
        const now = running().filter((t) => t.election.role === 'leader');
        expect(now.map((t) => t.id)).toHaveLength(1);
        stable ??= now[0]!.id;
        expect(now[0]!.id).toBe(stable);
      }
      bus.manual = true;
    };

    const step = async (o: Op) => {
      switch (o.op) {
        case 'open':
          if (live().length < 5) open();
          return;
        case 'freeze': {
          const t = pick(running(), o.which);
          if (!t) return;
          t.freeze();
          t.frozen = true;
          return;
        }
        case 'thaw': {
          const t = pick(
            live().filter((t) => t.frozen),
            o.which,
          );
          if (!t) return;
          t.frozen = false;
          return t.thaw(o.timersFirst);
        }
        case 'dispose': {
          // A frozen tab runs nothing, its pagehide included: it can only be discarded (crash).
          const t = pick(running(), o.which);
          if (!t) return;
          t.election.dispose();
          t.state = 'disposed';
          t.channel.close();
          expect(t.clock.pending()).toBe(0);
          expect(t.handled()).toEqual([]);
          return;
        }
        case 'crash': {
          const t = pick(live(), o.which);
          if (!t) return;
          t.crash();
          t.state = 'crashed';
          return;
        }
        case 'advance':
          return clock.advance(o.ms);
        case 'calm':
          return calm(o.ms);
        case 'net': {
          if (!bus.inFlight.length) return;
          const i = o.i % bus.inFlight.length;
          if (o.action === 'reorder') bus.inFlight.push(...bus.inFlight.splice(i, 1));
          else bus[o.action](i);
        }
      }
    };

    for (const o of ops) {
      await step(o);
      for (const t of tabs) expect(t.errors).toEqual([]);
    }

    // Safety and liveness: every tab runs again and delivery works: exactly one leads.
    for (const t of live().filter((t) => t.frozen)) {
      t.frozen = false;
      t.thaw(true);
    }
    await calm(BOUND + 2 * HB);
    expect(running().filter((t) => t.election.role === 'leader')).toHaveLength(
      live().length ? 1 : 0,
    );

    // Quiet: once every election is disposed, nothing is left to run or to answer.
    bus.manual = true;
    for (const t of tabs) {
      const was = t.roles.length;
      t.election.dispose();
      expect(t.handled()).toEqual([]);
      expect(t.roles).toHaveLength(was);
    }
    expect(clock.pending()).toBe(0);
    bus.deliverAll(); // the goodbyes reach tabs that no longer listen: none answers
    expect(bus.inFlight).toEqual([]);
    await clock.advance(10 * TO);
    expect(bus.inFlight).toEqual([]);
    for (const t of tabs) expect(t.errors).toEqual([]);
    for (const t of tabs) t.channel.close();
  }

  it('once delivery is reliable, one leader within timeoutMs + claimMs, and the same one; nothing left after dispose', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 50, size: 'max' }), run),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });
});
