/**
 * @internal The messages tabs of one channel send each other over BroadcastChannel, and their
 * check. Another tab is not trusted more than the server: it may run an older or newer build
 * of the page, another library on the same channel name may post to it, and a tab's memory may
 * be corrupted. So each message is read field by field into a typed one, and anything else is
 * dropped with an `INVALID_ENVELOPE` error naming the field, never half-applied.
 */
import { fail, type SyncwireErrorCode } from '../errors';
import { EVENT_NAME } from '../protocol';
import type { SyncCounters } from '../store/api';
import type { SyncMode } from '../store/types';
import { isPlainObject, kindOf } from '../util';

/** The envelope version. A tab of another version is another protocol: its messages are dropped. */
export const TABS_VERSION = 1;

/**
 * The health a leader mirrors: its store's health as data. `staleMs` travels as `confirmedAt`
 * (when the state was last known current, wall time): tabs share the machine's clock, so a
 * follower computes the same `staleMs` when it reads it, however late the message came.
 */
export interface WireHealth {
  mode: SyncMode;
  connected: boolean;
  epoch: string | null;
  lastSeq: number;
  lastAppliedAt: number | null;
  source: 'push' | 'poll' | 'cache' | null;
  confirmedAt: number | null;
  lastError: { code: string; message: string } | null;
  counters: SyncCounters;
}

/** What each kind of message carries. */
export interface TabBodies {
  /**
   * A tab that starts following asks the leader for its snapshot. `term` and `leader`: the
   * leadership it follows, when it knows one (a follower that hears a lower one says hello
   * with them: that leader takes a term above, see mirror.ts).
   */
  hello: { term?: number; leader?: string };
  /**
   * The leader's snapshot. `term` orders leaders (each new one takes a higher term), `n` orders
   * one leader's messages: together they let a follower drop a late, duplicated or stale one.
   * `sn` is the `n` at which the state itself last changed: a follower that shows that state
   * keeps its object (a mode or health change is no new state, as in the leader's store).
   */
  state: { term: number; n: number; sn: number; state: unknown; health: WireHealth };
  /**
   * A follower's call, for the leader `to` to carry out with its client. `id` is the follower's
   * relay id, fresh for each call (the leader carries out an `(id, from)` once);
   * `correlationId` is the caller's own, which the server gets (the relay id when null).
   */
  request: {
    id: string;
    to: string;
    correlationId: string | null;
    op: 'request' | 'emit';
    event: string;
    data: unknown;
    timeoutMs: number | null;
    /** false: an emit the server is not asked to acknowledge; answered once the leader sent it. */
    confirm: boolean;
  };
  /** How the leader's call `id` for follower `to` settled. */
  result: {
    id: string;
    to: string;
    ok: boolean;
    value: unknown;
    error: { code: SyncwireErrorCode; message: string } | null;
  };
  /** A server event the leader's client received, for followers' `on()` subscriptions. */
  event: { event: string; payload: unknown };
  /** A follower's `resync()`, for the leader to run. */
  resync: { reason: string };
  /**
   * The server events follower `from` wants relayed: all of them each time (so a lost message
   * is repaired by the next), `n` counting them (so a late one does not undo a newer one).
   */
  subscribe: { n: number; events: string[] };
  /**
   * The BroadcastChannel election (election-bc.ts): a leader's heartbeat, a follower's bid to
   * lead, and a leader's goodbye. `term` orders leaderships as the mirror's `state.term` does.
   */
  lead: { term: number };
  claim: { term: number };
  resign: { term: number };
  /** A tab that joins the election asks the leader for a heartbeat at once. */
  probe: Record<string, never>;
}

/** A kind of message. */
export type TabKind = keyof TabBodies;

/** One message between tabs: version, channel, sending tab, kind and the kind's body. */
export type TabMessage<K extends TabKind = TabKind> = {
  [Kind in K]: {
    v: typeof TABS_VERSION;
    channel: string;
    from: string;
    kind: Kind;
    body: TabBodies[Kind];
  };
}[K];

/** Every error code, so a relayed error keeps one of the documented codes (checked by tsc). */
const CODES = [
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'NOT_CONNECTED',
  'CONNECT_ERROR',
  'UNKNOWN_NAMESPACE',
  'TIMEOUT',
  'DISCONNECTED',
  'INVALID_ENVELOPE',
  'HANDLER_ERROR',
  'DISPOSED',
  'STREAM_ERROR',
  'HANDSHAKE_FAILED',
  'POLL_FAILED',
  'REDUCE_ERROR',
  'STORAGE_ERROR',
  'OVERFLOW',
  'ABORTED',
] as const satisfies readonly SyncwireErrorCode[];
// Fails to compile when errors.ts gains a code this list lacks.
const _allCodes: readonly (typeof CODES)[number][] = [] as SyncwireErrorCode[];

const MODES: readonly SyncMode[] = [
  'DISCONNECTED',
  'HANDSHAKE_PENDING',
  'HEALTHY',
  'DEGRADED',
  'FAILED',
];
const SOURCES = ['push', 'poll', 'cache', null] as const;
const COUNTERS = ['pushesApplied', 'pushesDropped', 'resyncs', 'polls', 'handshakes'] as const;
/** Ids and names are short: a long one is garbage, and would be kept (a tab id, a call id). */
export const MAX_ID = 200;
/** Most events one follower may ask for: the leader keeps each follower's list. */
export const MAX_EVENTS = 256;

const bad = (field: string, expected: string, value: unknown) =>
  fail(
    'INVALID_ENVELOPE',
    `tab message field '${field}': expected ${expected}, got ${kindOf(value)}`,
    {
      field,
    },
  );
const obj = (v: unknown, field: string) => {
  if (!isPlainObject(v)) throw bad(field, 'a plain object', v);
  return v;
};
const id = (v: unknown, field: string) => {
  if (typeof v !== 'string' || v === '' || v.length > MAX_ID) throw bad(field, 'an id', v);
  return v;
};
const str = (v: unknown, field: string) => {
  if (typeof v !== 'string') throw bad(field, 'a string', v);
  return v;
};
const bool = (v: unknown, field: string) => {
  if (typeof v !== 'boolean') throw bad(field, 'a boolean', v);
  return v;
};
/** An integer of at least `min`: cursors and counters. */
const int = (v: unknown, field: string, min: number) => {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw bad(field, `an integer >= ${min}`, v);
  return v as number;
};
/** A time (ms since 1970) or null. */
const time = (v: unknown, field: string) => {
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
    throw bad(field, 'a time or null', v);
  return v;
};
const oneOf = <T>(v: unknown, field: string, values: readonly T[]) => {
  if (!values.includes(v as T)) throw bad(field, `one of ${values.join(', ')}`, v);
  return v as T;
};
const eventName = (v: unknown, field: string) => {
  if (typeof v !== 'string' || !EVENT_NAME.test(v)) throw bad(field, 'an event name', v);
  return v;
};

function readHealth(v: unknown): WireHealth {
  const h = obj(v, 'body.health');
  const c = obj(h.counters, 'body.health.counters');
  const counters = {} as SyncCounters;
  for (const k of COUNTERS) counters[k] = int(c[k], `body.health.counters.${k}`, 0);
  let lastError: WireHealth['lastError'] = null;
  if (h.lastError !== null) {
    const e = obj(h.lastError, 'body.health.lastError');
    lastError = {
      code: str(e.code, 'body.health.lastError.code'),
      message: str(e.message, 'body.health.lastError.message'),
    };
  }
  return {
    mode: oneOf(h.mode, 'body.health.mode', MODES),
    connected: bool(h.connected, 'body.health.connected'),
    epoch: h.epoch === null ? null : id(h.epoch, 'body.health.epoch'),
    lastSeq: int(h.lastSeq, 'body.health.lastSeq', -1),
    lastAppliedAt: time(h.lastAppliedAt, 'body.health.lastAppliedAt'),
    source: oneOf(h.source, 'body.health.source', SOURCES),
    confirmedAt: time(h.confirmedAt, 'body.health.confirmedAt'),
    lastError,
    counters,
  };
}

/** Reads each kind's body into a fresh object: no field the kind does not name is kept. */
const BODIES: { [K in TabKind]: (b: Record<string, unknown>) => TabBodies[K] } = {
  hello: (b) => ({
    ...(b.term !== undefined && { term: int(b.term, 'body.term', 0) }),
    ...(b.leader !== undefined && { leader: id(b.leader, 'body.leader') }),
  }),
  state: (b) => ({
    term: int(b.term, 'body.term', 0),
    n: int(b.n, 'body.n', 0),
    sn: int(b.sn, 'body.sn', 0),
    state: b.state,
    health: readHealth(b.health),
  }),
  request: (b) => ({
    id: id(b.id, 'body.id'),
    to: id(b.to, 'body.to'),
    correlationId: b.correlationId === null ? null : id(b.correlationId, 'body.correlationId'),
    op: oneOf(b.op, 'body.op', ['request', 'emit'] as const),
    event: eventName(b.event, 'body.event'),
    data: b.data,
    timeoutMs: b.timeoutMs === null ? null : int(b.timeoutMs, 'body.timeoutMs', 1),
    confirm: bool(b.confirm, 'body.confirm'),
  }),
  result: (b) => {
    const ok = bool(b.ok, 'body.ok');
    let error: TabBodies['result']['error'] = null;
    if (!ok) {
      const e = obj(b.error, 'body.error');
      error = {
        code: oneOf(e.code, 'body.error.code', CODES),
        message: str(e.message, 'body.error.message'),
      };
    }
    return {
      id: id(b.id, 'body.id'),
      to: id(b.to, 'body.to'),
      ok,
      value: ok ? b.value : undefined,
      error,
    };
  },
  event: (b) => ({ event: eventName(b.event, 'body.event'), payload: b.payload }),
  resync: (b) => ({ reason: str(b.reason, 'body.reason').slice(0, MAX_ID) }),
  subscribe: (b) => {
    const { events } = b;
    if (!Array.isArray(events) || events.length > MAX_EVENTS)
      throw bad('body.events', `an array of at most ${MAX_EVENTS} event names`, events);
    return {
      n: int(b.n, 'body.n', 1),
      events: events.map((e, i) => eventName(e, `body.events.${i}`)),
    };
  },
  lead: (b) => ({ term: int(b.term, 'body.term', 0) }),
  claim: (b) => ({ term: int(b.term, 'body.term', 0) }),
  resign: (b) => ({ term: int(b.term, 'body.term', 0) }),
  probe: () => ({}),
};
const KINDS = Object.keys(BODIES) as TabKind[];

/**
 * Reads `value` (a `MessageEvent.data`) as a message of `channel`, into a new object that
 * shares only the opaque payloads (`state`, `data`, `value`, `payload`) with it. Throws an
 * `INVALID_ENVELOPE` {@link SyncwireError} naming the first bad field (`details.field`).
 */
export function readTabMessage(value: unknown, channel: string): TabMessage {
  const m = obj(value, '(message)');
  if (m.v !== TABS_VERSION) throw bad('v', `version ${TABS_VERSION}`, m.v);
  if (m.channel !== channel) throw bad('channel', JSON.stringify(channel), m.channel);
  const from = id(m.from, 'from');
  const kind = oneOf(m.kind, 'kind', KINDS);
  const body = BODIES[kind](obj(m.body, 'body'));
  return { v: TABS_VERSION, channel, from, kind, body } as TabMessage;
}

/** Builds a message of `kind` from tab `from` on `channel`. */
export const tabMessage = <K extends TabKind>(
  channel: string,
  from: string,
  kind: K,
  body: TabBodies[K],
): TabMessage<K> => ({ v: TABS_VERSION, channel, from, kind, body });
