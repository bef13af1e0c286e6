/**
 * @internal The mirror's types (see mirror.ts): what a leader mirrors, the mirror's options and
 * the mirror itself, and the health a shared store shows.
 */
import type { Clock } from '../clock';
import type { SyncHealth, SyncMode, SyncStoreEvent } from '../index';
import type { TabChannel } from './channel';
import type { TabRole } from './election';

/** A store's health, with the part its tab plays. */
export interface SharedHealth extends SyncHealth {
  /** `'leader'`: this tab runs the store; `'follower'`: it shows the leader's. */
  readonly role: TabRole;
}

/** What a leader mirrors: a sync store fits. */
export interface MirrorSource<S> {
  readonly state: S;
  readonly health: SyncHealth;
  subscribe(listener: (event: SyncStoreEvent<S>) => void): () => void;
}

/** Options of {@link createMirror}. */
export interface MirrorOptions<S> {
  /** This tab's end of the channel (see openTabChannel). */
  channel: TabChannel;
  clock: Clock;
  /** What a follower shows before the first snapshot. */
  initialState: S;
  /** Minimum gap between two state notifications, as the store's `timing.notifyIntervalMs`. */
  notifyIntervalMs: number;
  /** Hears a subscriber that throws. */
  onError?: (error: unknown) => void;
  /**
   * Hears the tab id of each new leader, from the first snapshot of a higher term (this tab's
   * own when it leads): where a follower's relayed calls go from now on.
   */
  onLeader?: (tabId: string) => void;
}

/** The state a follower shows and where it stands among leaders (see {@link createMirror}). */
export interface Mirror<S> {
  readonly role: TabRole;
  /** The state last shown: mirrored while following, the leader's own while leading. */
  readonly state: S;
  readonly mode: SyncMode;
  /** A frozen snapshot, the same object until something in it changes; `role` is this tab's. */
  readonly health: SharedHealth;
  /** The tab id of the newest leader heard of (this tab's while it leads); null: none yet. */
  readonly leader: string | null;
  /** The highest leader term seen, and the cursors of the state shown: where a failover resumes. */
  readonly cursor: Readonly<{ term: number; epoch: string | null; lastSeq: number }>;
  /** Hears mirrored changes while following (a leader's subscribers listen to its store). */
  subscribe(listener: (event: SyncStoreEvent<S>) => void): () => void;
  /** Leads: posts `source`'s snapshot now and with each of its notifications; answers `hello`. */
  lead(source: MirrorSource<S>): void;
  /** Follows: stops posting, and says `hello` so the leader posts its snapshot at once. */
  follow(): void;
  /**
   * Rests (the shared store stopped): stops leading, cancels a pending notification, and
   * follows silently. The state shown stays; {@link Mirror.follow} or {@link Mirror.lead} wakes it.
   */
  pause(): void;
  /** Stops posting and applying; cancels a pending notification. The channel is the caller's. */
  dispose(): void;
}
