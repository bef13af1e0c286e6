/**
 * The transport memo: for a while after a WebSocket was found blocked on a network, remember
 * it per server (origin and Engine.IO path), so that a reload on that network starts on
 * long-polling at once instead of waiting for the WebSocket attempt to fail first.
 */
import type { Clock } from '../clock';

/** The part of the Web Storage API the memo uses (`sessionStorage` has it). */
export interface MemoStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** @internal What the client asks of the memo. */
export interface TransportMemo {
  /** True while a WebSocket block seen less than `ttlMs` ago is remembered. */
  blocked(): boolean;
  /** A WebSocket attempt failed (`true`: remembered from now on) or succeeded (`false`: forgotten). */
  record(blocked: boolean): void;
}

/** @internal A memo that remembers nothing (`transportMemo: false`). */
export const noMemo: TransportMemo = { blocked: () => false, record: () => {} };

/** The page's sessionStorage, if it has one it may use (sandboxed frames throw on access). */
function sessionStore(): MemoStorage | undefined {
  try {
    return (globalThis as { sessionStorage?: MemoStorage }).sessionStorage;
  } catch {
    return undefined;
  }
}

/**
 * @internal The memo of one server, `key` naming it (origin and path), in `storage` (default:
 * the page's sessionStorage: one tab's network, forgotten with the tab). Storage that throws
 * (quota, privacy modes) or holds garbage only makes the memo forget: the client never breaks.
 */
export function createTransportMemo(
  key: string,
  ttlMs: number,
  clock: Clock,
  storage: MemoStorage | undefined = sessionStore(),
): TransportMemo {
  const name = `syncwire:ws-blocked:${key}`;
  return {
    blocked() {
      try {
        const at = (JSON.parse(storage?.getItem(name) ?? 'null') as { at?: unknown } | null)?.at;
        const age = clock.now() - (at as number);
        // An entry from the future (the clock was set back) is as doubtful as an old one.
        return typeof at === 'number' && age >= 0 && age < ttlMs;
      } catch {
        return false;
      }
    },
    record(blocked) {
      try {
        if (blocked) storage?.setItem(name, JSON.stringify({ at: clock.now() }));
        else storage?.removeItem(name);
      } catch {
        // A full or forbidden storage costs the next reload its head start, nothing more.
      }
    },
  };
}
