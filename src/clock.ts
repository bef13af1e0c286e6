/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Every timer and every "now" in syncwire goes through a Clock, so tests can
 * run state machines on fake time with no sleeps.
 */
export interface Clock {
  /** Milliseconds since the epoch (or any monotonic origin). */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. The globals are wrapped, not referenced, so anything that
 * replaces `globalThis.setTimeout` later (fake timers, zone.js) still applies.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * @internal A set of timers that can all be cancelled at once, so `dispose()`
 * can honestly promise that nothing is left scheduled.
 */
export interface TimerGroup {
  /** Schedules `fn` once; returns a canceller. */
  set(fn: () => void, ms: number): () => void;
  /** Cancels everything still pending. */
  clear(): void;
}

/** @internal */
export function createTimerGroup(clock: Clock): TimerGroup {
  const live = new Set<TimerHandle>();
  return {
    set(fn, ms) {
      const handle = clock.setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return () => {
        if (live.delete(handle)) clock.clearTimeout(handle);
      };
    },
    clear() {
      live.forEach((h) => clock.clearTimeout(h));
      live.clear();
    },
  };
}

/**
 * Full-jitter exponential backoff (AWS style): a random delay in
 * `[0, min(maxMs, baseMs * 2^attempt)]`, never below `minMs`.
 * Full jitter spreads a crowd of clients reconnecting after a restart.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number, minMs = 0): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs, Math.round(ceiling * unitRandom(random)));
}

/**
 * @internal `random()` clamped to [0, 1]: an injected source that returns NaN or
 * negatives must never turn a backoff into a hot retry loop.
 */
export function unitRandom(random: () => number): number {
  const r = random();
  return r >= 0 && r <= 1 ? r : r > 1 ? 1 : 0.5;
}
