/**
 * The sync store's defaults: its timing, and the `state_request` body it sends when
 * the caller gives no `payload`.
 */
import { invalid } from '../errors';
import { hasOwn } from '../util';
import { num, opt } from '../validate';
import type { Timing } from './types';

/** The longest `connectGraceMs` taken: a page with no push channel polls within 3 s at the latest. */
const MAX_CONNECT_GRACE_MS = 3000;

/** The shortest poll deadline, however short the handshake timeout. */
const MIN_POLL_TIMEOUT_MS = 5000;
/** A poll (an HTTP round trip carrying a whole snapshot) gets this many handshake timeouts. */
const POLL_TIMEOUT_HANDSHAKES = 5;

const DEFAULT_TIMING: Timing = {
  handshakeTimeoutMs: 2000,
  pollIntervalMs: 250,
  // Under MAX_CONNECT_GRACE_MS with room to spare: a page with no push channel polls within 2 s.
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
    const min = k === 'notifyIntervalMs' ? 0 : 1;
    timing[k as keyof Timing] = num(t, k, undefined, 'timing.', min, false);
  }
  // Clamped, not refused (documented in Timing): a longer grace only delays the first poll.
  timing.connectGraceMs = Math.min(timing.connectGraceMs, MAX_CONNECT_GRACE_MS);
  return timing;
}

/**
 * @internal The deadline of each step of a poll (a token refresh, the POST): `max(5 ×
 * handshakeTimeoutMs, 5000)`, as README's bounds name it.
 */
export const pollTimeoutMs = (timing: Timing): number =>
  Math.max(timing.handshakeTimeoutMs * POLL_TIMEOUT_HANDSHAKES, MIN_POLL_TIMEOUT_MS);
