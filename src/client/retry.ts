/**
 * The client's retries after the server rejected a connect: Socket.IO's Manager retries
 * transport failures by itself, but not a rejection (a CSRF token from before a restart) nor a
 * server-side disconnect. Full-jitter backoff, with a floor.
 */
import { backoffDelay, type Timers } from '../clock';
import type { Logger } from '../logger';

/** The name of the timer of the next retry after a rejection. */
const RETRY_TIMER = 'retry';
// The shortest retry delay: full jitter can draw 0, and instant rejections would loop tightly.
const RETRY_FLOOR_MS = 50;

/** @internal The rejection retries of one client. */
export interface Retry {
  /** Runs `open` after the next backoff delay, unless a retry is already pending. */
  schedule(open: () => void): void;
  /** True while a retry is pending. */
  pending(): boolean;
  /** Cancels the pending retry (the backoff goes on from where it was). */
  cancel(): void;
  /** Connected: cancels the pending retry and starts the backoff afresh. */
  reset(): void;
}

/** @internal Retries on `timers`, with the client's `retry` option and randomness. */
export function createRetry(
  opts: { retryBaseMs: number; retryMaxMs: number; random: () => number; logger: Logger },
  timers: Timers,
): Retry {
  let attempt = 0;
  return {
    schedule(open) {
      if (timers.has(RETRY_TIMER)) return;
      const { retryBaseMs, retryMaxMs, random } = opts;
      const delay = backoffDelay(attempt++, retryBaseMs, retryMaxMs, random, RETRY_FLOOR_MS);
      opts.logger.log('connect', 'retry', { delay });
      timers.set(RETRY_TIMER, delay, open);
    },
    pending: () => timers.has(RETRY_TIMER),
    cancel: () => void timers.clear(RETRY_TIMER),
    reset() {
      timers.clear(RETRY_TIMER);
      attempt = 0;
    },
  };
}
