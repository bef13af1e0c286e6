import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fail, type SyncwireError, type SyncwireErrorCode } from '../../src/errors';
import { openTabChannel } from '../../src/tabs/channel';
import { createRelay, type Relay } from '../../src/tabs/relay';
import { createFakeBus } from '../helpers/fake-bus';
import { createFakeClock, flush } from '../helpers/fake-clock';
import {
  ackOf,
  asRelayClient,
  createFakeRelayClient,
  envelopeOf,
  type FakeRelayClient,
} from '../helpers/fake-relay-client';

/** Codes a leader's client may reject with in the model. */
const LEADER_CODES = [
  'OVERFLOW',
  'HANDLER_ERROR',
  'NOT_CONNECTED',
  'TIMEOUT',
  'DISCONNECTED',
] as const;
type Answer = 'ok' | (typeof LEADER_CODES)[number];

type Op =
  | { op: 'call'; tab: number; kind: 'request' | 'emit'; timeoutMs: number }
  | { op: 'net'; action: 'deliver' | 'drop' | 'duplicate'; i: number }
  | { op: 'answer'; k: number; how: Answer }
  | { op: 'advance'; ms: number }
  | { op: 'push' }
  | { op: 'crash' }
  | { op: 'elect'; tab: number }
  | { op: 'learn'; tab: number }
  | { op: 'lost'; tab: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('call' as const),
      tab: fc.nat(9),
      kind: fc.constantFrom('request' as const, 'emit' as const),
      timeoutMs: fc.integer({ min: 1, max: 2000 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('net' as const),
      action: fc.constantFrom(
        'deliver' as const,
        'deliver' as const,
        'drop' as const,
        'duplicate' as const,
      ),
      i: fc.nat(20),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('answer' as const),
      k: fc.nat(20),
      how: fc.constantFrom<Answer>('ok', 'ok', ...LEADER_CODES),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 800 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('push' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('crash' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('elect' as const), tab: fc.nat(9) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('learn' as const), tab: fc.nat(9) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('lost' as const), tab: fc.nat(9) }), weight: 1 },
);

interface Tab {
  id: string;
  relay: Relay;
  close(): void;
  dead: boolean;
  client?: FakeRelayClient;
  heard: number;
}
interface CallRecord {
  tag: number;
  /** The tab that made it, and the leader it went to (null: it waits for one). */
  tab: Tab;
  sentTo: string | null;
  kind: 'request' | 'emit';
  deadline: number;
  settled: number;
  outcome?: { ok: true; value: unknown } | { ok: false; code: SyncwireErrorCode };
}

/**
 * Four tabs: T0 leads, the others follow it. Followers call, the channel loses, reorders and
 * duplicates messages, the leader's client answers (or not), the leader crashes mid-call and
 * another tab takes over, and followers learn of it (or of its loss) in any order.
 */
async function run(ops: Op[], disposeFirst: boolean) {
  const clock = createFakeClock();
  const bus = createFakeBus({ manual: true });
  const tabs: Tab[] = ['T0', 'T1', 'T2', 'T3'].map((id) => {
    const channel = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: id });
    const relay = createRelay({ channel, clock, requestTimeoutMs: 1000 });
    const t: Tab = { id, relay, close: () => channel.close(), dead: false, heard: 0 };
    return t;
  });
  const clients: FakeRelayClient[] = [];
  let leader = tabs[0]!;
  const lead = (t: Tab) => {
    t.client = createFakeRelayClient();
    clients.push(t.client);
    t.relay.lead(asRelayClient(t.client));
    leader = t;
  };
  lead(leader);
  for (const t of tabs.slice(1)) {
    t.relay.follow('T0');
    t.relay.on('tick', () => void t.heard++);
  }
  const calls: CallRecord[] = [];
  // What each leader's client answered, by tag, and how many times each tag was carried out.
  const answered = new Map<number, Answer>();
  const carried = new Map<number, number>();
  const counted = new WeakSet<object>();
  let nextTag = 0;
  let pushes = 0;
  const alive = (role?: 'follower') =>
    tabs.filter((t) => !t.dead && (role === undefined || t.relay.role === role));

  // A tab that learns its leader is lost or replaced ends, at once, every call it had sent to
  // it: its answer may never come. Calls that waited for a leader go to the new one.
  const loseCheck = async (t: Tab, next: string | null) => {
    const mine = calls.filter((c) => c.tab === t && c.settled === 0);
    await flush();
    for (const c of mine) {
      if (c.sentTo === null) c.sentTo = next;
      else if (c.sentTo !== next) expect(c.settled, `call ${c.tag} not ended`).toBe(1);
    }
  };

  const check = () => {
    for (const c of calls) {
      expect(c.settled).toBeLessThanOrEqual(1);
      // Never hangs: by its deadline, every call has settled.
      if (clock.now() >= c.deadline) expect(c.settled, `call ${c.tag} hangs`).toBe(1);
      const o = c.outcome;
      if (!o) continue;
      if (o.ok) {
        expect(answered.get(c.tag)).toBe('ok');
        if (c.kind === 'request')
          expect((o.value as ReturnType<typeof ackOf>).results[0]!.data).toEqual({ tag: c.tag });
      } else if (o.code !== 'TIMEOUT' && o.code !== 'DISCONNECTED') {
        expect(answered.get(c.tag)).toBe(o.code);
      }
      if (!o.ok) expect(['TIMEOUT', 'DISCONNECTED', ...LEADER_CODES]).toContain(o.code);
    }
    for (const n of carried.values()) expect(n).toBe(1);
  };

  for (const o of ops) {
    switch (o.op) {
      case 'call': {
        const followers = alive('follower');
        if (!followers.length) break;
        const t = followers[o.tab % followers.length]!;
        const c: CallRecord = {
          tab: t,
          sentTo: t.relay.leader,
          tag: nextTag++,
          kind: o.kind,
          deadline: clock.now() + o.timeoutMs,
          settled: 0,
        };
        calls.push(c);
        const p =
          o.kind === 'request'
            ? t.relay.request('work', { tag: c.tag }, { timeoutMs: o.timeoutMs })
            : t.relay.emit('work', { tag: c.tag }, { timeoutMs: o.timeoutMs });
        (p as Promise<unknown>).then(
          (value) => {
            c.settled++;
            c.outcome = { ok: true, value };
          },
          (e: SyncwireError) => {
            c.settled++;
            c.outcome = { ok: false, code: e.code };
          },
        );
        break;
      }
      case 'net': {
        if (!bus.inFlight.length) break;
        const i = o.i % bus.inFlight.length;
        bus[o.action](i);
        break;
      }
      case 'answer': {
        const held = leader.dead ? [] : (leader.client?.calls ?? []);
        if (!held.length) break;
        const [h] = held.splice(o.k % held.length, 1);
        const tag = (h!.data as { tag: number }).tag;
        answered.set(tag, o.how);
        if (o.how === 'ok')
          h!.resolve(h!.op === 'request' ? ackOf(h!.opts.correlationId!, { tag }) : undefined);
        else h!.reject(fail(o.how, `leader says ${o.how}`));
        break;
      }
      case 'advance':
        await clock.advance(o.ms);
        break;
      case 'push':
        if (!leader.dead) leader.client?.push('tick', envelopeOf({ n: pushes++ }));
        break;
      case 'crash':
        // The leader's tab dies mid-call: its channel goes silent, its client never answers.
        if (alive('follower').length === 0) break;
        leader.dead = true;
        leader.close();
        break;
      case 'elect': {
        if (!leader.dead) break;
        const followers = alive('follower');
        lead(followers[o.tab % followers.length]!);
        break;
      }
      case 'learn': {
        const followers = alive('follower');
        if (!followers.length) break;
        const t = followers[o.tab % followers.length]!;
        const before = t.relay.leader;
        t.relay.follow(leader.id);
        if (before !== leader.id) await loseCheck(t, leader.id);
        break;
      }
      case 'lost': {
        const followers = alive('follower');
        if (!followers.length) break;
        const t = followers[o.tab % followers.length]!;
        t.relay.leaderLost();
        await loseCheck(t, null);
        break;
      }
    }
    await flush();
    // Count each call a leader's client received (before any `answer` op can take it away).
    for (const client of clients)
      for (const h of client.calls) {
        if (counted.has(h)) continue;
        counted.add(h);
        const tag = (h.data as { tag: number }).tag;
        carried.set(tag, (carried.get(tag) ?? 0) + 1);
      }
    check();
  }

  // Left alone, every call ends by its deadline; disposed, every call ends at once.
  if (!disposeFirst) {
    await clock.advance(2001);
    for (const c of calls) expect(c.settled).toBe(1);
  }
  for (const t of tabs) t.relay.dispose();
  await flush();
  for (const c of calls) expect(c.settled).toBe(1);
  check();
  expect(clock.pending()).toBe(0);
  for (const client of clients) expect(client.listeners()).toBe(0);
  // Answers that come after dispose go nowhere.
  for (const client of clients) client.calls.splice(0).forEach((h) => h.resolve(undefined));
  bus.deliverAll();
  await flush();
}

describe('relay model', () => {
  it('every follower call settles exactly once, with ok, TIMEOUT, DISCONNECTED or the leader code, and nothing is left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }),
        fc.boolean(),
        (ops, disposeFirst) => run(ops, disposeFirst),
      ),
      { numRuns: 300 },
    );
  });
});
