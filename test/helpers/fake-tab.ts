import type { ChannelLike } from '../../src/tabs/channel';
import type { FakeClock } from './fake-clock';

type Listener = (event: { data: unknown }) => void;

/**
 * One tab's clock on the shared `base`: `freeze()` holds the timers that come due (a frozen
 * page runs nothing) until `thaw()` runs them, late and in order; `kill()` drops every timer,
 * and any set later, for good (a crashed tab).
 */
export function createTabClock(base: FakeClock) {
  let seq = 0;
  let frozen = false;
  let dead = false;
  // This tab's scheduled timers (id → the base handle), and those that came due while frozen.
  const live = new Map<number, unknown>();
  const held = new Map<number, () => void>();
  return {
    now: () => base.now(),
    setTimeout(fn: () => void, ms: number) {
      const id = ++seq;
      if (dead) return id;
      const handle = base.setTimeout(() => {
        live.delete(id);
        if (frozen) held.set(id, fn);
        else fn();
      }, ms);
      live.set(id, handle);
      return id;
    },
    clearTimeout(handle: unknown) {
      const id = handle as number;
      if (live.has(id)) base.clearTimeout(live.get(id));
      live.delete(id);
      held.delete(id);
    },
    /** Timers this tab still has, scheduled or held. */
    pending: () => live.size + held.size,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      // One held timer may cancel another: each is taken out before it runs.
      for (const [id, fn] of [...held]) if (held.delete(id)) fn();
    },
    kill() {
      dead = true;
      live.forEach((handle) => base.clearTimeout(handle));
      live.clear();
      held.clear();
    },
  };
}

/**
 * `port` (addEventListener style) for a tab that can be frozen: what arrives while frozen
 * waits, and is heard in order on `thaw()` (a frozen page's events run when it resumes).
 */
export function freezablePort(port: ChannelLike) {
  let frozen = false;
  const waiting: (() => void)[] = [];
  const wrapped = new Map<Listener, Listener>();
  const wrapper: ChannelLike = {
    postMessage: (message) => port.postMessage(message),
    close: () => port.close(),
    addEventListener(type, fn) {
      const w: Listener = (event) => (frozen ? void waiting.push(() => fn(event)) : fn(event));
      wrapped.set(fn, w);
      port.addEventListener!(type, w);
    },
    removeEventListener(type, fn) {
      const w = wrapped.get(fn);
      if (w) port.removeEventListener!(type, w);
    },
  };
  return {
    port: wrapper,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const hear of waiting.splice(0)) hear();
    },
  };
}
