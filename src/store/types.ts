/**
 * The sync store machine's vocabulary: its state, inputs and outputs. Kept apart
 * from the transition function so both the machine and the store runtime read them.
 */

/** Where the store stands. */
export type SyncMode = 'DISCONNECTED' | 'HANDSHAKE_PENDING' | 'HEALTHY' | 'DEGRADED' | 'FAILED';

/** Named timers of the machine; at most one of each is pending. */
export type TimerName = 'grace' | 'first' | 'retry' | 'poll' | 'live';

/** Timing knobs (all milliseconds). */
export interface Timing {
  handshakeTimeoutMs: number;
  pollIntervalMs: number;
  connectGraceMs: number;
  livenessMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  pollBackoffMaxMs: number;
  /** Minimum gap between two state notifications (store runtime only; the machine ignores it). */
  notifyIntervalMs: number;
}

/** A `state_push` as the machine sees it: `gen` is the handshake its envelope was tagged with, if any. */
export interface PushIn {
  epoch: string;
  seq: number;
  snapshot: object;
  gen: number | null;
}

/** Machine input. */
export type MachineEvent =
  | { type: 'start'; cache: { epoch: string | null } | null; connected: boolean }
  | { type: 'stop' }
  | { type: 'disposed' }
  | { type: 'connected' }
  | { type: 'disconnected' }
  | { type: 'ack'; gen: number; epoch: string; seqBase: number; tagged: boolean }
  | { type: 'nack'; gen: number; code: string; message: string; cause?: unknown }
  | { type: 'push'; push: PushIn }
  | { type: 'resync'; reason: string }
  | { type: 'timer'; name: TimerName }
  /** A poll's answer; `epoch` is the server runtime it came from, when the client knows it. */
  | {
      type: 'polled';
      id: number;
      ok: boolean;
      snapshot?: object;
      epoch?: string;
      code?: string;
      message?: string;
      cause?: unknown;
    }
  | { type: 'fatal'; code: string; message: string; cause?: unknown }
  | { type: 'audited'; id: number; changed: boolean | null }
  | { type: 'env'; hidden: boolean; online: boolean };

/** What the runtime must do, in order. */
export type Effect =
  | { type: 'mode'; from: SyncMode; to: SyncMode; reason: string }
  | { type: 'handshake'; gen: number; full: boolean }
  | { type: 'apply'; snapshot: object; source: 'push' | 'poll'; fromInitial: boolean }
  | { type: 'poll'; id: number; full: boolean }
  | { type: 'audit'; id: number }
  | { type: 'set'; name: TimerName; ms: number }
  | { type: 'clear'; name: TimerName }
  | { type: 'reconnect' }
  | { type: 'connect' }
  | { type: 'error'; code: string; message: string; cause?: unknown };

/** Everything the machine remembers. */
export interface MachineState {
  mode: SyncMode;
  running: boolean;
  connected: boolean;
  hidden: boolean;
  online: boolean;
  /** Runtime epoch of the applied state; null until one is known. */
  epoch: string | null;
  /** Last applied seq of the current period; 0 = none. */
  lastSeq: number;
  /** Handshake generation counter; `hs` is the one in flight. */
  gen: number;
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
  needFull: boolean;
  hasState: boolean;
  retries: number;
  authRetried: boolean;
  pollId: number;
  pollFull: boolean;
  pollFailures: number;
  /** Poll answers applied so far; a handshake remembers the count it was built on. */
  pollApplies: number;
  audit: { id: number; pushes: number } | null;
  /** Pushes applied in this run, and that count when the liveness timer last looked (a dropped push proves nothing). */
  pushes: number;
  livePushes: number;
  error: { code: string; message: string } | null;
  stats: {
    pushesApplied: number;
    pushesDropped: number;
    resyncs: number;
    polls: number;
    handshakes: number;
  };
}
