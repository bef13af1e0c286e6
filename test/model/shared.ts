// What both models share: the command wrapper, the user's auth function as the world drives it,
// and the library's default timing.
import type fc from 'fast-check';
import { resolveTiming } from '../../src/store/options';
import type { Timing } from '../../src/index';
import type { FakeSocket } from '../helpers/fake-socket';
import type { SimClock } from './sim-clock';

/** A world the commands drive: its clock, and what broke so far. */
export interface Checked {
  clock: SimClock;
  violations: string[];
}

/** A command that always applies (it does nothing when its target is absent), then checks the invariants. */
export function command<W extends Checked>(
  label: string,
  act: (w: W) => void | Promise<void>,
): fc.AsyncCommand<object, W> {
  return {
    check: () => true,
    async run(_m, w) {
      await act(w);
      await w.clock.advance(0);
      if (w.violations.length) throw new Error(`after ${label}:\n  ${w.violations.join('\n  ')}`);
    },
    toString: () => label,
  };
}

/** What the user's auth function does next: answer with the current token or a stale one, nothing, throw, reject, or never answer. */
export type AuthMode = 'ok' | 'stale' | 'none' | 'throw' | 'reject' | 'hang';

/** The user's auth function in `mode`, `tokenGen` being the server's current token. */
export function userAuth(
  mode: AuthMode,
  tokenGen: number,
): Record<string, unknown> | Promise<Record<string, unknown>> {
  switch (mode) {
    case 'ok':
      return { csrf_token: `tok-${tokenGen}` };
    case 'stale':
      return { csrf_token: 'tok-0' };
    case 'none':
      return {};
    case 'throw':
      throw new Error('auth exploded');
    case 'reject':
      return Promise.reject(new Error('auth rejected'));
    case 'hang':
      return new Promise(() => {});
  }
}

/** The library's default timing, as the store resolves it (README: Timing). */
export const DEFAULT_TIMING: Timing = resolveTiming(undefined);

/** The part of a world that serves connects. */
export interface ConnectServer {
  socket(): FakeSocket | undefined;
  /** Sockets whose auth callback is running. */
  readonly authing: Set<FakeSocket>;
  readonly setup: { requireToken: boolean };
  tokenGen: number;
}

/**
 * The Manager opens the transport: the socket's auth callback runs, then the server rejects
 * a stale or missing token (when it checks them) or accepts, `greet` first (what a server
 * emits in its connect handler arrives before `connect`).
 */
export function serverConnect(w: ConnectServer, greet: (s: FakeSocket) => void = () => {}): void {
  const s = w.socket();
  if (!s || !s.active || s.connected || s.gaveUp || w.authing.has(s)) return;
  w.authing.add(s);
  void s.runAuth().then((data) => {
    w.authing.delete(s);
    if (s !== w.socket() || s.connected || !s.active || s.gaveUp) return;
    const token = (data as { csrf_token?: unknown }).csrf_token;
    if (w.setup.requireToken && token !== `tok-${w.tokenGen}`)
      return s.reject('Connection rejected by server', { code: 'CSRF_INVALID' });
    greet(s);
    s.accept();
  });
}
