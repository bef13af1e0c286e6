/**
 * @internal Leader election between the tabs of one origin, on the Web Locks API: one exclusive
 * lock per channel name. The leader holds it for as long as it leads; every other tab waits in
 * the lock's queue. The browser releases a lock when its tab closes, crashes or navigates away,
 * and hands it to the next waiter: failover needs no heartbeat, no timeout and no clock.
 */
import { asError, fail, invalid, type SyncwireError } from '../errors';
import { fire, listen } from '../listeners';
import { noop } from '../util';

/** A tab's part in its channel: the leader runs the store, followers mirror it. */
export type TabRole = 'leader' | 'follower';

/**
 * The slice of `navigator.locks` (the Web Locks API's `LockManager`) an election uses.
 * `request` calls `callback` once the lock is granted and holds the lock until the promise
 * `callback` returns settles; aborting `signal` before then takes the request out of the queue
 * (its promise rejects with an `AbortError`). A `steal` by another tab releases the lock and
 * rejects the holder's `request` promise (with an `AbortError` too).
 */
export interface LocksLike {
  request(
    name: string,
    options: { mode: 'exclusive'; signal: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>;
}

/** Options of {@link createElection}. */
export interface ElectionOptions {
  /** The channel name: tabs with the same name elect one leader among them. */
  name: string;
  /** The lock manager. @default `navigator.locks` */
  locks?: LocksLike;
  /**
   * Hears a lock manager that fails (a `SecurityError` in an opaque origin, say) and a role
   * listener that throws, both as `HANDLER_ERROR`.
   */
  onError?: (error: SyncwireError) => void;
}

/** One tab's place in its channel's election. */
export interface Election {
  /** `'leader'` while this tab holds the lock; `'follower'` while it waits (and once disposed). */
  readonly role: TabRole;
  /**
   * The error that ended the election, when the lock manager failed: this tab then follows a
   * leader that may never come, and its owner has to run without one (see ElectionOptions.onError).
   */
  readonly error: SyncwireError | null;
  /** Calls `fn` with each new role (not on dispose). Returns the remover. */
  onRole(fn: (role: TabRole) => void): () => void;
  /** Leaves the election: releases the lock if held, leaves the queue if waiting. Idempotent. */
  dispose(): void;
}

/** Locks are one namespace per origin, shared with the page's own code: ours carry a prefix. */
export const LOCK_PREFIX = 'syncwire:tabs:';

/**
 * Joins the election of channel `name`: the tab becomes leader when the lock is granted (at
 * once when no other tab holds it) and stays leader until {@link Election.dispose}.
 *
 * @example
 * ```ts
 * const election = createElection({ name: 'app' })
 * election.onRole((role) => (role === 'leader' ? startStore() : followLeader()))
 * addEventListener('pagehide', () => election.dispose())
 * ```
 */
export function createElection(options: ElectionOptions): Election {
  const { name } = options;
  if (typeof name !== 'string' || name === '') throw invalid('name', 'a non-empty string');
  const locks = options.locks ?? (globalThis.navigator as { locks?: LocksLike } | undefined)?.locks;
  if (!locks || typeof locks.request !== 'function')
    throw invalid('locks', 'a lock manager (navigator.locks)');
  const report = options.onError ?? noop;
  const listeners = new Set<(role: TabRole) => void>();
  let role: TabRole = 'follower';
  let error: SyncwireError | null = null;
  let disposed = false;
  // One per request: aborting it takes a waiting request out of the queue. A granted one
  // ignores the abort, so `release` is what lets go of a held lock.
  let abort = new AbortController();
  let release = noop;

  const setRole = (next: TabRole) => {
    if (role === next) return;
    role = next;
    fire(listeners, next, (e) => report(asError(e, 'HANDLER_ERROR', 'onRole listener: ')));
  };

  const join = () => {
    const controller = (abort = new AbortController());
    let held = false;
    locks
      .request(LOCK_PREFIX + name, { mode: 'exclusive', signal: controller.signal }, () => {
        // Granted after dispose (the abort lost the race with the grant): hand it straight on.
        if (controller.signal.aborted) return Promise.resolve();
        held = true;
        return new Promise<void>((resolve) => {
          release = resolve;
          setRole('leader');
        });
      })
      .then(
        // Settles with the hold, i.e. after our own release (dispose): nothing left to do.
        noop,
        (e: unknown) => {
          if (controller.signal.aborted) return; // dispose() left the queue
          if (held) return lost(); // another tab stole the lock
          error = asError(e, 'HANDLER_ERROR', 'navigator.locks.request: ');
          report(error);
        },
      );
  };

  // Another tab stole the lock while we led: follow, and queue again so this tab can lead once
  // more. The abandoned hold resolves so nothing keeps waiting on it.
  const lost = () => {
    release();
    release = noop;
    if (disposed) return;
    setRole('follower');
    // A role listener may have disposed the election: then it leaves the queue for good.
    if (!disposed) join();
  };

  join();
  return {
    get role() {
      return role;
    },
    get error() {
      return error;
    },
    onRole: listen(listeners),
    dispose() {
      if (disposed) return;
      disposed = true;
      listeners.clear();
      role = 'follower';
      abort.abort(fail('ABORTED', 'election disposed'));
      release();
      release = noop;
    },
  };
}
