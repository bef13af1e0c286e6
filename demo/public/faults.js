// What each fault button does and what to expect, as the line under the fault panel.
// Several faults act only after one of the store's timers, so nothing may change when the
// button is pressed: the line says which timer, and counts it down from what the page
// sees (the store's health, read every tick, and the timing the page gave the store).

const s = (ms) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
const counted = (h, before, key) => h.counters[key] > before.counters[key];

/**
 * One-shot faults: pressed once, done once the store shows their effect.
 * `done(health, before)` says whether it has; `before` is the health when pressed.
 */
export const ONE_SHOT = {
  dropPushes: {
    does: 'The next push is lost in transit.',
    expect:
      'Nothing shows until the push after it: its seq skips one, so the store resyncs (resyncs +1).',
    done: (h, before) => counted(h, before, 'resyncs'),
    seen: 'seen: the gap after the lost push triggered a resync',
  },
  injectGap: {
    does: 'The next push skips one seq number.',
    expect: 'On that push the store sees the gap and resyncs (resyncs +1); seq starts again.',
    done: (h, before) => counted(h, before, 'resyncs'),
    seen: 'seen: resync after the gap',
  },
  stalePush: {
    does: 'The server sends an older push again.',
    expect: 'The store drops it (pushes dropped +1) and stays HEALTHY: an old snapshot never wins.',
    done: (h, before) => counted(h, before, 'pushesDropped'),
    seen: 'seen: the stale push was dropped',
  },
  bumpEpoch: {
    does: "The server's runtime id changes, as after a restart, but nobody is disconnected.",
    expect: 'The next push carries the new epoch: the store resyncs and seq counts from the start.',
    done: (h, before) => h.epoch !== before.epoch && h.mode === 'HEALTHY',
    seen: 'seen: new epoch, state resynced',
  },
  restart: {
    does: 'The server drops every connection, forgets its tokens and is down for 0.8 s.',
    expect: 'The client reconnects, fetches a new token and handshakes: new epoch, HEALTHY again.',
    done: (h, before) => h.epoch !== before.epoch && h.mode === 'HEALTHY',
    seen: 'seen: reconnected to the new server run',
  },
  reset: {
    does: 'Every fault off: pushes, handshakes, WebSockets and polls work again.',
    expect: 'A degraded store recovers in the background and goes back to HEALTHY.',
    done: (h) => h.mode === 'HEALTHY',
    seen: 'seen: HEALTHY',
  },
};

/** Toggled faults: on until pressed again. Each explains itself from where the store stands. */
export const TOGGLED = {
  silencePushes(v) {
    const does = 'The server stops pushing; the socket stays open, so nothing looks wrong.';
    if (v.mode === 'HEALTHY')
      return {
        does,
        expect: `Nothing changes yet: the store's liveness audit polls once livenessMs (${s(v.timing.livenessMs)}) after the last push; if the state moved on, it handshakes again.`,
        countdown: `liveness audit in ${s(v.auditAt - v.now)}`,
      };
    if (v.mode === 'HANDSHAKE_PENDING')
      return {
        does,
        expect:
          'The audit found the state moved on: a new handshake, whose first push never comes.',
        countdown: `handshake times out in ${s(v.handshakeAt + v.timing.handshakeTimeoutMs - v.now)}`,
      };
    return {
      does,
      expect: `Polling every ${s(v.timing.pollIntervalMs)} keeps the state fresh; pushes resume when this is off.`,
    };
  },
  stallHandshakes(v) {
    const does = 'The server swallows every handshake (state_request): no ack, no first push.';
    if (v.mode === 'HEALTHY')
      return {
        does,
        expect:
          'Nothing changes yet: the open period keeps pushing. The next handshake (pick a chat, a reconnect, a resync) gets no answer.',
      };
    if (v.mode === 'HANDSHAKE_PENDING')
      return {
        does,
        expect: 'This handshake will get no answer: the store times it out and polls.',
        countdown: `handshake times out in ${s(v.handshakeAt + v.timing.handshakeTimeoutMs - v.now)}`,
      };
    return {
      does,
      expect: `DEGRADED: polls keep the state fresh; handshakes are retried with backoff (up to ${s(v.timing.backoffMaxMs)}) and time out again.`,
    };
  },
  blockTransports(v) {
    const does = 'Engine.IO refuses every connection (open ones are dropped); HTTP still works.';
    if (v.mode === 'DEGRADED')
      return {
        does,
        expect: `No push channel: state comes through /poll every ${s(v.timing.pollIntervalMs)}; the client keeps trying to reconnect.`,
      };
    if (v.disconnectedAt !== null)
      return {
        does,
        expect: 'Disconnected: the store waits connectGraceMs for the socket, then polls.',
        countdown: `polling starts in ${s(v.disconnectedAt + v.timing.connectGraceMs - v.now)}`,
      };
    return { does, expect: 'The socket is about to drop.' };
  },
  failPolls(v) {
    const does = '/poll answers HTTP 500.';
    if (v.mode === 'DEGRADED')
      return {
        does,
        expect: `Every poll fails (last error POLL_FAILED); the last good state stays on screen and retries back off up to ${s(v.timing.pollBackoffMaxMs)}.`,
      };
    return {
      does,
      expect:
        'Nothing changes now: a HEALTHY store does not poll. Its liveness audit does, and a failed audit proves nothing: it asks again a whole livenessMs later. Block WebSockets too to watch polls fail.',
      countdown: v.mode === 'HEALTHY' ? `liveness audit in ${s(v.auditAt - v.now)}` : undefined,
    };
  },
};
