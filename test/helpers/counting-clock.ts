import { systemClock, type Clock } from '../../src/index';

/** The real clock, counting live timers, so a test can prove nothing is left scheduled. */
export function countingClock(): Clock & { pending(): number } {
  const live = new Set<unknown>();
  return {
    now: () => systemClock.now(),
    setTimeout(fn, ms) {
      const h = systemClock.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      systemClock.clearTimeout(h);
    },
    pending: () => live.size,
  };
}
