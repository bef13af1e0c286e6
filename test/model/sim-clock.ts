import type { Clock } from '../../src/index';
import { mulberry32 } from '../../demo/server/world.mjs';

/** One macrotask turn: every promise callback queued so far (and those they queue) runs. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Entry {
  at: number;
  order: number;
  fn: () => void;
  /**
   * Whose timer: 'world' for the simulated world's own (network latency, a Manager's
   * backoff), which are not the library's; otherwise the tag of the clock view that set it.
   */
  owner: string;
}

/**
 * The clock the models run on. The library's timers and the simulated world's timers share
 * one timeline, but only the library's count in `pending()`, so "nothing left after stop"
 * can be checked exactly. Time moves only in `advance`, one due timer at a time, with a
 * settle and a `tick` callback after each, so invariants are checked at every instant
 * something happened, not only between commands.
 */
export interface SimClock extends Clock {
  /** Library timers still scheduled: all of them, or those set through `view(owner)`. */
  pending(owner?: string): number;
  /** The same timeline, with the timers set through it counted under `owner`. */
  view(owner: string): Clock;
  /** Schedules a timer of the simulated world (not counted by `pending`). */
  world(fn: () => void, ms: number): void;
  /** Moves time forward by `ms`, running due timers in order. */
  advance(ms: number): Promise<void>;
  /** Called after each timer that ran (and the settle after it). */
  onTick: () => void;
}

export function createSimClock(start: number): SimClock {
  let now = start;
  let order = 0;
  const timers = new Map<number, Entry>();

  const add = (fn: () => void, ms: number, owner: string) => {
    const id = ++order;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    timers.set(id, { at: now + delay, order: id, fn, owner });
    return id;
  };
  const remove = (id: number) => {
    const e = timers.get(id);
    if (e) timers.delete(id);
    return e;
  };
  const view = (owner: string): Clock => ({
    now: () => now,
    setTimeout: (fn, ms) => add(fn, ms, owner),
    clearTimeout: (handle) => void remove(handle as number),
  });
  const earliest = (): [number, Entry] | undefined => {
    let best: [number, Entry] | undefined;
    for (const pair of timers) {
      const e = pair[1];
      if (!best || e.at < best[1].at || (e.at === best[1].at && e.order < best[1].order))
        best = pair;
    }
    return best;
  };

  const clock: SimClock = {
    ...view('library'),
    view,
    pending(owner) {
      let n = 0;
      for (const e of timers.values())
        if (e.owner !== 'world' && (owner === undefined || e.owner === owner)) n++;
      return n;
    },
    world: (fn, ms) => void add(fn, ms, 'world'),
    onTick: () => {},
    async advance(ms) {
      const end = now + Math.max(0, ms);
      await settle();
      for (;;) {
        const next = earliest();
        if (!next || next[1].at > end) break;
        const e = remove(next[0]) as Entry;
        now = Math.max(now, e.at);
        e.fn();
        await settle();
        clock.onTick();
        await settle(); // what the tick hook set off (the world answering) happens before the next timer
      }
      now = end;
      await settle();
      clock.onTick();
      await settle();
    },
  };
  return clock;
}

/** A seeded PRNG (the demo world's mulberry32), so a run's jitter replays from its seed. */
export const seededRandom = (seed: number): (() => number) => mulberry32(seed);
