/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Every timer and every "now" in syncwire goes through a Clock, so tests can
 * run state machines on fake time with no sleeps.
 */
export interface Clock {
  /**
   * Wall time: milliseconds since 1970 (what `Date.now()` returns). Not a monotonic clock
   * such as `performance.now()`: this time is stamped on the wire (`ts`) and in the
   * warm-start cache (`savedAt`), both read by others. A client refuses a clock that is
   * not wall time; durations computed from it never go below 0 when it is set back.
   */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds; the handle cancels it. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a pending timer (a handle of a timer that fired or was cancelled is ignored). */
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

/** 2001-09-09 in ms since 1970: wall time is past it, and no monotonic clock counts this high. */
const WALL_TIME_FLOOR = 1e12;

/** The largest time a JavaScript `Date` can hold (ms since 1970); anything later is not a time. */
const DATE_MAX_MS = 8.64e15;

/** @internal true when `now` looks like wall time (see {@link Clock.now}). */
export const isWallTime = (now: unknown): now is number =>
  typeof now === 'number' && now >= WALL_TIME_FLOOR && now < DATE_MAX_MS;

/**
 * @internal Named one-shot timers, at most one per name, that can all be cancelled
 * at once, so `dispose()` and `stop()` can honestly promise that nothing is left scheduled.
 */
export interface Timers {
  /** (Re)schedules `fn` under `name`, cancelling that name's pending timer. */
  set(name: unknown, ms: number, fn: () => void): void;
  /** Cancels `name`'s timer; true if one was pending. */
  clear(name: unknown): boolean;
  /** True while `name`'s timer is pending. */
  has(name: unknown): boolean;
  /** Cancels everything still pending. */
  clearAll(): void;
}

/** @internal Named timers on `clock` (see {@link Timers}). */
export function createTimers(clock: Clock): Timers {
  const live = new Map<unknown, TimerHandle>();
  const t: Timers = {
    set(name, ms, fn) {
      t.clear(name);
      live.set(
        name,
        clock.setTimeout(() => {
          live.delete(name);
          fn();
        }, ms),
      );
    },
    clear(name) {
      if (!live.has(name)) return false;
      clock.clearTimeout(live.get(name));
      live.delete(name);
      return true;
    },
    has: (name) => live.has(name),
    clearAll() {
      live.forEach((h) => clock.clearTimeout(h));
      live.clear();
    },
  };
  return t;
}

// 2^30 times a base of at least 1 ms reaches the longest timer delay (2^31 - 1 ms) anyway;
// the bound keeps `2 ** attempt` finite however many attempts were made.
const MAX_BACKOFF_EXPONENT = 30;

/** @internal `baseMs * 2^attempt`, at most `maxMs`: the delay both jitter styles start from. */
export function cappedExponential(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, MAX_BACKOFF_EXPONENT));
}

/**
 * Full-jitter exponential backoff (AWS style): a random delay in
 * `[0, min(maxMs, baseMs * 2^attempt)]`, never below `minMs`.
 * Full jitter spreads a crowd of clients reconnecting after a restart.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
  minMs = 0,
): number {
  return Math.max(
    minMs,
    Math.round(cappedExponential(attempt, baseMs, maxMs) * unitRandom(random)),
  );
}

/**
 * @internal `random()` clamped to [0, 1]: an injected source that returns NaN or
 * negatives must never turn a backoff into a hot retry loop.
 */
export function unitRandom(random: () => number): number {
  const r = random();
  return r >= 0 && r <= 1 ? r : r > 1 ? 1 : 0.5;
}
