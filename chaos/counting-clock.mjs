// The real clock, counting live timers: a run (or a test) can prove nothing is left scheduled.
// The one implementation, for the chaos core and the tests (test/helpers/counting-clock.ts).
import { setTimeout, clearTimeout } from 'node:timers';

/**
 * @returns {{ now(): number, setTimeout(fn: () => void, ms: number): unknown,
 *   clearTimeout(h: unknown): void, pending(): number, max(): number }}
 */
export function countingClock() {
  const live = new Set();
  let max = 0;
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const h = setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      max = Math.max(max, live.size);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      clearTimeout(/** @type {any} */ (h));
    },
    /** Timers scheduled and not yet run or cleared. */
    pending: () => live.size,
    /** The most timers ever live at once. */
    max: () => max,
  };
}
