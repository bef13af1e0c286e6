/**
 * The sync store's public types: its options, what subscribers hear, and its health.
 */
import type { NamespacedClient } from '../client/client';
import type { Clock } from '../clock';
import type { SyncwireError } from '../errors';
import type { FetchLike } from '../util';
import type { EnvironmentSource } from './env';
import type { SyncMode, Timing } from './types';

/** Passed to `reduce` with each snapshot. */
export interface ReduceContext {
  /** Where the snapshot came from. */
  source: 'push' | 'poll';
  /** Ask for a full resync after this apply (e.g. a `log_guid` changed). */
  requestResync(reason?: string): void;
}

/**
 * Options of {@link createSyncStore}. `S` is the state, `Snap` a snapshot as the server sends it
 * (in a `state_push` and as the `/poll` answer), `P` the handshake and poll request data.
 * `Snap` is the server's word, not checked by the store: a `reduce` meant for servers it does not
 * control reads each field defensively (as `syncwire/agent-zero`'s does).
 */
export interface SyncStoreOptions<S, Snap extends object = object, P extends object = object> {
  /** The client of the namespace that serves `state_request` / `state_push` (typed or not). */
  client: NamespacedClient;
  /** HTTP fallback endpoint, relative to the client's url. @default '/poll' */
  pollUrl?: string;
  /** Builds the `state_request` data and the poll body from the current state. */
  payload?: (state: S) => P;
  /** Returns the next state. @default the snapshot replaces the state */
  reduce?: (state: S, snapshot: Snap, context: ReduceContext) => S;
  /** State before anything arrived; a full resync reduces onto it. @default {} */
  initialState?: S;
  /** A warm-start cache, e.g. `persistence({ key })` from `syncwire/persist`. @default false */
  persist?: false | PersistPlugin<S>;
  /** Timing knobs, milliseconds. */
  timing?: Partial<Timing>;
  /** Decides whether an audit poll shows the server moved on. @default reduce it and compare */
  hasChanged?: (state: S, snapshot: Snap) => boolean;
  /** fetch for polls. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Page visibility and network signals. @default the browser's */
  environment?: EnvironmentSource;
  /** Randomness for jitter. @default Math.random */
  random?: () => number;
}

/** What subscribers hear: a coalesced state change, a mode change, or a coalesced health change. */
export type SyncStoreEvent<S> =
  | { type: 'state'; state: S }
  | { type: 'mode'; from: SyncMode; to: SyncMode; reason: string }
  /**
   * `store.health` changed (a counter, the last error, the connection) with neither a state nor
   * a mode event, which make subscribers read it again anyway: coalesced like state events.
   * `staleMs` growing is no change: read it from a timer to show it ticking.
   */
  | { type: 'health' };

/** What a store has done, counted over its whole life (restarts included). */
export interface SyncCounters {
  /** Pushes applied in order. */
  pushesApplied: number;
  /** Pushes not applied: malformed, stale, duplicate, of another period, or while degraded. */
  pushesDropped: number;
  /** Full resyncs (a gap, an epoch change, a reduce failure, `resync()`). */
  resyncs: number;
  /** Polls sent while degraded. */
  polls: number;
  /** Handshakes (`state_request`) sent. */
  handshakes: number;
}

/**
 * A snapshot of how the store is doing: frozen, and the same object on every read of
 * `store.health` until one of its fields changes (`staleMs` aside, see there).
 */
export interface SyncHealth {
  /** The store's mode (see {@link SyncMode}). */
  readonly mode: SyncMode;
  /** Whether the client's socket is connected. */
  readonly connected: boolean;
  /** Runtime epoch of the applied state. */
  readonly epoch: string | null;
  /** The seq of the last push applied in that epoch (-1: none). */
  readonly lastSeq: number;
  /** When state was last applied, and from where. */
  readonly lastAppliedAt: number | null;
  /** Where the state shown came from (null: nothing applied yet). */
  readonly source: 'push' | 'poll' | 'cache' | null;
  /**
   * 0 while HEALTHY; otherwise ms since the state was last known current (null: never). Computed
   * when read (a getter on the snapshot), so it stays right as time passes without making a new
   * snapshot; nothing notifies as it grows: re-read it from a timer to show it ticking.
   */
  readonly staleMs: number | null;
  /** The last error the store met, kept after recovery (null: none yet). */
  readonly lastError: Readonly<{ code: string; message: string }> | null;
  /** Counts over the store's whole life (restarts included). */
  readonly counters: Readonly<SyncCounters>;
}

/** The store. */
export interface SyncStore<S> {
  /** The current mode. */
  readonly mode: SyncMode;
  /**
   * The state shown: the store's own object, the same one until an apply replaces it (so it
   * can be compared by identity). Not frozen: treat it as read-only, and have `reduce` return
   * a new object for every change.
   */
  readonly state: S;
  /** How the store is doing: a frozen snapshot, the same object until something in it changes. */
  readonly health: SyncHealth;
  /**
   * The timing the store runs on: the `timing` option over the defaults, clamped as documented
   * (`connectGraceMs` at most 3000). Frozen. A page that explains the store's waits (a
   * countdown to the liveness audit) reads it here rather than keeping its own copy.
   */
  readonly timing: Readonly<Timing>;
  /** Starts syncing (restores the cache first when `persist` is on). Restarting after FAILED retries. */
  start(): Promise<void>;
  /** Stops: no timer, listener, poll or request is left behind. The state is kept. */
  stop(): void;
  /** Full resync (e.g. after the page switches context); keeps showing the last good state until it lands. */
  resync(reason?: string): void;
  /** Called after each coalesced apply and each mode change. */
  subscribe(listener: (event: SyncStoreEvent<S>) => void): () => void;
}

/** State as a warm-start cache keeps it: with the epoch it belongs to and when it was current. */
export interface CachedState<S = unknown> {
  epoch: string | null;
  savedAt: number;
  state: S;
}

/** What a store gives its cache: the store's clock, and where failures go (they reach `onError`). */
export interface PersistHost {
  clock: Clock;
  report: (error: SyncwireError) => void;
}

/** One store's cache, as {@link PersistPlugin} opens it. */
export interface PersistSession<S> {
  /** Read once on start, before the network answers; undefined when nothing usable is cached. Should neither throw nor reject: either is reported (HANDLER_ERROR) and counts as nothing cached. */
  load(): Promise<CachedState<S> | undefined>;
  /** Called with every applied state; the cache decides when to write. */
  save(state: CachedState<S>): void;
  /** Writes a pending state now (the page is left, the store stops). */
  flush(): void;
}

/** The `persist` option: opens a cache for one store. `syncwire/persist` makes one for IndexedDB or any storage. */
export type PersistPlugin<S> = (host: PersistHost) => PersistSession<S>;
