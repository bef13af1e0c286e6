/**
 * The sync store's defaults: its timing, and the `state_request` body it sends when
 * the caller gives no `payload`.
 */
import { invalid } from '../errors';
import { hasOwn } from '../util';
import { num, opt } from '../validate';
import type { Timing } from './types';

const DEFAULT_TIMING: Timing = {
  handshakeTimeoutMs: 2000,
  pollIntervalMs: 250,
  // Under the 3000 ms ceiling with room to spare: a page with no push channel polls within 2 s.
  connectGraceMs: 2000,
  livenessMs: 30000,
  backoffBaseMs: 500,
  backoffMaxMs: 5000,
  pollBackoffMaxMs: 5000,
  notifyIntervalMs: 16,
};

/** The seed's default `state_request` body. */
export function defaultPayload(): Record<string, unknown> {
  return { context: null, log_from: 0, notifications_from: 0, timezone: (zone ??= browserZone()) };
}
// Read once: building an Intl.DateTimeFormat per handshake and poll costs more than the rest of the payload.
let zone: string | undefined;

/** The browser's IANA time zone; UTC where Intl has none (some embedded browsers), which the server accepts. */
function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** @internal The `timing` option checked and merged over the defaults. */
export function resolveTiming(given: Partial<Timing> | undefined): Timing {
  const timing = { ...DEFAULT_TIMING };
  const t = opt(given, 'timing', 'object') ?? {};
  for (const k of Object.keys(t)) {
    if (!hasOwn(DEFAULT_TIMING, k)) throw invalid(`timing.${k}`, 'a known timing key');
    // At least 1 ms: a zero backoff, poll interval or timeout would spin. A zero notify
    // interval only means "once per macrotask".
    timing[k as keyof Timing] = num(t, k, undefined, 'timing.', +(k != 'notifyIntervalMs'), false);
  }
  timing.connectGraceMs = Math.min(timing.connectGraceMs, 3000);
  return timing;
}
