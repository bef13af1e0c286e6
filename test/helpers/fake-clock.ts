import type { Clock } from '../../src/index';

/** Lets every pending promise callback run (a real macrotask turn, not a sleep). */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface FakeClock extends Clock {
  /** Timers still scheduled. */
  pending(): number;
  /** Moves time forward by `ms`, running due timers in order and flushing promises between them. */
  advance(ms: number): Promise<void>;
  /** Runs timers until none is due within `ms`, flushing between them. */
  runAll(limitMs?: number): Promise<void>;
}

export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void; order: number }>();
  const next = () => {
    let best: [number, { at: number; order: number; fn: () => void }] | undefined;
    for (const e of timers)
      if (!best || e[1].at < best[1].at || (e[1].at === best[1].at && e[1].order < best[1].order))
        best = e;
    return best;
  };
  const clock: FakeClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn, order: id });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    pending: () => timers.size,
    async advance(ms) {
      const end = now + ms;
      await flush();
      for (;;) {
        const n = next();
        if (!n || n[1].at > end) break;
        timers.delete(n[0]);
        now = Math.max(now, n[1].at);
        n[1].fn();
        await flush();
      }
      now = end;
      await flush();
    },
    async runAll(limitMs = 600_000) {
      await clock.advance(limitMs);
    },
  };
  return clock;
}

/** `base`, recording every delay asked of its setTimeout (in order, repeats kept). */
export function recordingClock(base: FakeClock): FakeClock & { delays: number[] } {
  const delays: number[] = [];
  return {
    ...base,
    delays,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return base.setTimeout(fn, ms);
    },
  };
}
