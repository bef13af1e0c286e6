/**
 * The client's error channel: `onError` listeners, and a console warning when nobody listens.
 */
import { asError, type SyncwireError } from '../errors';
import { fire, isInternal } from '../listeners';
import { noop } from '../util';
import type { ResolvedOptions } from './options';

/** @internal The `onError` listeners of one client, and how errors reach them. */
export interface ErrorReport {
  /** The `onError` listeners. */
  hooks: Set<(e: SyncwireError) => void>;
  /** Logs `e` (as a SyncwireError; anything else becomes HANDLER_ERROR) and tells the listeners. */
  report: (e: unknown) => void;
}

/** @internal Creates the error channel of one client. */
export function createErrorReport({ ns, warnUnheard, logger }: ResolvedOptions): ErrorReport {
  const hooks = new Set<(e: SyncwireError) => void>();
  const warned = new Set<string>();
  const report = (e: unknown) => {
    const err = asError(e, 'HANDLER_ERROR');
    logger.log('connect', 'error', { code: err.code, message: err.message });
    // A library that is otherwise silent says what goes wrong when nobody listens: once per
    // code, since a server that stays down repeats the same error every few seconds.
    // syncwire's own listeners (a store's) do not count as somebody listening.
    if (warnUnheard && !warned.has(err.code) && ![...hooks].some((fn) => !isInternal(fn))) {
      warned.add(err.code);
      console.warn(
        `[syncwire ${ns}] ${err.code}: ${err.message} (no onError listener on this client; later ${err.code} errors are not printed; logger: { warn: false } silences these)`,
      );
    }
    // Listeners that throw here are swallowed: reporting an error must never loop.
    fire(hooks, err, noop);
  };
  return { hooks, report };
}
