import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  initialMachineState,
  transition,
  type Effect,
  type MachineEvent,
  type MachineState,
  type PushIn,
  type TimerName,
  type Timing,
} from '../../src/machine';
import { fitting, generalTransition, inOrderPush } from '../../src/store/machine';

const T: Timing = {
  handshakeTimeoutMs: 2000,
  pollIntervalMs: 250,
  connectGraceMs: 3000,
  livenessMs: 30000,
  backoffBaseMs: 500,
  backoffMaxMs: 5000,
  pollBackoffMaxMs: 5000,
  notifyIntervalMs: 16,
};

/** Feeds events one after another; keeps every effect. */
function drive(events: MachineEvent[], from = initialMachineState()) {
  let s: MachineState = from;
  let last: Effect[] = [];
  const all: Effect[] = [];
  for (const ev of events) {
    [s, last] = transition(s, ev, T, 0.5);
    all.push(...last);
  }
  return { s, last, all };
}
const push = (seq: number, epoch = 'E1', gen: number | null = null, at = 0): MachineEvent => ({
  type: 'push',
  push: { epoch, seq, snapshot: { seq }, gen, at },
});
/** Timer `name` firing at clock time `at`. */
const timer = (name: TimerName, at = 0): MachineEvent => ({ type: 'timer', name, at });
const applies = (fx: Effect[]) =>
  fx
    .filter((e) => e.type === 'apply')
    .map((e) => (e.type === 'apply' ? (e.snapshot as { seq: number }).seq : 0));
const has = (fx: Effect[], type: Effect['type'], extra: Record<string, unknown> = {}) =>
  fx.some(
    (e) =>
      e.type === type &&
      Object.entries(extra).every(([k, v]) => (e as Record<string, unknown>)[k] === v),
  );

const started: MachineEvent[] = [
  { type: 'start', cache: null, connected: false },
  { type: 'connected' },
];
const healthy: MachineEvent[] = [
  ...started,
  { type: 'ack', gen: 1, epoch: 'E1', seqBase: 1, tagged: false },
  push(2),
];

describe('handshake', () => {
  it('start waits for a connection, with a grace timer', () => {
    const { s, all } = drive([{ type: 'start', cache: null, connected: false }]);
    expect(s.mode).toBe('DISCONNECTED');
    expect(has(all, 'set', { name: 'grace', ms: 3000 })).toBe(true);
    expect(has(all, 'handshake')).toBe(false);
  });

  it('connect → full handshake → HEALTHY only when the first snapshot is applied', () => {
    let r = drive(started);
    expect(r.s.mode).toBe('HANDSHAKE_PENDING');
    expect(r.last).toContainEqual({ type: 'handshake', gen: 1, full: true });
    r = drive([{ type: 'ack', gen: 1, epoch: 'E1', seqBase: 1, tagged: false }], r.s);
    expect(r.s.mode).toBe('HANDSHAKE_PENDING');
    expect(has(r.last, 'set', { name: 'first' })).toBe(true);
    r = drive([push(2)], r.s);
    expect(r.s.mode).toBe('HEALTHY');
    expect(r.last).toContainEqual({
      type: 'apply',
      snapshot: { seq: 2 },
      source: 'push',
      fromInitial: true,
    });
    expect(has(r.last, 'set', { name: 'live', ms: 30000 })).toBe(true);
    expect(has(r.last, 'clear', { name: 'poll' })).toBe(true);
  });

  it('ignores an ack for a superseded handshake', () => {
    const r = drive([
      ...started,
      { type: 'resync', reason: 'x' },
      { type: 'ack', gen: 1, epoch: 'E1', seqBase: 1, tagged: false },
    ]);
    expect(r.s.hs?.gen).toBe(2);
    expect(r.s.awaiting).toBe(false);
  });

  it('a timed-out first snapshot degrades and schedules a retry', () => {
    const r = drive([
      ...started,
      { type: 'ack', gen: 1, epoch: 'E1', seqBase: 1, tagged: false },
      timer('first'),
    ]);
    expect(r.s.mode).toBe('DEGRADED');
    expect(has(r.last, 'set', { name: 'retry' })).toBe(true);
  });

  it('resumes with cursors after a reconnect to the same epoch, and goes full when the epoch changed', () => {
    let r = drive([...healthy, { type: 'disconnected' }, { type: 'connected' }]);
    expect(r.last).toContainEqual({ type: 'handshake', gen: 2, full: false });
    r = drive([{ type: 'ack', gen: 2, epoch: 'E2', seqBase: 1, tagged: false }], r.s);
    expect(r.last).toContainEqual({ type: 'handshake', gen: 3, full: true });
    r = drive(
      [{ type: 'ack', gen: 3, epoch: 'E2', seqBase: 1, tagged: false }, push(2, 'E2')],
      r.s,
    );
    expect(r.last).toContainEqual({
      type: 'apply',
      snapshot: { seq: 2 },
      source: 'push',
      fromInitial: true,
    });
    expect(r.s.mode).toBe('HEALTHY');
  });

  it('a warm start resumes from the cached epoch', () => {
    const r = drive([
      { type: 'start', cache: { epoch: 'E1' }, connected: false },
      { type: 'connected' },
    ]);
    expect(r.last).toContainEqual({ type: 'handshake', gen: 1, full: false });
  });
});

describe('pushes', () => {
  it('applies seq = last + 1 in order and drops stale or duplicate ones', () => {
    const r = drive([...healthy, push(3), push(3), push(2), push(4)]);
    expect(applies(r.all)).toEqual([2, 3, 4]);
    expect(r.s.stats.pushesDropped).toBe(2);
    expect(r.s.lastSeq).toBe(4);
  });

  it('a gap triggers a full resync; the page keeps its state until the new snapshot', () => {
    const r = drive([...healthy, push(4)]);
    expect(applies(r.last)).toEqual([]);
    expect(r.last).toContainEqual({ type: 'handshake', gen: 2, full: true });
    expect(r.s.mode).toBe('HANDSHAKE_PENDING');
    expect(r.s.stats.resyncs).toBe(1);
  });

  it('a changed runtime epoch triggers a full resync', () => {
    const r = drive([...healthy, push(3, 'E9')]);
    expect(r.last).toContainEqual({ type: 'handshake', gen: 2, full: true });
  });

  it('replays pushes that arrived before the ack on a fresh connection', () => {
    const r = drive([
      ...started,
      push(2),
      push(3),
      { type: 'ack', gen: 1, epoch: 'E1', seqBase: 1, tagged: false },
    ]);
    expect(applies(r.last)).toEqual([2, 3]);
    expect(r.s.mode).toBe('HEALTHY');
  });

  it('with tagged pushes, keeps exactly the new period', () => {
    const r = drive([
      ...healthy,
      { type: 'resync', reason: 'ctx' },
      push(3, 'E1', 1),
      push(2, 'E1', 2),
      { type: 'ack', gen: 2, epoch: 'E1', seqBase: 1, tagged: true },
      push(3, 'E1', 2),
    ]);
    expect(applies(r.all).slice(1)).toEqual([2, 3]);
    expect(r.s.lastSeq).toBe(3);
  });

  it('with tagged pushes, resyncs when the server pushes another period once ours is open', () => {
    // The server handled an older handshake after ours and pushes that period only: dropping
    // its pushes for ever would look HEALTHY while showing old state.
    let r = drive([
      ...healthy,
      { type: 'resync', reason: 'ctx' },
      { type: 'ack', gen: 2, epoch: 'E1', seqBase: 1, tagged: true },
      push(2, 'E1', 2),
    ]);
    expect(r.s.mode).toBe('HEALTHY');
    r = drive([push(3, 'E1', 1)], r.s);
    expect(applies(r.all)).toEqual([]);
    expect(r.s.mode).toBe('HANDSHAKE_PENDING');
    expect(r.last).toContainEqual({ type: 'handshake', gen: 3, full: true });
    expect(r.s.stats.pushesDropped).toBe(1);
  });

  it('ignores pushes while DEGRADED', () => {
    const r = drive([
      ...started,
      { type: 'nack', gen: 1, code: 'TIMEOUT', message: 'slow' },
      push(2),
      push(3),
    ]);
    expect(r.s.mode).toBe('DEGRADED');
    expect(applies(r.all)).toEqual([]);
  });

  it('bounds the pushes held while a handshake is pending', () => {
    const r = drive([...started, ...Array.from({ length: 300 }, (_, i) => push(i + 2))]);
    expect(r.s.held).toHaveLength(256);
    expect(r.s.stats.pushesDropped).toBe(44);
  });
});

describe('fitting held pushes to a new period', () => {
  const p = (seq: number, gen: number | null = null): PushIn => ({
    epoch: 'E',
    seq,
    snapshot: {},
    gen,
    at: 0,
  });
  const seqs = (l: PushIn[]) => l.map((x) => x.seq);
  const ack = { epoch: 'E', seqBase: 1 };
  it('takes everything on a fresh connection', () =>
    expect(seqs(fitting([p(2), p(3), p(5)], ack, false, null))).toEqual([2, 3]));
  it('drops an ambiguous run rather than guess', () =>
    expect(seqs(fitting([p(2), p(3)], ack, true, null))).toEqual([]));
  it('never takes a seq reset as the new period: it may be a stale push of the old one', () => {
    // Untagged, after an earlier period on this connection: [41, 42, 2] is the new period's
    // first push, or the old period's seq 2 sent again with its old snapshot. Both look alike.
    expect(seqs(fitting([p(41), p(42), p(2), p(3)], ack, true, null))).toEqual([]);
    expect(seqs(fitting([p(5), p(2), p(14)], ack, true, null))).toEqual([]);
  });
  it('uses the tag when the server provides one', () =>
    expect(seqs(fitting([p(2, 1), p(3, 1), p(2, 2)], ack, true, 2))).toEqual([2]));
  it('ignores other epochs', () =>
    expect(seqs(fitting([{ ...p(2), epoch: 'X' }], ack, false, null))).toEqual([]));
});

describe('failures and degraded polling', () => {
  it('a handshake timeout degrades, polls at once, and retries with backoff', () => {
    const r = drive([...started, { type: 'nack', gen: 1, code: 'TIMEOUT', message: 'no ack' }]);
    expect(r.s.mode).toBe('DEGRADED');
    expect(has(r.last, 'set', { name: 'poll', ms: 0 })).toBe(true);
    expect(r.last.find((e) => e.type === 'set' && e.name === 'retry')).toMatchObject({ ms: 375 }); // equal jitter of 500 at rand 0.5
  });

  it('polls, applies answers, and keeps polling at the interval', () => {
    let r = drive([
      ...started,
      { type: 'nack', gen: 1, code: 'TIMEOUT', message: '' },
      timer('poll'),
    ]);
    const poll = r.last.find((e) => e.type === 'poll');
    expect(poll).toMatchObject({ type: 'poll', full: true });
    r = drive(
      [{ type: 'polled', id: (poll as { id: number }).id, ok: true, snapshot: { seq: 0 } }],
      r.s,
    );
    expect(r.last).toContainEqual({
      type: 'apply',
      snapshot: { seq: 0 },
      source: 'poll',
      fromInitial: true,
    });
    expect(has(r.last, 'set', { name: 'poll', ms: 250 })).toBe(true);
  });

  it('backs off when polls fail', () => {
    let r = drive([...started, { type: 'nack', gen: 1, code: 'TIMEOUT', message: '' }]);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      r = drive([timer('poll')], r.s);
      r = drive(
        [{ type: 'polled', id: r.s.pollId, ok: false, code: 'POLL_FAILED', message: '500' }],
        r.s,
      );
      delays.push((r.last.find((e) => e.type === 'set') as { ms: number }).ms);
    }
    expect(delays).toEqual([375, 750, 1500, 3000, 3750]);
  });

  it('recovers: a retry handshake succeeds, the first push makes it HEALTHY and polling stops', () => {
    let r = drive([
      ...started,
      { type: 'nack', gen: 1, code: 'TIMEOUT', message: '' },
      timer('retry'),
    ]);
    expect(r.s.mode).toBe('DEGRADED'); // stays degraded (and polling) until the new period delivers
    expect(has(r.last, 'handshake')).toBe(true);
    expect(has(r.last, 'clear', { name: 'poll' })).toBe(false);
    r = drive([{ type: 'ack', gen: 2, epoch: 'E1', seqBase: 1, tagged: false }], r.s);
    expect(has(r.last, 'clear', { name: 'poll' })).toBe(true); // the ack opens the period: polling stops
    const staleId = r.s.pollId;
    r = drive([push(2)], r.s);
    expect(r.s.mode).toBe('HEALTHY');
    r = drive(
      [{ type: 'polled', id: staleId, ok: true, snapshot: { seq: -1 } }, timer('poll')],
      r.s,
    );
    expect(r.last).toEqual([]);
  });

  it('re-handshakes when a poll answer landed between a recovery handshake and its ack', () => {
    let r = drive([
      { type: 'start', cache: { epoch: 'E1' }, connected: false },
      timer('grace'),
      timer('poll'),
      { type: 'connected' },
    ]);
    const pollId = r.s.pollId;
    expect(r.last).toContainEqual({ type: 'handshake', gen: 1, full: false });
    r = drive(
      [
        { type: 'polled', id: pollId, ok: true, snapshot: { seq: 0 } },
        { type: 'ack', gen: 1, epoch: 'E1', seqBase: 1, tagged: false },
      ],
      r.s,
    );
    // A full one: polls go on meanwhile, and another resume would race them again.
    expect(r.last).toContainEqual({ type: 'handshake', gen: 2, full: true });
    expect(r.s.awaiting).toBe(false);
    // Polls that land while it is in flight no longer matter: its first push replaces the state.
    r = drive([timer('poll')], r.s);
    const poll = r.last.find((e) => e.type === 'poll');
    r = drive(
      [
        {
          type: 'polled',
          id: poll?.type === 'poll' ? poll.id : -1,
          ok: true,
          snapshot: { seq: 1 },
        },
        { type: 'ack', gen: 2, epoch: 'E1', seqBase: 1, tagged: false },
        push(2),
      ],
      r.s,
    );
    expect(r.s.mode).toBe('HEALTHY');
    expect(r.last).toContainEqual({
      type: 'apply',
      snapshot: { seq: 2 },
      source: 'push',
      fromInitial: true,
    });
  });

  it('a deterministic error is terminal: FAILED, no timers, no retries', () => {
    let r = drive([
      ...started,
      {
        type: 'nack',
        gen: 1,
        code: 'HANDSHAKE_FAILED',
        serverCode: 'INVALID_REQUEST',
        message: 'timezone must be a valid IANA timezone name',
      },
    ]);
    expect(r.s.mode).toBe('FAILED');
    expect(r.s.error).toEqual({
      code: 'HANDSHAKE_FAILED',
      message: 'timezone must be a valid IANA timezone name',
    });
    expect(r.last).toContainEqual(
      expect.objectContaining({ type: 'error', details: { serverCode: 'INVALID_REQUEST' } }),
    );
    for (const name of ['grace', 'first', 'retry', 'poll', 'live'])
      expect(has(r.last, 'clear', { name })).toBe(true);
    r = drive([timer('retry'), { type: 'disconnected' }, { type: 'connected' }, push(2)], r.s);
    expect(r.all.filter((e) => e.type === 'handshake' || e.type === 'poll')).toEqual([]);
    r = drive([{ type: 'resync', reason: 'user' }], r.s);
    expect(r.s.mode).toBe('HANDSHAKE_PENDING');
    expect(has(r.last, 'handshake')).toBe(true);
  });

  it('an auth-like code first reconnects with fresh credentials, then fails', () => {
    let r = drive([
      ...started,
      {
        type: 'nack',
        gen: 1,
        code: 'HANDSHAKE_FAILED',
        serverCode: 'NO_HANDLERS',
        message: 'No handlers activated',
      },
    ]);
    expect(has(r.last, 'reconnect')).toBe(true);
    expect(r.s.mode).not.toBe('FAILED');
    r = drive(
      [
        { type: 'disconnected' },
        { type: 'connected' },
        {
          type: 'nack',
          gen: 2,
          code: 'HANDSHAKE_FAILED',
          serverCode: 'NO_HANDLERS',
          message: 'No handlers activated',
        },
      ],
      r.s,
    );
    expect(r.s.mode).toBe('FAILED');
  });

  it('no connection within the grace period degrades to polling', () => {
    const r = drive([{ type: 'start', cache: null, connected: false }, timer('grace')]);
    expect(r.s.mode).toBe('DEGRADED');
    expect(has(r.last, 'set', { name: 'poll', ms: 0 })).toBe(true);
  });

  it('a lost connection shows DISCONNECTED, then DEGRADED after the grace period', () => {
    let r = drive([...healthy, { type: 'disconnected' }]);
    expect(r.s.mode).toBe('DISCONNECTED');
    expect(has(r.last, 'set', { name: 'grace' })).toBe(true);
    r = drive([timer('grace')], r.s);
    expect(r.s.mode).toBe('DEGRADED');
  });

  it('pauses polls while hidden or offline and polls at once when back', () => {
    let r = drive([
      { type: 'start', cache: null, connected: false },
      timer('grace'),
      { type: 'env', hidden: true, online: true },
      timer('poll'),
    ]);
    expect(has(r.last, 'poll')).toBe(false);
    r = drive([{ type: 'env', hidden: false, online: true }], r.s);
    expect(has(r.last, 'set', { name: 'poll', ms: 0 })).toBe(true);
    r = drive([{ type: 'env', hidden: false, online: false }, timer('poll')], r.s);
    expect(has(r.last, 'poll')).toBe(false);
    r = drive([{ type: 'env', hidden: false, online: true }], r.s);
    expect(has(r.last, 'set', { name: 'poll', ms: 0 })).toBe(true);
  });
});

describe('liveness', () => {
  const L = T.livenessMs;
  const auditOf = (fx: Effect[]) =>
    fx.find((e) => e.type === 'audit') as { id: number } | undefined;
  const liveSet = (fx: Effect[]) =>
    (fx.find((e) => e.type === 'set' && e.name === 'live') as { ms: number } | undefined)?.ms;

  it('pushes move the audit to livenessMs after the last one, with no timer work per push', () => {
    // HEALTHY at 0 (push 2); push 3 at 10 s costs no effect but its apply.
    let r = drive([...healthy, push(3, 'E1', null, 10_000)]);
    expect(r.last.map((e) => e.type)).toEqual(['apply']);
    // The timer set at 0 fires at L: not due yet, it re-arms for the rest of the window.
    r = drive([timer('live', L)], r.s);
    expect(auditOf(r.last)).toBeUndefined();
    expect(liveSet(r.last)).toBe(10_000);
    // At 10 s + L without another push: one audit.
    r = drive([timer('live', 10_000 + L)], r.s);
    const audit = auditOf(r.last);
    expect(audit).toBeDefined();
    r = drive([{ type: 'audited', id: audit!.id, changed: true, at: 10_050 + L }], r.s);
    expect(r.last).toContainEqual({ type: 'handshake', gen: 2, full: false });
    expect(r.s.error?.code).toBe('TIMEOUT');
  });

  it('an unchanged server proves the channel: HEALTHY, next audit a window after the answer', () => {
    let r = drive([...healthy, timer('live', L)]);
    const audit = auditOf(r.last)!;
    r = drive([{ type: 'audited', id: audit.id, changed: false, at: L + 40 }], r.s);
    expect(r.s.mode).toBe('HEALTHY');
    expect(r.s.lastProofAt).toBe(L + 40);
    expect(liveSet(r.last)).toBe(L);
  });

  it('a failed audit proves nothing and asks again a whole window later', () => {
    let r = drive([...healthy, timer('live', L)]);
    const audit = auditOf(r.last)!;
    r = drive([{ type: 'audited', id: audit.id, changed: null, at: L + 40 }], r.s);
    expect(r.s.mode).toBe('HEALTHY');
    expect(r.s.lastProofAt).toBe(0);
    expect(liveSet(r.last)).toBe(L);
  });

  it('a push during the audit wins over a "changed" answer', () => {
    let r = drive([...healthy, timer('live', L)]);
    const audit = auditOf(r.last)!;
    r = drive(
      [push(3, 'E1', null, L + 10), { type: 'audited', id: audit.id, changed: true, at: L + 20 }],
      r.s,
    );
    expect(has(r.last, 'handshake')).toBe(false);
    expect(liveSet(r.last)).toBe(L - 10);
  });

  it('the timer firing while an audit is in flight leaves it to the answer', () => {
    let r = drive([...healthy, timer('live', L)]);
    expect(auditOf(r.last)).toBeDefined();
    r = drive([timer('live', 2 * L)], r.s);
    expect(r.last).toEqual([]);
  });

  it('a dropped push proves nothing', () => {
    // push(2) again is a duplicate: dropped, and the audit stays due at L.
    const r = drive([...healthy, push(2, 'E1', null, 5_000), timer('live', L)]);
    expect(r.s.stats.pushesDropped).toBe(1);
    expect(auditOf(r.last)).toBeDefined();
  });

  it('whatever the push timing, the audit goes out exactly livenessMs after the last push', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2 * L }), { maxLength: 40 }), (gaps) => {
        // The runtime's one live timer, simulated: pushes arrive after the given gaps, and
        // the timer fires when it is due (before a push due at the same time). The first
        // audit must go out exactly livenessMs after the push before it.
        let r = drive(healthy); // HEALTHY at 0: the timer is set for L
        let due = liveSet(r.all)!;
        let lastPush = 0;
        let seq = 2;
        // Fires the timer at `due`; true when it sent the audit.
        const fire = () => {
          const at = due;
          r = drive([timer('live', at)], r.s);
          if (auditOf(r.last)) {
            expect(at).toBe(lastPush + L);
            return true;
          }
          due = at + liveSet(r.last)!;
          return false;
        };
        for (const gap of gaps) {
          const at = lastPush + gap;
          while (due <= at) if (fire()) return;
          r = drive([push(++seq, 'E1', null, at)], r.s);
          lastPush = at;
        }
        // The pushes stop: the audit follows, livenessMs after the last one.
        expect(fire() || fire()).toBe(true);
      }),
    );
  });
});

describe('stop', () => {
  it('clears every timer and ignores later events', () => {
    let r = drive([...healthy, { type: 'stop' }]);
    expect(r.s.mode).toBe('DISCONNECTED');
    for (const name of ['grace', 'first', 'retry', 'poll', 'live'])
      expect(has(r.last, 'clear', { name })).toBe(true);
    r = drive([push(3), timer('live'), { type: 'connected' }], r.s);
    expect(r.all).toEqual([]);
  });

  it('never mutates the previous state', () => {
    const before = drive(healthy).s;
    const copy = structuredClone(before);
    transition(before, push(3), T);
    expect(before).toEqual(copy);
    // While a handshake is pending pushes are held: the held list of `prev` stays as it was.
    const pending = drive([...started, push(2)]).s;
    const pendingCopy = structuredClone(pending);
    transition(pending, push(3), T);
    expect(pending).toEqual(pendingCopy);
    expect(pending.held).toHaveLength(1);
  });
});

describe('the in-order push shortcut', () => {
  const ack = (tagged: boolean): MachineEvent => ({
    type: 'ack',
    gen: 1,
    epoch: 'E1',
    seqBase: 1,
    tagged,
  });
  // Every kind of state a push can meet.
  const states: Record<string, MachineState> = {
    healthy: drive(healthy).s,
    'healthy, tagged': drive([...started, ack(true), push(2, 'E1', 1)]).s,
    'awaiting the first snapshot': drive([...started, ack(false)]).s,
    'handshake in flight': drive(started).s,
    'resync in flight': drive([...healthy, { type: 'resync', reason: 'x' }]).s,
    degraded: drive([...started, ack(false), timer('first')]).s,
    failed: drive([
      ...started,
      { type: 'nack', gen: 1, code: 'HANDSHAKE_FAILED', serverCode: 'FORBIDDEN', message: 'no' },
    ]).s,
    disconnected: drive([...healthy, { type: 'disconnected' }]).s,
    stopped: drive([...healthy, { type: 'stop' }]).s,
    'not started': initialMachineState(),
  };
  const pushes: Record<string, MachineEvent> = {
    'next seq': push(3),
    duplicate: push(2),
    stale: push(1),
    gap: push(5),
    'other epoch': push(3, 'E2'),
    'tagged with the period': push(3, 'E1', 1),
    'tagged with another period': push(3, 'E1', 2),
  };

  it('gives exactly what the general rules give, and is taken only for the next seq while HEALTHY', () => {
    const taken: string[] = [];
    for (const [sName, s] of Object.entries(states)) {
      for (const [pName, ev] of Object.entries(pushes)) {
        const general = generalTransition(s, ev, T, 0.5);
        expect(transition(s, ev, T, 0.5), `${sName} + ${pName}`).toStrictEqual(general);
        const fast = inOrderPush(s, (ev as { push: PushIn }).push);
        if (!fast) continue;
        taken.push(`${sName} + ${pName}`);
        expect(
          [fast, [{ type: 'apply', snapshot: { seq: 3 }, source: 'push', fromInitial: false }]],
          `${sName} + ${pName}`,
        ).toStrictEqual(general);
      }
    }
    expect(taken.sort()).toEqual([
      'healthy + next seq',
      'healthy + tagged with another period', // untagged period: the tag means nothing
      'healthy + tagged with the period',
      'healthy, tagged + tagged with the period',
    ]);
  });

  it('agrees with the general rules over a long run, and never mutates the state it is given', () => {
    let fast = drive(healthy).s;
    let slow = fast;
    for (let seq = 3; seq < 60; seq++) {
      const ev = push(seq);
      const before = structuredClone(fast);
      const next = transition(fast, ev, T);
      expect(fast).toStrictEqual(before);
      [slow] = generalTransition(slow, ev, T);
      fast = next[0];
    }
    expect(fast).toStrictEqual(slow);
    expect(fast.lastSeq).toBe(59);
    expect(fast.stats.pushesApplied).toBe(58);
  });
});
