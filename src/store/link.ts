/**
 * The machine's rules for the store's lifecycle and its links to the server: start and
 * stop, the connection coming and going, timers, polls and liveness audits, page signals,
 * and errors reported from outside a sync period.
 */
import { initialMachineState } from './state';
import type { Rules } from './rules';
import { DEGRADED, DISCONNECTED, FAILED, HANDSHAKE_PENDING, HEALTHY, type EventOf } from './types';

/** @internal A run starts: everything but the counters, the last error and page signals starts afresh. */
export function onStart(r: Rules, ev: EventOf<'start'>): void {
  const { s, t } = r;
  if (s.running) return;
  const { hidden, online, gen, pollId, stats, error } = s;
  // The client's word, not ours: a stopped store does not hear the connection come and go.
  const connected = ev.connected;
  // Started on a live connection: an earlier run may have handshaked on it, so no handshake
  // of this run is the connection's first (0 matches no gen) and held pushes may be old.
  // The next connect resets it to -1. The counters count over the store's whole life.
  Object.assign(s, initialMachineState(), {
    running: true,
    connected,
    hidden,
    online,
    gen,
    pollId,
    stats,
    error,
    connFirstGen: connected ? 0 : -1,
  });
  if (ev.cache) {
    s.epoch = ev.cache.epoch;
    s.hasState = true;
  }
  r.set('grace', t.connectGraceMs);
  r.handshake('started');
}

/** @internal The run ends: `stop`, or the client's disposal (FAILED for good). */
export function onEnd(r: Rules, ev: EventOf<'stop' | 'disposed'>): void {
  const { s } = r;
  // An answer still on its way belongs to this run (start() resets the rest).
  s.running = false;
  s.pollId++;
  if (ev.type === 'stop') return r.halt(DISCONNECTED, 'stopped');
  // The client is gone for good: nothing can sync any more, and nothing is left running.
  r.report('DISPOSED', 'the client was disposed');
  r.halt(FAILED, 'client disposed');
}

/** @internal The client's socket connected or disconnected. */
export function onLink(r: Rules, ev: EventOf<'connected' | 'disconnected'>): void {
  const { s, t } = r;
  s.connected = ev.type === 'connected';
  s.connFirstGen = -1;
  if (!s.running) return;
  if (s.connected) {
    s.retries = 0;
    s.pushWoke = false;
    // Every connect is a new server-side connection with no projection: handshake again.
    if (s.mode !== FAILED) r.handshake('connected');
    return;
  }
  // A recovery period (ack received, first push awaited) had paused polling.
  const pollingPaused = s.awaiting;
  r.closePeriod();
  r.clear('first', 'retry', 'live');
  if (s.mode === HEALTHY) {
    r.setMode(DISCONNECTED, 'connection lost');
    r.set('grace', t.connectGraceMs);
  } else if (r.degraded()) {
    if (pollingPaused) r.pollNow();
  } else r.degrade('connection lost'); // before the period's first snapshot: no push channel to wait for
}

/** @internal `resync()`: a full resync; after FAILED it is the way out. */
export function onResync(r: Rules, ev: EventOf<'resync'>): void {
  const { s, t } = r;
  if (s.mode === FAILED) {
    s.authRetried = false;
    r.setMode(s.connected ? HANDSHAKE_PENDING : DISCONNECTED, 'resync requested');
    if (!s.connected) r.set('grace', t.connectGraceMs);
  }
  r.resync(ev.reason);
}

/** @internal A timer fired. */
export function onTimer(r: Rules, ev: EventOf<'timer'>): void {
  const { s, t } = r;
  switch (ev.name) {
    case 'grace':
      if (!s.connected) r.degrade(`no connection within ${t.connectGraceMs} ms`);
      return;
    case 'first':
      if (s.awaiting) r.failHandshake('HANDSHAKE_FAILED', 'no snapshot after the handshake ack');
      return;
    case 'retry':
      if (s.connected && !s.hs && s.mode !== HEALTHY && s.mode !== FAILED) r.handshake('retry');
      return;
    case 'poll':
      // Paused while hidden or offline; the env event resumes at once.
      if (!r.degraded() || s.awaiting || s.hidden || !s.online) return;
      s.stats.polls++;
      s.pollId++;
      s.pollFull = r.wantFull();
      r.fx.push({ type: 'poll', id: s.pollId, full: s.pollFull });
      return;
    case 'live':
      // An audit in flight re-arms the timer when it is answered.
      if (s.mode !== HEALTHY || s.audit) return;
      // Pushes proved the channel meanwhile: the audit is due livenessMs after the last one.
      // One timer that re-arms itself when it fires costs nothing per push.
      if (s.lastProofAt + t.livenessMs > ev.at) {
        r.armLive(ev.at);
        return;
      }
      // livenessMs without a proof: one cheap poll asks the server whether state moved on.
      s.pollId++;
      s.audit = { id: s.pollId, pushes: s.pushes };
      r.fx.push({ type: 'audit', id: s.pollId });
  }
}

/** @internal A poll's answer while DEGRADED: applied, or the poll backs off. */
export function onPolled(r: Rules, ev: EventOf<'polled'>): void {
  const { s, t } = r;
  if (s.mode !== DEGRADED || ev.id !== s.pollId) return;
  if (!ev.ok || !ev.snapshot) {
    r.report(ev.code ?? 'POLL_FAILED', ev.message ?? 'poll failed', ev.cause);
    s.pollFailures++;
    r.set('poll', r.jitter(s.pollFailures, t.pollIntervalMs, t.pollBackoffMaxMs));
    return;
  }
  // Answered by another server process than the one our state came from (the client
  // learned its runtime id with a fresh token, or from server_restart): an answer to our
  // old cursors is no continuation of our state. It is an epoch change: full state.
  if (ev.epoch && s.epoch !== null && ev.epoch !== s.epoch && !s.pollFull) {
    // s.epoch stays the shown state's until the new runtime's full state is applied.
    s.needFull = true;
    s.stats.resyncs++;
    r.pollNow();
    return;
  }
  if (ev.epoch) s.epoch = ev.epoch;
  s.pollFailures = 0;
  r.apply(ev.snapshot, 'poll', s.pollFull);
  s.pollApplies++;
  if (s.pollFull) s.needFull = false;
  s.hasState = true;
  r.set('poll', t.pollIntervalMs);
  // The server answers while the socket is down: if Socket.IO gave up on it, try again.
  if (!s.connected) r.fx.push({ type: 'connect' });
}

/** @internal A liveness audit's answer: a silent channel while the state moved on handshakes again. */
export function onAudited(r: Rules, ev: EventOf<'audited'>): void {
  const { s, t } = r;
  if (s.audit?.id !== ev.id) return;
  const quiet = s.pushes === s.audit.pushes;
  s.audit = null;
  if (s.mode !== HEALTHY) return;
  if (ev.changed && quiet) {
    r.report('TIMEOUT', `no push for ${t.livenessMs} ms while the server state moved on`);
    r.handshake('push channel silent');
    return;
  }
  if (ev.changed === null) {
    // A failed audit proves nothing, and asking again at once would hammer a failing server:
    // the next audit comes a whole window later.
    r.set('live', t.livenessMs);
    return;
  }
  // The server's state is the one shown (or pushes arrived meanwhile): the channel is proved.
  if (!ev.changed) s.lastProofAt = ev.at;
  r.armLive(ev.at);
}

/** @internal Page visibility or network changed: polling pauses, or resumes at once. */
export function onEnv(r: Rules, ev: EventOf<'env'>): void {
  const { s } = r;
  const wasPaused = s.hidden || !s.online;
  s.hidden = ev.hidden;
  s.online = ev.online;
  if (s.running && r.degraded() && !s.hidden && s.online && wasPaused) {
    s.pollFailures = 0;
    r.pollNow(); // visible again or back online: poll at once
  }
}

/**
 * @internal Errors from outside a sync period, heard whether running or not: a malformed
 * push (dropped), a failure of the runtime's own, or one the client already reported
 * (remembered only as why the store is not HEALTHY; a refused connect while HEALTHY is not).
 */
export function onOutsideError(
  r: Rules,
  ev: EventOf<'pushInvalid' | 'error' | 'clientError'>,
): void {
  const { s } = r;
  if (ev.type === 'pushInvalid') {
    r.drop();
    r.report('INVALID_ENVELOPE', ev.message);
  } else if (ev.type === 'error') r.report(ev.code, ev.message, ev.cause);
  else if (s.mode !== HEALTHY) s.error = { code: ev.code, message: ev.message };
}
