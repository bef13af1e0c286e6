/**
 * The sync store machine's vocabulary: its state, inputs and outputs. Kept apart
 * from the transition function so both the machine and the store runtime read them.
 */
import type { SyncwireErrorCode } from '../errors';
import type { SyncCounters } from './api';

/** Where the store stands. */
export type SyncMode = 'DISCONNECTED' | 'HANDSHAKE_PENDING' | 'HEALTHY' | 'DEGRADED' | 'FAILED';

// The modes, named once so no rule spells one out by hand.
/** @internal No connection yet (or it was lost) and the grace time is running. */
export const DISCONNECTED = 'DISCONNECTED';
/** @internal Connected; a handshake asks for the state and the push cursor. */
export const HANDSHAKE_PENDING = 'HANDSHAKE_PENDING';
/** @internal Pushes arrive in order and are applied. */
export const HEALTHY = 'HEALTHY';
/** @internal The push channel is not trusted: polling keeps the state fresh. */
export const DEGRADED = 'DEGRADED';
/** @internal Nothing can sync any more (a terminal error); `resync()` is the way out. */
export const FAILED = 'FAILED';

/** Every timer of the machine, in one list: {@link TimerName} is read from it. */
export const TIMER_NAMES = ['grace', 'first', 'retry', 'poll', 'live'] as const;

/** Named timers of the machine; at most one of each is pending. */
export type TimerName = (typeof TIMER_NAMES)[number];

/**
 * Timing knobs (all milliseconds). Each is at least 1 ms (`notifyIntervalMs` may be 0), and
 * `connectGraceMs` is clamped to 3000 at most: a page with no push channel must not wait
 * longer than that for its first poll.
 */
export interface Timing {
  /** How long a handshake (`state_request`) may wait for its ack, then for its first push. @default 2000 */
  handshakeTimeoutMs: number;
  /** Time between two polls while DEGRADED. @default 250 */
  pollIntervalMs: number;
  /** How long a store without a connection waits before it polls (at most 3000). @default 2000 */
  connectGraceMs: number;
  /**
   * While HEALTHY, this long after the last push (or audit) that proved the channel, one poll
   * asks the server whether its state moved on: a silent channel is noticed within
   * `livenessMs` plus that poll's round trip. @default 30000
   */
  livenessMs: number;
  /** The first delay of the handshake retry backoff (equal jitter). @default 500 */
  backoffBaseMs: number;
  /** The longest delay of the handshake retry backoff. @default 5000 */
  backoffMaxMs: number;
  /** The longest delay between polls after failed polls. @default 5000 */
  pollBackoffMaxMs: number;
  /** Minimum gap between two state notifications (store runtime only; the machine ignores it). */
  notifyIntervalMs: number;
}

/** A `state_push` as the machine sees it: `gen` is the handshake its envelope was tagged with, if any. */
export interface PushIn {
  /** The runtime epoch the push belongs to (`runtime_epoch`). */
  epoch: string;
  /** Its sequence number within the epoch. */
  seq: number;
  /** The state (or delta) it carries, for `reduce`. */
  snapshot: object;
  /** The handshake it answers, when the server tags pushes (`push_correlation`); else null. */
  gen: number | null;
  /** When it arrived (the client's clock): an applied push proves the channel as of then. */
  at: number;
}

/** Machine input. */
export type MachineEvent =
  | { type: 'start'; cache: { epoch: string | null } | null; connected: boolean }
  | { type: 'stop' }
  | { type: 'disposed' }
  | { type: 'connected' }
  | { type: 'disconnected' }
  | { type: 'ack'; gen: number; epoch: string; seqBase: number; tagged: boolean }
  /**
   * Handshake `gen` failed. A server's own error code (`INVALID_REQUEST`, `NO_HANDLERS`, ...)
   * arrives as `code: 'HANDSHAKE_FAILED'` with `serverCode`, which the retry rules read.
   */
  | {
      type: 'nack';
      gen: number;
      code: SyncwireErrorCode;
      message: string;
      serverCode?: string;
      cause?: unknown;
    }
  | { type: 'push'; push: PushIn }
  /** A `state_push` whose data is malformed (`message` says which field): dropped and reported. */
  | { type: 'pushInvalid'; message: string }
  | { type: 'resync'; reason: string }
  /** A timer fired; `at` is the clock's time then (the liveness timer measures from it). */
  | { type: 'timer'; name: TimerName; at: number }
  /** A poll's answer; `epoch` is the server runtime it came from, when the client knows it. */
  | {
      type: 'polled';
      id: number;
      ok: boolean;
      snapshot?: object;
      epoch?: string;
      code?: SyncwireErrorCode;
      message?: string;
      cause?: unknown;
    }
  /** An apply's reduce returned: reported for a snapshot from the initial state, or when it asked for a resync. */
  | { type: 'reduced'; ok: true; fromInitial: boolean; resync?: string }
  /** An apply's reduce threw (`message`, `cause`): the state was left as it was. */
  | { type: 'reduced'; ok: false; fromInitial: boolean; message: string; cause?: unknown }
  | { type: 'fatal'; code: SyncwireErrorCode; message: string; cause?: unknown }
  /** A failure of the runtime's own to report (a cache, a liveness audit): heard even when stopped. */
  | { type: 'error'; code: SyncwireErrorCode; message: string; cause?: unknown }
  /** An error the client already reported to `onError` (a refused connect): why the store is not HEALTHY. */
  | { type: 'clientError'; code: SyncwireErrorCode; message: string }
  /**
   * A liveness audit's answer, received `at`: `changed` says whether the server's state moved
   * on from the one shown (null: the audit failed and proves nothing).
   */
  | { type: 'audited'; id: number; changed: boolean | null; at: number }
  | { type: 'env'; hidden: boolean; online: boolean };

/** @internal The machine event of one `type`, for the rule that handles it. */
export type EventOf<T extends MachineEvent['type']> = Extract<MachineEvent, { type: T }>;

/** What the runtime must do, in order. */
export type Effect =
  | { type: 'mode'; from: SyncMode; to: SyncMode; reason: string }
  | { type: 'handshake'; gen: number; full: boolean }
  /**
   * Reduce `snapshot` onto the state (onto the initial state when `fromInitial`). Its outcome
   * goes back as a `reduced` event before any other event; once one apply of an effect list
   * failed, the list's later applies are skipped: they were decided before the failure was known.
   */
  | { type: 'apply'; snapshot: object; source: 'push' | 'poll'; fromInitial: boolean }
  | { type: 'poll'; id: number; full: boolean }
  | { type: 'audit'; id: number }
  | { type: 'set'; name: TimerName; ms: number }
  | { type: 'clear'; name: TimerName }
  | { type: 'reconnect' }
  | { type: 'connect' }
  /** The state shown was known current until now: the push channel stops vouching for it. */
  | { type: 'confirmed' }
  | { type: 'error'; code: SyncwireErrorCode; message: string; details?: unknown; cause?: unknown };

/** Everything the machine remembers. */
export interface MachineState {
  /** Where the store stands; changed only through a `mode` effect. */
  mode: SyncMode;
  /** Between `start` and `stop`/`disposed`; a stopped machine hears only a few events. */
  running: boolean;
  /** Whether the client's socket is connected (as far as the machine heard). */
  connected: boolean;
  /** The page is hidden: polling pauses. */
  hidden: boolean;
  /** The browser says it is online; offline pauses polling. */
  online: boolean;
  /** Runtime epoch of the applied state; null until one is known. */
  epoch: string | null;
  /** Last applied seq of the current period; 0 = none. */
  lastSeq: number;
  /** Handshake generation counter; `hs` is the one in flight. */
  gen: number;
  /** The handshake in flight: its gen, whether it asked for full state, and `pollApplies` when it was built. */
  hs: { gen: number; full: boolean; polls: number } | null;
  /** The first handshake sent on the current connection (-1: none yet). Pushes held for a later one may be older. */
  connFirstGen: number;
  /** Pushes received while a handshake is in flight. */
  held: PushIn[];
  /** Ack received, first snapshot of the period not yet applied. */
  awaiting: boolean;
  /** The period's first apply replaces the state (a full resync). */
  fullPeriod: boolean;
  /** The handshake whose correlationId the server tags this period's pushes with (`push_correlation`); null: untagged. */
  period: number | null;
  /** The next handshake or poll must ask for full state (a gap, an epoch change, a resync). */
  needFull: boolean;
  /** Some state was applied (or restored from a cache): there are cursors to resume from. */
  hasState: boolean;
  /** Failed handshakes in a row: the exponent of the retry backoff. */
  retries: number;
  /**
   * A push already woke this degraded spell (an immediate handshake instead of the scheduled
   * retry): later pushes wait for the backoff, so a push channel that works while handshakes
   * fail costs one extra handshake, not one per push. Cleared on HEALTHY and on each connect.
   */
  pushWoke: boolean;
  /** The one reconnect with fresh credentials an auth-like refusal gets was spent. */
  authRetried: boolean;
  /** The id of the latest poll or audit; an answer with another id is stale and ignored. */
  pollId: number;
  /** The poll in flight asked for full state. */
  pollFull: boolean;
  /** Failed polls in a row: the exponent of the poll backoff. */
  pollFailures: number;
  /** Poll answers applied so far; a handshake remembers the count it was built on. */
  pollApplies: number;
  /** The liveness audit in flight: its poll id, and `pushes` when it was sent. */
  audit: { id: number; pushes: number } | null;
  /** Pushes applied in this run. */
  pushes: number;
  /**
   * When the push channel was last proved working while HEALTHY (the clock's time): an applied
   * push arrived, or an audit found the server's state unchanged. A dropped push proves nothing.
   * The liveness audit is due `livenessMs` after it.
   */
  lastProofAt: number;
  /**
   * Reduce failures since the last clean apply from the initial state. While above 0 only a
   * snapshot from the initial state applies: a delta on top of the state that missed the
   * failed one would show a state the server never had. Two in a row from scratch is FAILED.
   */
  reduceFailures: number;
  /** The last error reported (health.lastError): kept until another replaces it, over restarts too. */
  error: { code: SyncwireErrorCode; message: string } | null;
  /** The store's counters (health.counters), over its whole life. */
  stats: SyncCounters;
}
