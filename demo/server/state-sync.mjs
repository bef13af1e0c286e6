// State sync on /state_sync, after Agent Zero's StateSyncHandler + StateMonitor:
// one projection per connection, gated by a successful state_request, pushes
// throttled (not debounced) to one per pushThrottleMs, cursors advanced per push.
import { envelope, resultError, resultOk, isPlainObject } from './manager.mjs';

export const STATE_SYNC_ID = 'syncwire.reference.StateSyncHandler';
export const STATE_NS = '/state_sync';

/**
 * @typedef {import('./world.mjs').World} World
 * @typedef {import('./world.mjs').SnapshotRequest} SnapshotRequest
 * @typedef {import('./manager.mjs').Manager} Manager
 * @typedef {import('./manager.mjs').Envelope} Envelope
 * @typedef {import('./manager.mjs').Stats} Stats
 * @typedef {import('./security.mjs').Runtime} Runtime
 *
 * @typedef {object} Projection
 * @property {string} sid
 * @property {SnapshotRequest} request the request, with cursors advanced after every push
 * @property {string} correlationId the state_request's; reused on every push (push_correlation)
 * @property {number} seq
 * @property {ReturnType<typeof setTimeout> | null} timer a scheduled flush
 * @property {boolean} flushing
 * @property {boolean} followUp a dirty arrived during the flush
 * @property {boolean} held a flush was skipped while pushes were silenced
 * @property {number} dropRemaining fault: pushes still to lose in transit
 * @property {boolean} skipNext fault: the next push skips one seq number
 * @property {Envelope | null} lastPush last emitted push
 * @property {Envelope | null} prevPush the one before it
 */

/** @param {string} timeZone */
export function isValidTimeZone(timeZone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Strict parsing of a state_request payload (parse_state_request_payload).
 * @param {unknown} data
 * @returns {{ ok: true, request: SnapshotRequest } | { ok: false, message: string }}
 */
export function parseStateRequest(data) {
  if (!isPlainObject(data)) return { ok: false, message: 'request must be an object' };
  const { context, log_from, notifications_from, timezone } = data;
  if (context !== undefined && context !== null && typeof context !== 'string')
    return { ok: false, message: 'context must be a string or null' };
  if (!Number.isInteger(log_from) || /** @type {number} */ (log_from) < 0)
    return { ok: false, message: 'log_from must be an integer >= 0' };
  if (!Number.isInteger(notifications_from) || /** @type {number} */ (notifications_from) < 0) {
    return { ok: false, message: 'notifications_from must be an integer >= 0' };
  }
  if (typeof timezone !== 'string' || !timezone.trim())
    return { ok: false, message: 'timezone must be a non-empty string' };
  if (!isValidTimeZone(timezone.trim()))
    return { ok: false, message: 'timezone must be a valid IANA timezone name' };
  return {
    ok: true,
    request: {
      context: (typeof context === 'string' && context.trim()) || null,
      log_from: /** @type {number} */ (log_from),
      notifications_from: /** @type {number} */ (notifications_from),
      timezone: timezone.trim(),
    },
  };
}

/** Python's int() coercion, clamped like _coerce_non_negative_int: anything odd becomes 0. @param {unknown} v */
function coerceInt(v) {
  let n = 0;
  if (typeof v === 'number' && Number.isFinite(v)) n = Math.trunc(v);
  else if (typeof v === 'boolean') n = v ? 1 : 0;
  else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) n = parseInt(v, 10);
  return n >= 0 ? n : 0;
}

/**
 * Lenient parsing for /poll (_coerce_state_request_inputs): never fails.
 * @param {unknown} body
 * @returns {SnapshotRequest}
 */
export function coerceSnapshotRequest(body) {
  const b = isPlainObject(body) ? body : {};
  const tz =
    typeof b.timezone === 'string' && b.timezone.trim() && isValidTimeZone(b.timezone.trim())
      ? b.timezone.trim()
      : 'UTC';
  return {
    context: (typeof b.context === 'string' && b.context.trim()) || null,
    log_from: coerceInt(b.log_from),
    notifications_from: coerceInt(b.notifications_from),
    timezone: tz,
  };
}

export class StateSync {
  /**
   * @param {{ manager: Manager, world: World, runtime: Runtime, stats: Stats, pushThrottleMs: number }} deps
   */
  constructor({ manager, world, runtime, stats, pushThrottleMs }) {
    this.manager = manager;
    this.world = world;
    this.runtime = runtime;
    this.stats = stats;
    this.pushThrottleMs = pushThrottleMs;
    /** @type {Map<string, Projection>} by sid (one namespace) */
    this.projections = new Map();
    // Push faults that are not per connection.
    this.silenced = false;
    this.dropAll = false;
    /** Fault: acks leave this long after the request was processed, so pushes overtake them. */
    this.ackDelayMs = 0;
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.ackTimers = new Set();
    this.unsubscribe = world.onChange(() => this.markDirtyAll());
    manager.register(STATE_NS, {
      handlerId: STATE_SYNC_ID,
      events: ['state_request'],
      handle: (_event, data, ctx) => this.handshake(ctx.sid, ctx.correlationId, data),
      onDisconnect: (sid) => this.drop(sid),
    });
  }

  /** @param {string} sid @param {string} correlationId @param {unknown} data */
  handshake(sid, correlationId, data) {
    this.stats.stateRequests += 1;
    const parsed = parseStateRequest(data);
    if (!parsed.ok) return resultError('INVALID_REQUEST', parsed.message);
    const { log_from, notifications_from } = parsed.request;
    if (log_from === 0 && notifications_from === 0) this.stats.fullStateRequests += 1;
    let p = this.projections.get(sid);
    if (!p) {
      p = {
        sid,
        request: parsed.request,
        correlationId,
        seq: 1,
        timer: null,
        flushing: false,
        followUp: false,
        held: false,
        dropRemaining: 0,
        skipNext: false,
        lastPush: null,
        prevPush: null,
      };
      this.projections.set(sid, p);
    }
    // A new sync period: seq restarts at seq_base and the old pushes are not "earlier" any more.
    Object.assign(p, {
      request: parsed.request,
      correlationId,
      seq: 1,
      lastPush: null,
      prevPush: null,
    });
    this.markDirty(p); // the initial snapshot
    const result = resultOk({
      runtime_epoch: this.runtime.id,
      seq_base: 1,
      push_correlation: true,
    });
    if (!this.ackDelayMs) return result;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.ackTimers.delete(t);
        resolve(result);
      }, this.ackDelayMs);
      this.ackTimers.add(t);
    });
  }

  markDirtyAll() {
    for (const p of this.projections.values()) this.markDirty(p);
  }

  /** Throttle, not debounce: a pending flush is never pushed back. @param {Projection} p */
  markDirty(p) {
    if (p.flushing) {
      p.followUp = true;
      return;
    }
    if (p.timer) return;
    p.timer = setTimeout(() => this.flush(p), this.pushThrottleMs);
  }

  /** @param {Projection} p */
  flush(p) {
    p.timer = null;
    if (this.projections.get(p.sid) !== p) return;
    // Silenced: nothing is built, seq and cursors stay put, so nothing is lost when it ends.
    if (this.silenced) {
      p.held = true;
      return;
    }
    p.flushing = true;
    try {
      const snapshot = this.world.buildSnapshot(p.request);
      p.seq += p.skipNext ? 2 : 1;
      p.skipNext = false;
      const push = envelope(
        STATE_SYNC_ID,
        { runtime_epoch: this.runtime.id, seq: p.seq, snapshot },
        p.correlationId,
      );
      p.request = {
        ...p.request,
        log_from: snapshot.log_version,
        notifications_from: snapshot.notifications_version,
      };
      const lost = this.dropAll || p.dropRemaining > 0;
      if (p.dropRemaining > 0) p.dropRemaining -= 1;
      if (!lost) {
        this.manager.socket(STATE_NS, p.sid)?.emit('state_push', push);
        p.prevPush = p.lastPush;
        p.lastPush = push;
      }
    } finally {
      p.flushing = false;
    }
    if (p.followUp) {
      p.followUp = false;
      this.markDirty(p);
    }
  }

  /** @param {string} sid */
  drop(sid) {
    const p = this.projections.get(sid);
    if (p?.timer) clearTimeout(p.timer);
    this.projections.delete(sid);
  }

  dropAllProjections() {
    for (const sid of [...this.projections.keys()]) this.drop(sid);
  }

  // ---- fault hooks (see faults.mjs) ----

  /** @param {number | boolean} n */
  setDrop(n) {
    this.dropAll = n === true;
    const count = typeof n === 'number' && n > 0 ? Math.floor(n) : 0;
    for (const p of this.projections.values()) p.dropRemaining = count;
  }

  injectGap() {
    for (const p of this.projections.values()) p.skipNext = true;
  }

  /** @param {boolean} on */
  setSilenced(on) {
    this.silenced = on;
    if (on) return;
    for (const p of this.projections.values())
      if (p.held) {
        p.held = false;
        this.markDirty(p);
      }
  }

  /**
   * Re-emits an already sent push: 'duplicate' = the last one unchanged, 'stale' =
   * the one before it (or the last one with seq - 1 when only one was sent).
   * @param {'duplicate' | 'stale'} kind
   * @returns {number} connections that got one
   */
  reemit(kind) {
    let n = 0;
    for (const p of this.projections.values()) {
      const socket = this.manager.socket(STATE_NS, p.sid);
      if (!socket || !p.lastPush) continue;
      const last = p.lastPush;
      const push =
        kind === 'duplicate'
          ? last
          : (p.prevPush ?? { ...last, data: { ...last.data, seq: last.data.seq - 1 } });
      socket.emit('state_push', push);
      n += 1;
    }
    return n;
  }

  close() {
    this.ackTimers.forEach((t) => clearTimeout(t));
    this.ackTimers.clear();
    this.unsubscribe();
    this.dropAllProjections();
  }
}
