/**
 * The machine's rules for sync periods: a handshake's answer (ack or nack), the pushes of
 * a period, and what an apply's reduce reported.
 */
import type { Rules } from './rules';
import { DEGRADED, FAILED, HEALTHY, type EventOf, type PushIn } from './types';

// After a server restart these can mean "stale credentials": one reconnect with fresh ones first.
const AUTH_LIKE = [
  'NO_HANDLERS',
  'AUTH_REQUIRED',
  'CSRF_MISSING',
  'CSRF_INVALID',
  'CSRF_COOKIE',
  'API_KEY_REQUIRED',
];

/** Codes (a server's own, or ours) that the same request will get again: never retried in a loop. */
const DETERMINISTIC = [
  ...AUTH_LIKE,
  'INVALID_REQUEST',
  'INVALID_EVENT',
  'INVALID_FILTER',
  'FORBIDDEN',
  'INVALID_ENVELOPE',
  'HARNESS_UNKNOWN_EVENT',
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_NAMESPACE',
];

/** How many pushes may wait for a handshake ack before the oldest are dropped. */
export const HELD_MAX = 256;

/** @internal The server opened a period: its epoch and seq base, and held pushes that fit it. */
export function onAck(r: Rules, ev: EventOf<'ack'>): void {
  const { s, t } = r;
  const hs = s.hs;
  if (hs?.gen !== ev.gen) return; // an answer to a superseded handshake
  s.hs = null;
  if (!hs.full) {
    if (s.epoch !== null && ev.epoch !== s.epoch) {
      // We resumed with cursors of another server process: they mean nothing here. (The
      // epoch changes when the full resync's state lands: until then the page shows the old one's.)
      r.resync('runtime epoch changed');
      return;
    }
    // A poll answer landed after this handshake was built: the period's deltas would
    // start from an older state than the page shows. Ask again, for a full snapshot: polls
    // go on meanwhile, and with a round trip longer than a poll cycle another resume would
    // meet the same race, every time.
    if (s.pollApplies !== hs.polls) {
      s.needFull = true;
      r.handshake('state moved on by polling');
      return;
    }
  }
  if (r.degraded()) {
    // Polling stops now, and answers already on their way are discarded.
    s.pollId++;
    r.clear('poll');
  }
  const held = s.held;
  s.held = [];
  s.epoch = ev.epoch;
  s.lastSeq = ev.seqBase;
  s.awaiting = true;
  s.fullPeriod = hs.full;
  s.period = ev.tagged ? hs.gen : null;
  r.set('first', t.handshakeTimeoutMs);
  for (const p of fitting(held, ev, hs.gen !== s.connFirstGen, s.period)) r.applyPush(p);
}

/** @internal The handshake failed: retried with backoff, unless the same request would fail again. */
export function onNack(r: Rules, ev: EventOf<'nack'>): void {
  const { s } = r;
  if (s.hs?.gen !== ev.gen) return;
  // The server's own code decides, when it gave one; it reaches onError as details.serverCode.
  const why = ev.serverCode ?? ev.code;
  const details = ev.serverCode === undefined ? undefined : { serverCode: ev.serverCode };
  if (!DETERMINISTIC.includes(why)) r.failHandshake(ev.code, ev.message, ev.cause, details, why);
  else if (AUTH_LIKE.includes(why) && !s.authRetried) {
    s.authRetried = true;
    s.hs = null;
    r.report(ev.code, ev.message, ev.cause, details);
    r.fx.push({ type: 'reconnect' });
  } else r.fatal(ev.code, ev.message, ev.cause, details);
}

/** @internal A push: held during a handshake, applied in order, else dropped (and maybe a resync). */
export function onPush(r: Rules, p: PushIn): void {
  const { s } = r;
  if (s.mode === FAILED) return;
  if (s.hs) {
    // A new array: `prev` must stay untouched (copying is cheap, and only during a handshake).
    const full = s.held.length >= HELD_MAX;
    const kept = full ? s.held.slice(1) : s.held.slice();
    kept.push(p);
    s.held = kept;
    if (full) r.drop();
  } else if (!s.awaiting && s.mode !== HEALTHY) {
    r.drop(); // degraded: polling owns the state
    // But pushes flow again on this connection: the channel is back, so handshake now rather
    // than at the scheduled retry (once per degraded spell, see MachineState.pushWoke).
    if (s.mode === DEGRADED && s.connected && !s.pushWoke) {
      s.pushWoke = true;
      r.clear('retry');
      r.handshake('pushes are flowing again');
    }
  } else if (s.period !== null && p.gen !== s.period) {
    // Our period is open, yet the server pushes another one's: it handled an older
    // handshake after ours and pushes only that period now. Dropping them all would look
    // HEALTHY while showing old state for ever.
    r.drop();
    r.resync('pushes of another period');
  } else r.applyPush(p);
}

/** @internal What an apply's reduce did: a failure resyncs from scratch, or ends in FAILED. */
export function onReduced(r: Rules, ev: EventOf<'reduced'>): void {
  const { s } = r;
  if (ev.ok) {
    // A clean apply from the initial state that asks for nothing more ends the failure streak.
    if (ev.fromInitial && ev.resync === undefined) s.reduceFailures = 0;
    if (ev.resync !== undefined) r.resync(ev.resync);
    return;
  }
  // The state was left as it was. Retry from scratch once; a reducer that fails on a
  // full snapshot too would loop forever, so that is terminal.
  s.reduceFailures++;
  r.report('REDUCE_ERROR', `reduce threw: ${ev.message}`, ev.cause);
  if (s.reduceFailures > 1 && ev.fromInitial) r.fatal('REDUCE_ERROR', ev.message);
  else r.resync('reduce threw');
}

/**
 * Which held pushes belong to the period an ack just opened, in order.
 *
 * - The server tags pushes (`push_correlation`): exactly those with our tag.
 * - First handshake on this connection: the server gates pushes until a
 *   handshake, so everything held is from this period.
 * - Otherwise pushes of an earlier period may be held too, and nothing tells
 *   them apart: a seq that drops back to `seqBase + 1` may be the new period's
 *   first push, or an older push sent again (a stale push), whose snapshot is
 *   older than what the page shows. So none is taken: the period starts with the
 *   pushes that follow the ack. (The ack is taken in wire order, so this only
 *   costs something with a server whose pushes overtake its acks: its period's
 *   first push is lost, which a later gap or the handshake deadline repairs.)
 */
export function fitting(
  held: PushIn[],
  ack: { epoch: string; seqBase: number },
  mayHaveOld: boolean,
  tag: number | null,
): PushIn[] {
  if (tag === null && mayHaveOld) return [];
  const list = held.filter((p) => p.epoch === ack.epoch && (tag === null || p.gen === tag));
  const first = ack.seqBase + 1;
  const run: PushIn[] = [];
  for (const p of list) {
    if (p.seq !== first + run.length) break;
    run.push(p);
  }
  return run;
}
