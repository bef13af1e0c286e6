import type { Clock } from '../../src/index';
import { countingClock as counting } from '../../chaos/counting-clock.mjs';

/** The real clock, counting live timers, so a test can prove nothing is left scheduled. */
export const countingClock: () => Clock & { pending(): number; max(): number } = counting;
