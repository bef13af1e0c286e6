// The chaos run shared by `npm run chaos` (chaos/run.mjs, against dist/) and the short
// version inside `npm test` (test/chaos/chaos.test.ts, against src/).
//
// A reference server whose world changes by itself (world.startTicker) sits behind the
// fault proxy. A syncwire store (Agent Zero model, one selected chat) syncs through the
// proxy, and a second client emits fire-and-forget events through it all along. Then,
// F times: one seeded random fault, held for a while, healed; then a settle period that
// waits (bounded) until the store is HEALTHY and its state equals the server's.
//
// Timing (`runChaos({ timing })`, CHAOS_PROFILES): 'short' (the default) runs the store and
// both clients on shortened timeouts and Engine.IO on a 500/500 ms ping, so hundreds of faults
// fit in minutes; 'default' runs them on the library's and socket.io's defaults (no timing
// or timeout options) and Engine.IO on the reference server's 25 s / 20 s, as a page would
// run. Every wait that depends on that timing (the settle timeout, the hold times that are
// about liveness, handshakes, polls, reconnections or Engine.IO's ping, the final drain) is
// derived from the profile in use: see resolveChaosProfile and the fault catalogue. In both
// profiles the store client's socket.io Manager gives up after STORE_RECONNECTION_ATTEMPTS
// failed reconnections in a row (the manager-give-up fault), and syncwire must recover.
//
// What is checked, precisely:
// (a) converged: after each fault's settle period, store.mode === 'HEALTHY' and the
//     store's state deep-equals a fresh `world.buildSnapshot({ context: selected,
//     log_from: 0, notifications_from: 0 })` on contexts, tasks, notifications (+ guid,
//     version) and the selected chat's log (context, logs, log_guid, log_version,
//     progress, paused), at one instant, while the world keeps changing.
// (b) stale applies: every state the store applies goes through a wrapping `reduce`.
//     "Older" is defined on the server's own counters, which only grow: for one
//     notifications_guid, notifications_version; for one (chat, log_guid), log_version
//     (for the selected chat's log and for every chat in `contexts`). An applied state
//     whose counter is lower than one already applied for the same identity is a stale
//     apply. (A restart changes every guid, so a new identity starts; bumpEpoch keeps
//     them, so counters must keep growing across it.) Also: within one sync period,
//     identified by (health.epoch, health.counters.handshakes), health.lastSeq must never
//     decrease; it is sampled on every push apply, and on every subscriber event and
//     every 50 ms while HEALTHY (between a handshake's send and its ack, lastSeq still
//     belongs to the previous period, so it is not sampled there).
//     S = stale applies + lastSeq regressions.
// (c) lost events: the second client emits 'record' with a unique correlationId every
//     few ms. At the end (faults healed, emits settled, a drain pause) each emit is
//     classified against the server's stats.received: resolved and received once = ok;
//     resolved and never received = lost; received more than once = duplicated;
//     rejected with a SyncwireError and not received = ok (a typed rejection); rejected
//     but received = "ambiguous": a confirmed emit delivered whose ack was lost with the
//     connection. It was reported as failed to its caller, which the invariant allows; it is
//     counted and printed. A rejection that is not a SyncwireError counts as lost.
//     L = lost + duplicated + untyped rejections.
// (d) unhandled: process 'unhandledRejection' and 'uncaughtException' listeners count
//     everything that reaches them while the run is on. U = that count.
// (e) resources: the store's client and the emitter each get a counting clock, the
//     store a counting environment, and both clients a socket factory (the default one,
//     rebuilt on socket.io-client's Manager) that counts the listeners syncwire puts on
//     the socket. During the run the maxima must stay under fixed bounds; after
//     store.stop() + client.dispose() all of them must be back to 0 (their baseline).
import { mulberry32 } from '../demo/server/world.mjs';
import { setTimeout as delay } from 'node:timers/promises';
import { setInterval, clearInterval } from 'node:timers';
import { Manager } from 'socket.io-client';
import { countingClock } from './counting-clock.mjs';
import { createFaultProxy } from './fault-proxy.mjs';

export { countingClock };

/**
 * @typedef {object} ChaosLib the syncwire exports the run needs (from src/ or dist/)
 * @property {(ns: string, opts?: any) => any} createNamespacedClient
 * @property {(opts: any) => any} createSyncStore
 * @property {new (...args: any[]) => Error} SyncwireError
 *
 * @typedef {object} ChaosOptions
 * @property {ChaosLib} lib
 * @property {(opts?: { timezone?: string }) => any} createModel createAgentZeroModel
 * @property {(opts?: any) => Promise<any>} createReferenceServer
 * @property {number} faults how many faults to inject
 * @property {number} seed
 * @property {'short' | 'default'} [timing] which of CHAOS_PROFILES to run with; default 'short'
 * @property {(line: string) => void} [log] default console.log
 * @property {boolean} [verbose] one line per fault
 * @property {number} [settleTimeoutMs] default: derived from the timing (resolveChaosProfile; 15000 for 'short')
 * @property {number} [tickerMs] default 200
 * @property {number} [emitEveryMs] default 25
 * @property {number} [durationScale] multiplies every fault's hold time (but manager-give-up's, which must exhaust the reconnection attempts); default 1
 *
 * @typedef {object} ChaosReport
 * @property {number} seed
 * @property {'short' | 'default'} timing
 * @property {number} settleTimeoutMs
 * @property {number} faults F
 * @property {number} converged C
 * @property {number} stale S (staleApplies + seqRegressions)
 * @property {number} staleApplies
 * @property {number} seqRegressions
 * @property {number} lost L (lostEvents + duplicatedEvents + untypedRejections)
 * @property {number} lostEvents
 * @property {number} duplicatedEvents
 * @property {number} untypedRejections
 * @property {number} ambiguousEvents
 * @property {{ emitted: number, resolved: number, rejected: number, skipped: number, rejectCodes: Record<string, number>, lostDuring: Record<string, number> }} events
 * @property {number} unhandled U
 * @property {string[]} unhandledDetails
 * @property {{ ok: boolean, problems: string[], maxTimers: number, maxEmitterTimers: number, maxEnvListeners: number, maxSocketListeners: number }} resources
 * @property {Record<string, { n: number, converged: number, maxSettleMs: number, totalSettleMs: number }>} byType
 * @property {string[]} failures
 * @property {string[]} giveUps the faults during which the store client's socket.io Manager gave up reconnecting
 * @property {Record<string, number>} errorCodes errors the clients reported through onError, by code
 * @property {number} durationMs
 * @property {string} line the final line
 * @property {boolean} ok
 */

/** The short profile's store timing, instead of the library defaults, so 200 faults fit in minutes. */
export const CHAOS_TIMING = Object.freeze({
  handshakeTimeoutMs: 500,
  connectGraceMs: 800,
  pollIntervalMs: 100,
  livenessMs: 1500,
  backoffBaseMs: 100,
  backoffMaxMs: 600,
  pollBackoffMaxMs: 600,
});

/**
 * The timing a run uses, by name (`runChaos({ timing })`, `npm run chaos -- --timing=...`).
 *
 * - `short` (the default): CHAOS_TIMING on the store, short client and socket.io timeouts and
 *   an Engine.IO ping of 500/500 ms, so that a half-open connection is noticed within ~1 s.
 * - `default`: the library as a page gets it: no `timing` option on the store, no timeouts
 *   or retry on the clients, socket.io's own reconnection defaults (1000-5000 ms, timeout
 *   20000 ms). Engine.IO keeps the reference server's ping, Agent Zero's 25 s / 20 s: a
 *   half-open connection then takes up to ~45 s to notice, as it would in production, and
 *   the settle timeout allows for it (see resolveChaosProfile).
 *
 * `timing`, `clientOptions` and `socketOptions` are passed as they are (an absent `timing` is
 * no option at all). Both profiles add STORE_RECONNECTION_ATTEMPTS to the store client's
 * socket options.
 */
export const CHAOS_PROFILES = Object.freeze({
  short: Object.freeze({
    timing: CHAOS_TIMING,
    clientOptions: Object.freeze({
      requestTimeoutMs: 2000,
      connectTimeoutMs: 2000,
      authTimeoutMs: 1000,
      retry: Object.freeze({ baseMs: 100, maxMs: 600 }),
    }),
    socketOptions: Object.freeze({
      reconnectionDelay: 100,
      reconnectionDelayMax: 600,
      timeout: 2000,
    }),
    ping: Object.freeze({ interval: 500, timeout: 500 }),
  }),
  default: Object.freeze({
    timing: undefined,
    clientOptions: Object.freeze({}),
    socketOptions: Object.freeze({}),
    ping: Object.freeze({ interval: 25000, timeout: 20000 }),
  }),
});

/**
 * socket.io-client's Manager gives up (`reconnect_failed`) after this many failed reconnection
 * attempts in a row, and syncwire must then bring the store's client back by itself (the
 * manager-give-up fault). Set on the store client only, in both profiles, for the whole run,
 * so any fault that keeps connections impossible long enough (restart downtime, offline,
 * blocked transports) can exhaust it too. The emitter keeps socket.io's default (no limit):
 * it exists to check that no emit is lost, which a client that stopped reconnecting would
 * only turn into a run of typed rejections.
 */
export const STORE_RECONNECTION_ATTEMPTS = 3;

/**
 * The library's own defaults (README: "Client options" and "Sync store"), used only to size
 * the run's waits when a profile passes no option; the store and the clients get nothing.
 * test/chaos/profiles.test.ts checks the store timing against src/.
 */
export const LIBRARY_TIMING = Object.freeze({
  handshakeTimeoutMs: 2000,
  pollIntervalMs: 250,
  connectGraceMs: 2000,
  livenessMs: 30000,
  backoffBaseMs: 500,
  backoffMaxMs: 5000,
  pollBackoffMaxMs: 5000,
  notifyIntervalMs: 16,
});
const LIBRARY_CLIENT_TIMING = Object.freeze({
  requestTimeoutMs: 30000,
  connectTimeoutMs: 20000,
  authTimeoutMs: 5000,
  retry: Object.freeze({ baseMs: 250, maxMs: 10000 }),
});

/** What one refused connection attempt may take (a reset at accept: a few ms locally; room for a busy machine and tryAllTransports' WebSocket-then-polling pair). */
const REFUSED_ATTEMPT_MS = 250;
/** Slack on top of the worst-case recovery, for a busy 2-core machine and the world's own churn. */
const SETTLE_SLACK_MS = 5000;
/** The settle timeout is never shorter: the short profile's value all along, about twice its worst-case recovery. */
const SETTLE_FLOOR_MS = 15000;

/**
 * socket.io-client's effective reconnection settings for some socket options, read from a
 * Manager that never opens (so its defaults are socket.io's, not a copy of them).
 * @param {object} socketOptions
 */
function socketTiming(socketOptions) {
  const m = new Manager('http://127.0.0.1:9', { autoConnect: false, ...socketOptions });
  const timeout = m.timeout();
  return {
    reconnectionDelay: m.reconnectionDelay(),
    reconnectionDelayMax: m.reconnectionDelayMax(),
    randomizationFactor: m.randomizationFactor(),
    reconnectionAttempts: m.reconnectionAttempts(),
    timeout: typeof timeout === 'number' ? timeout : Infinity,
  };
}

/**
 * The worst case of socket.io-client's reconnection backoff over `attempts` attempts: attempt i
 * waits reconnectionDelay × 2^i, ± randomizationFactor, capped at reconnectionDelayMax
 * (socket.io-client's contrib/backo2.js).
 * @param {ReturnType<typeof socketTiming>} s @param {number} attempts
 */
function worstReconnectDelaysMs(s, attempts) {
  let sum = 0;
  for (let i = 0; i < attempts; i++)
    sum += Math.min(
      s.reconnectionDelay * 2 ** i * (1 + s.randomizationFactor),
      s.reconnectionDelayMax,
    );
  return Math.ceil(sum);
}

/**
 * A profile with every duration the run derives from it.
 * @param {'short' | 'default'} name
 */
export function resolveChaosProfile(name) {
  if (!Object.prototype.hasOwnProperty.call(CHAOS_PROFILES, name))
    throw new TypeError(`unknown chaos timing '${name}' (short or default)`);
  const profile = CHAOS_PROFILES[name];
  /** The store's timing in effect. */
  const store = { ...LIBRARY_TIMING, ...profile.timing };
  /** The clients' timeouts in effect. */
  const client = { ...LIBRARY_CLIENT_TIMING, ...profile.clientOptions };
  const storeSocketOptions = {
    ...profile.socketOptions,
    reconnectionAttempts: STORE_RECONNECTION_ATTEMPTS,
  };
  /** The store client's socket.io reconnection settings in effect. */
  const socket = socketTiming(storeSocketOptions);
  /** How long a connection that went silent without closing (half-open) lives on: Engine.IO's ping interval + timeout. */
  const noticeMs = profile.ping.interval + profile.ping.timeout;
  /** Connections refused for this long are sure to make the store client's Manager give up. */
  const giveUpMs =
    worstReconnectDelaysMs(socket, socket.reconnectionAttempts) +
    socket.reconnectionAttempts * REFUSED_ATTEMPT_MS;
  /**
   * The longest a working library may need to be HEALTHY and equal again after a heal: a
   * connection broken without a close noticed by Engine.IO, a reconnection delay at its cap,
   * a silent push channel detected (up to 2 × livenessMs: the liveness audit only fires once
   * a whole livenessMs passed without a push) and a handshake that needs its retries.
   */
  const recoveryMs =
    noticeMs +
    socket.reconnectionDelayMax +
    2 * store.livenessMs +
    3 * store.handshakeTimeoutMs +
    store.backoffMaxMs;
  const settleTimeoutMs = Math.max(SETTLE_FLOOR_MS, recoveryMs + SETTLE_SLACK_MS);
  /** After the last heal, every emit settles within its deadline (counted from the call), or its connect() times out first. */
  const drainMs = Math.max(client.requestTimeoutMs, client.connectTimeoutMs) + 2000;
  /** Then the emitter is connected again within a capped reconnection delay and an auth round (never less than 5 s). */
  const reconnectWaitMs = Math.max(5000, socket.reconnectionDelayMax + client.authTimeoutMs + 1000);
  return {
    name,
    profile,
    storeSocketOptions,
    store,
    client,
    socket,
    ping: profile.ping,
    noticeMs,
    giveUpMs,
    recoveryMs,
    settleTimeoutMs,
    drainMs,
    reconnectWaitMs,
  };
}

/**
 * The line describing the timings in use, printed before the faults.
 * @param {ReturnType<typeof resolveChaosProfile>} P @param {number} settleTimeoutMs
 */
function describeTiming(P, settleTimeoutMs) {
  const { store: t, client: c, socket: s, ping } = P;
  const timing = Object.keys(CHAOS_TIMING)
    .map((k) => `${k} ${/** @type {any} */ (t)[k]}`)
    .join(', ');
  return (
    `${P.profile.timing ? 'timing instead of the library defaults' : "the library's default timing (no timing or client options)"}: ${timing}; ` +
    `client request/connect/auth timeouts ${c.requestTimeoutMs}/${c.connectTimeoutMs}/${c.authTimeoutMs} ms, retry ${c.retry.baseMs}-${c.retry.maxMs} ms; ` +
    `socket.io reconnect ${s.reconnectionDelay}-${s.reconnectionDelayMax} ms, timeout ${s.timeout} ms, the store client's Manager gives up after ` +
    `${s.reconnectionAttempts} attempts; Engine.IO ping ${ping.interval}/${ping.timeout} ms; settle timeout ${settleTimeoutMs} ms`
  );
}

/** Bounds for (e): none of these may be exceeded at any sample during the run. They count things, so they hold for either profile. */
const BOUNDS = { timers: 24, emitterTimers: 8, envListeners: 1, socketListeners: 12 };

/** The demo world's seeded PRNG (mulberry32), re-exported for the runner. */
export { mulberry32 };

/** Structural equality for JSON-like values (key order ignored). @param {unknown} a @param {unknown} b @returns {boolean} */
export function deepEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      deepEqual(/** @type {any} */ (a)[k], /** @type {any} */ (b)[k]),
  );
}

/** A page environment flipped by the run, counting its listeners. */
export function countingEnvironment() {
  let state = { hidden: false, online: true };
  /** @type {Set<(s: { hidden: boolean, online: boolean }) => void>} */
  const listeners = new Set();
  return {
    read: () => state,
    /** @param {(s: { hidden: boolean, online: boolean }) => void} fn */
    subscribe(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    /** @param {Partial<{ hidden: boolean, online: boolean }>} next */
    set(next) {
      const changed = Object.entries(next).some(([k, v]) => /** @type {any} */ (state)[k] !== v);
      state = { ...state, ...next };
      if (changed) [...listeners].forEach((fn) => fn(state));
    },
    get listeners() {
      return listeners.size;
    },
  };
}

/**
 * The library's default socket factory (its own Manager per client, WebSocket then
 * long-polling with tryAllTransports), with the listeners syncwire attaches counted: on the
 * socket, and on its Manager through `io` (a real socket's `socket.io`, where syncwire
 * listens for `reconnect_failed`).
 *
 * It also watches each Manager, for the report only: `onGiveUp` is called when the Manager
 * gives up reconnecting (`reconnect_failed`), and `givenUp()` counts the sockets whose
 * Manager gave up and has not opened a connection since. These two listeners of its own are
 * left out of the counts.
 * @param {{ onGiveUp?: () => void }} [opts]
 */
export function countingSocketFactory(opts = {}) {
  /** @type {{ socket: any, events: Set<string>, manager: any, managerEvents: Set<string>, own: Set<unknown>, givenUp: boolean }[]} */
  const made = [];
  /** @param {{ url: string, namespace: string, auth: (cb: (d: object) => void) => void, options: object }} init */
  const factory = ({ url, namespace, auth, options }) => {
    const manager = new Manager(url, {
      autoConnect: false,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      withCredentials: true,
      ...options,
    });
    const socket = manager.socket(namespace, { auth });
    const events = new Set();
    const entry = {
      socket,
      events,
      manager,
      managerEvents: new Set(),
      own: new Set(),
      givenUp: false,
    };
    made.push(entry);
    const onGiveUp = () => {
      entry.givenUp = true;
      opts.onGiveUp?.();
    };
    const onOpen = () => void (entry.givenUp = false);
    entry.own.add(onGiveUp).add(onOpen);
    manager.on('reconnect_failed', onGiveUp);
    manager.on('open', onOpen);
    const io = {
      /** @param {string} ev @param {(...a: unknown[]) => void} fn */
      on(ev, fn) {
        entry.managerEvents.add(ev);
        manager.on(ev, fn);
        return io;
      },
      /** @param {string} ev @param {(...a: unknown[]) => void} fn */
      off(ev, fn) {
        manager.off(ev, fn);
        return io;
      },
    };
    const wrapped = {
      io,
      get connected() {
        return socket.connected;
      },
      get active() {
        return socket.active;
      },
      connect() {
        socket.connect();
        return wrapped;
      },
      disconnect() {
        socket.disconnect();
        return wrapped;
      },
      /** @param {string} ev @param {(...a: unknown[]) => void} fn */
      on(ev, fn) {
        events.add(ev);
        socket.on(ev, fn);
        return wrapped;
      },
      /** @param {string} ev @param {(...a: unknown[]) => void} fn */
      off(ev, fn) {
        socket.off(ev, fn);
        return wrapped;
      },
      /** @param {string} ev @param {...unknown} args */
      emit(ev, ...args) {
        socket.emit(ev, ...args);
        return wrapped;
      },
    };
    return wrapped;
  };
  return Object.assign(factory, {
    /** Listeners syncwire has on its sockets and their Managers now. */
    listeners: () =>
      made.reduce(
        (n, m) =>
          n +
          [...m.events].reduce((k, ev) => k + m.socket.listeners(ev).length, 0) +
          [...m.managerEvents].reduce(
            (k, ev) =>
              k +
              m.manager.listeners(ev).filter((/** @type {unknown} */ fn) => !m.own.has(fn)).length,
            0,
          ),
        0,
      ),
    /** Sockets still connected or trying to. */
    active: () => made.filter((m) => m.socket.connected || m.socket.active).length,
    /** Sockets whose Manager gave up reconnecting and has not connected since. */
    givenUp: () => made.filter((m) => m.givenUp).length,
  });
}

/**
 * @param {() => boolean} predicate @param {number} timeoutMs @param {number} [everyMs]
 * @returns {Promise<boolean>} whether it held before the deadline
 */
async function until(predicate, timeoutMs, everyMs = 10) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() > deadline) return false;
    await delay(everyMs);
  }
}

/** Fields of the Agent Zero state that must equal a fresh full snapshot. */
const COMPARED = [
  'contexts',
  'tasks',
  'notifications',
  'notifications_guid',
  'notifications_version',
  'context',
  'logs',
  'log_guid',
  'log_version',
  'log_progress',
  'log_progress_active',
  'paused',
];

/**
 * @param {ChaosOptions} o
 * @returns {Promise<ChaosReport>}
 */
export async function runChaos(o) {
  const log = o.log ?? ((line) => console.log(line));
  const started = Date.now();
  const rnd = mulberry32(o.seed);
  const pick = (/** @type {number} */ lo, /** @type {number} */ hi) =>
    Math.round(lo + (hi - lo) * rnd());
  const scale = o.durationScale ?? 1;
  const hold = (/** @type {number} */ lo, /** @type {number} */ hi) =>
    delay(Math.round(pick(lo, hi) * scale));
  const P = resolveChaosProfile(o.timing ?? 'short');
  // The timing in effect, whichever profile: every wait and hold below that depends on the
  // library's timing is written in these terms.
  const t = P.store;
  const reconnect = P.socket;
  const settleTimeoutMs = o.settleTimeoutMs ?? P.settleTimeoutMs;
  const { createNamespacedClient, createSyncStore, SyncwireError } = o.lib;

  /** @type {string[]} */
  const unhandledDetails = [];
  const onUnhandled = (/** @type {unknown} */ reason) =>
    void unhandledDetails.push(`unhandledRejection: ${describe(reason)}`);
  const onUncaught = (/** @type {unknown} */ err) =>
    void unhandledDetails.push(`uncaughtException: ${describe(err)}`);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUncaught);

  log(`timing: ${P.name}`);
  log(describeTiming(P, settleTimeoutMs));
  const server = await o.createReferenceServer({ pushThrottleMs: 25 });
  // Engine.IO reads these for every new connection; the reference server's are Agent Zero's 25 s / 20 s.
  server.io.engine.opts.pingInterval = P.ping.interval;
  server.io.engine.opts.pingTimeout = P.ping.timeout;
  const proxy = await createFaultProxy({ target: server.url });
  const world = server.world;
  const chats = [world.addChat('chaos'), ...[...world.chats.keys()]];
  world.startTicker(o.tickerMs ?? 200);

  // ---- the store under test ----
  const clock = countingClock();
  const env = countingEnvironment();
  /** The faults during which the store client's Manager gave up reconnecting (reconnect_failed), for the report. @type {string[]} */
  const giveUps = [];
  const sockets = countingSocketFactory({ onGiveUp: () => void giveUps.push(faultLabel) });
  /** @type {Record<string, number>} */
  const errorCodes = {};
  let untypedErrors = 0;
  const onError = (/** @type {any} */ e) => {
    if (!(e instanceof SyncwireError)) untypedErrors += 1;
    errorCodes[e?.code ?? 'untyped'] = (errorCodes[e?.code ?? 'untyped'] ?? 0) + 1;
  };
  const client = createNamespacedClient('/state_sync', {
    url: proxy.url,
    clock,
    socketFactory: sockets,
    socketOptions: P.storeSocketOptions,
    ...P.profile.clientOptions,
  });
  client.onError(onError);
  const model = o.createModel({ timezone: 'UTC' });
  model.selected = chats[0];

  // (b) stale applies, on the server's monotonic counters.
  /** @type {Map<string, number>} */
  const highest = new Map();
  let staleApplies = 0;
  let seqRegressions = 0;
  /** @type {string[]} */
  const failures = [];
  let faultLabel = 'start';
  /** @param {string} key @param {number} value @param {string} what */
  const monotonic = (key, value, what) => {
    const prev = highest.get(key);
    if (prev !== undefined && value < prev) {
      staleApplies += 1;
      failures.push(`stale apply during ${faultLabel}: ${what} went ${prev} → ${value}`);
    }
    if (prev === undefined || value > prev) highest.set(key, value);
  };
  /** @type {Map<string, number>} */
  const seqs = new Map();
  let store = /** @type {any} */ (null);
  // A sync period begins when the handshake ack sets lastSeq = seq_base. health.counters.handshakes
  // counts handshakes *sent*, so between a send and its ack lastSeq still shows the previous period;
  // lastSeq is therefore only sampled where a period is open for sure: on a push apply (pushes
  // are held while a handshake is in flight) and while the store is HEALTHY.
  const sampleSeq = (/** @type {boolean} */ pushApply = false) => {
    if (!store) return;
    const h = store.health;
    if (!h.epoch || !(pushApply || h.mode === 'HEALTHY')) return;
    const key = `${h.epoch}|${h.counters.handshakes}`;
    const prev = seqs.get(key);
    if (prev !== undefined && h.lastSeq < prev) {
      seqRegressions += 1;
      failures.push(
        `lastSeq went ${prev} → ${h.lastSeq} within period ${key} during ${faultLabel}`,
      );
    }
    if (prev === undefined || h.lastSeq > prev) seqs.set(key, h.lastSeq);
  };
  /** @param {any} state @param {object} snapshot @param {any} ctx */
  const reduce = (state, snapshot, ctx) => {
    const next = model.reduce(state, snapshot, ctx);
    if (next.notifications_guid)
      monotonic(
        `n|${next.notifications_guid}`,
        next.notifications_version,
        `notifications_version (${ctx.source})`,
      );
    if (next.log_guid)
      monotonic(
        `l|${next.context}|${next.log_guid}`,
        next.log_version,
        `log_version of the selected chat (${ctx.source})`,
      );
    for (const c of next.contexts)
      if (c && c.log_guid)
        monotonic(
          `l|${c.id}|${c.log_guid}`,
          c.log_version,
          `contexts[${c.id}].log_version (${ctx.source})`,
        );
    sampleSeq(ctx.source === 'push');
    return next;
  };
  store = createSyncStore({
    client,
    initialState: model.initialState,
    payload: (/** @type {any} */ s) => model.payload(s),
    reduce,
    // The default hasChanged reduces too (for the liveness audit) without applying; this
    // one does the same with the unwrapped reducer, so only applies reach the checks.
    hasChanged: (/** @type {any} */ s, /** @type {object} */ snap) =>
      !deepEqual(model.reduce(s, snap, { source: 'poll', requestResync() {} }), s),
    environment: env,
    // The default profile passes no timing option at all, as a page would.
    ...(P.profile.timing && { timing: P.profile.timing }),
  });
  const unsubscribe = store.subscribe(() => sampleSeq());

  // ---- the second client: fire-and-forget events all along ----
  const emitterClock = countingClock();
  const emitterSockets = countingSocketFactory();
  // No reconnectionAttempts limit here (see STORE_RECONNECTION_ATTEMPTS).
  const emitter = createNamespacedClient('/dev_websocket_test', {
    url: proxy.url,
    clock: emitterClock,
    socketFactory: emitterSockets,
    socketOptions: P.profile.socketOptions,
    ...P.profile.clientOptions,
  });
  emitter.onError(onError);
  /** @type {Map<string, 'pending' | 'resolved' | 'rejected' | 'untyped'>} */
  const outcomes = new Map();
  /** The fault going on (or settling) when each event was emitted. @type {Map<string, string>} */
  const emittedDuring = new Map();
  /** @type {Record<string, number>} */
  const rejectCodes = {};
  /** @type {Set<Promise<void>>} */
  const inflightEmits = new Set();
  let emitted = 0;
  let skipped = 0;
  const emitOnce = () => {
    if (inflightEmits.size >= 500) return void (skipped += 1); // the loop itself stays bounded
    const id = `chaos-${o.seed}-${++emitted}`;
    outcomes.set(id, 'pending');
    emittedDuring.set(id, faultLabel.replace(/^#\d+ /, ''));
    const p = emitter.emit('record', { n: emitted }, { correlationId: id }).then(
      () => void outcomes.set(id, 'resolved'),
      (/** @type {any} */ e) => {
        const typed = e instanceof SyncwireError;
        outcomes.set(id, typed ? 'rejected' : 'untyped');
        rejectCodes[typed ? e.code : 'untyped'] =
          (rejectCodes[typed ? e.code : 'untyped'] ?? 0) + 1;
      },
    );
    inflightEmits.add(p);
    void p.finally(() => inflightEmits.delete(p));
  };
  const emitLoop = setInterval(emitOnce, o.emitEveryMs ?? 25);

  // (e) sampled during the run
  const maxima = { timers: 0, emitterTimers: 0, envListeners: 0, socketListeners: 0 };
  const sample = () => {
    maxima.timers = Math.max(maxima.timers, clock.pending());
    // A confirmed emit keeps its deadline timer until the server acknowledges it: count the
    // timers beyond those (the loop keeps at most 500 emits in flight; maxPending caps them anyway).
    maxima.emitterTimers = Math.max(
      maxima.emitterTimers,
      emitterClock.pending() - inflightEmits.size,
    );
    maxima.envListeners = Math.max(maxima.envListeners, env.listeners);
    maxima.socketListeners = Math.max(
      maxima.socketListeners,
      sockets.listeners() + emitterSockets.listeners(),
    );
    sampleSeq();
  };
  const sampler = setInterval(sample, 50);

  // ---- convergence ----
  const truth = () =>
    world.buildSnapshot({
      context: model.selected,
      log_from: 0,
      notifications_from: 0,
      timezone: 'UTC',
    });
  const converged = () => {
    if (store.mode !== 'HEALTHY') return false;
    const t = truth();
    const s = store.state;
    return COMPARED.every((k) => deepEqual(s[k], t[k])) && s.deselected === false;
  };
  const diff = () => {
    const t = truth();
    const s = store.state;
    return COMPARED.filter((k) => !deepEqual(s[k], t[k])).map((k) => {
      const a = s[k];
      const b = t[k];
      return Array.isArray(a) && Array.isArray(b)
        ? `${k}(${a.length} vs ${b.length})`
        : `${k}(${JSON.stringify(a)?.slice(0, 40)} vs ${JSON.stringify(b)?.slice(0, 40)})`;
    });
  };

  const heal = () => {
    server.faults.reset();
    proxy.reset();
    env.set({ hidden: false, online: true });
  };

  // ---- the fault catalogue: [name, weight, run] ----
  // Hold times that are about the library's timing are written in its terms, so a fault means
  // the same in either profile (the short profile's values in ms in the comments):
  //   notice  how long a half-open connection lives on: Engine.IO ping interval + timeout (1000)
  //   t.*     the store's timing in effect; reconnect.*: the store client's socket.io reconnection
  // The others are about the network, the world's ticker or the push throttle, and stay fixed.
  const f = server.faults;
  const notice = P.noticeMs;
  const grace = t.connectGraceMs;
  /** @type {[string, number, () => Promise<void>][]} */
  const catalogue = [
    [
      'cut-rst',
      10,
      async () => {
        proxy.cut({ mode: 'rst' });
        await hold(0, 300);
      },
    ],
    [
      'cut-fin',
      6,
      async () => {
        proxy.cut({ mode: 'fin' });
        await hold(0, 300);
      },
    ],
    [
      'half-open',
      10,
      async () => {
        proxy.halfOpen(true);
        await hold(0.2 * notice, 2.2 * notice); // shorter and longer than Engine.IO needs to notice (200-2200)
        proxy.halfOpen(false);
      },
    ],
    [
      'restart',
      10,
      async () => {
        // From no downtime to a reconnection delay at its cap (0-600).
        await f.restart({ downtimeMs: pick(0, reconnect.reconnectionDelayMax) });
      },
    ],
    [
      'bump-epoch',
      5,
      async () => {
        f.bumpEpoch();
        await hold(100, 400);
      },
    ],
    [
      'seq-gap',
      6,
      async () => {
        f.injectGap();
        await hold(200, 500);
      },
    ],
    [
      'drop-pushes',
      5,
      async () => {
        f.dropPushes(pick(1, 3));
        await hold(200, 800);
      },
    ],
    [
      'duplicate-push',
      5,
      async () => {
        for (let i = pick(1, 3); i > 0; i--) {
          f.duplicatePush();
          await hold(20, 120);
        }
      },
    ],
    [
      'stale-push',
      5,
      async () => {
        for (let i = pick(1, 3); i > 0; i--) {
          f.stalePush();
          await hold(20, 120);
        }
      },
    ],
    [
      'stall-handshakes',
      6,
      async () => {
        f.stallHandshakes(true);
        if (rnd() < 0.5) store.resync('chaos: resync into a stalled handshake');
        else proxy.cut({ mode: 'rst' });
        await hold(0.8 * t.handshakeTimeoutMs, 3 * t.handshakeTimeoutMs); // shorter and longer than the handshake deadline (400-1500)
      },
    ],
    [
      'delay-acks',
      4,
      async () => {
        // Well inside the handshake deadline: the period's first pushes overtake the ack.
        f.delayAcks(pick(30, 300));
        store.resync('chaos: pushes overtake the ack');
        await hold(300, 900);
      },
    ],
    [
      'slow-acks',
      5,
      async () => {
        // Longer than a poll cycle, up to twice the handshake deadline, so some acks come after
        // the store gave up on them and retried (150-1000); held for one to three deadlines.
        f.delayAcks(pick(1.5 * t.pollIntervalMs, 2 * t.handshakeTimeoutMs));
        store.resync('chaos: a handshake into slow acks');
        await hold(t.handshakeTimeoutMs, 3 * t.handshakeTimeoutMs);
      },
    ],
    [
      'silence-pushes',
      5,
      async () => {
        f.silencePushes(true);
        await hold(t.livenessMs / 3, (5 * t.livenessMs) / 3); // a third of livenessMs to well past it (500-2500)
      },
    ],
    [
      'block-transports',
      5,
      async () => {
        f.blockTransports(true);
        await hold(0.375 * grace, 1.875 * grace); // shorter and longer than the grace before /poll (300-1500)
      },
    ],
    [
      'block-websockets',
      5,
      async () => {
        proxy.blockWebSockets(true); // resets open WebSockets; the client falls back to long-polling
        await hold(3 * reconnect.reconnectionDelay, 15 * reconnect.reconnectionDelay); // time to reconnect over long-polling (300-1500)
      },
    ],
    [
      'fail-polls',
      4,
      async () => {
        f.blockTransports(true);
        f.failPolls(rnd() < 0.5 ? true : pick(1, 5));
        await hold(0.375 * grace, 1.5 * grace); // polls start after the grace (300-1200)
      },
    ],
    [
      'slow-polls',
      4,
      async () => {
        f.blockTransports(true);
        f.slowPolls(pick(t.pollIntervalMs, 12 * t.pollIntervalMs)); // (100-1200)
        await hold(0.5 * grace, 1.875 * grace); // (400-1500)
      },
    ],
    [
      'hidden',
      4,
      async () => {
        if (rnd() < 0.5) f.blockTransports(true);
        env.set({ hidden: true });
        await hold(0.25 * grace, 1.25 * grace); // (200-1000)
        env.set({ hidden: false });
      },
    ],
    [
      'offline',
      4,
      async () => {
        env.set({ online: false });
        proxy.refuse(true);
        proxy.cut({ mode: rnd() < 0.5 ? 'rst' : 'fin' });
        await hold(3 * reconnect.reconnectionDelay, 15 * reconnect.reconnectionDelay); // a few reconnection attempts refused (300-1500)
        proxy.refuse(false);
        env.set({ online: true });
      },
    ],
    [
      'manager-give-up',
      5,
      async () => {
        // Every connection refused until the store client's Manager has used up its
        // reconnectionAttempts for sure (giveUpMs: their worst-case delays added up, 1800 short);
        // after the heal syncwire must connect again by itself. Not scaled by durationScale:
        // a shorter hold would not exhaust the attempts.
        proxy.refuse(true);
        proxy.cut({ mode: rnd() < 0.5 ? 'rst' : 'fin' });
        await delay(pick(P.giveUpMs + 500, P.giveUpMs + 1500));
      },
    ],
    [
      'latency',
      4,
      async () => {
        proxy.latency({ up: pick(0, 200), down: pick(20, 300) });
        await hold(300, 1200);
      },
    ],
    [
      'throttle',
      3,
      async () => {
        proxy.throttle(pick(4000, 40000));
        await hold(300, 1200);
      },
    ],
    [
      'reorder-polling',
      4,
      async () => {
        proxy.blockWebSockets(true);
        proxy.reorder(true, { holdMs: pick(10, 60) });
        proxy.cut({ mode: 'rst' }); // reconnect over long-polling, whose responses get reordered
        await hold(5 * reconnect.reconnectionDelay, 15 * reconnect.reconnectionDelay); // (500-1500)
      },
    ],
    [
      'switch-chat',
      3,
      async () => {
        const choices = [...world.chats.keys(), null];
        model.selected = choices[Math.floor(rnd() * choices.length)] ?? null;
        store.resync('chaos: chat switched');
        await hold(50, 300);
      },
    ],
  ];
  const totalWeight = catalogue.reduce((n, [, w]) => n + w, 0);
  const choose = () => {
    let x = rnd() * totalWeight;
    for (const entry of catalogue) {
      x -= entry[1];
      if (x < 0) return entry;
    }
    return /** @type {[string, number, () => Promise<void>]} */ (catalogue[0]);
  };

  /** @type {ChaosReport['byType']} */
  const byType = {};
  let convergedCount = 0;
  let injected = 0;
  try {
    await store.start();
    const first = await until(converged, settleTimeoutMs);
    if (!first)
      failures.push(
        `never converged before the first fault: mode ${store.mode}, differs in ${diff().join(', ')}`,
      );

    for (let i = 1; i <= o.faults; i++) {
      const [name, , run] = choose();
      faultLabel = `#${i} ${name}`;
      injected += 1;
      const t0 = Date.now();
      await run();
      heal();
      const t1 = Date.now();
      const ok = await until(converged, settleTimeoutMs);
      const settleMs = Date.now() - t1;
      const t = (byType[name] ??= { n: 0, converged: 0, maxSettleMs: 0, totalSettleMs: 0 });
      t.n += 1;
      t.totalSettleMs += settleMs;
      t.maxSettleMs = Math.max(t.maxSettleMs, settleMs);
      if (ok) {
        convergedCount += 1;
        t.converged += 1;
      } else {
        const h = store.health;
        const gaveUp = sockets.givenUp()
          ? `; its socket.io Manager gave up reconnecting during ${giveUps.at(-1)} and has not connected since`
          : '';
        failures.push(
          `${faultLabel}: not converged within ${settleTimeoutMs} ms: mode ${h.mode}, lastError ${h.lastError?.code ?? '-'}, ` +
            `connected ${h.connected}, differs in ${diff().join(', ') || 'nothing (mode only)'}${gaveUp}`,
        );
        // Give the next fault a fair start; this one stays counted as not converged.
        store.resync('chaos: recovery after a failed settle');
        await until(converged, settleTimeoutMs);
      }
      if (o.verbose) {
        log(
          `[${String(i).padStart(3)}] ${name.padEnd(16)} fault ${String(t1 - t0).padStart(5)} ms, settle ${String(settleMs).padStart(5)} ms` +
            `${ok ? '' : '  NOT CONVERGED'}  timers ${clock.pending()} socket listeners ${sockets.listeners()}${sockets.givenUp() ? '  (Manager gave up)' : ''}`,
        );
      }
    }
  } finally {
    clearInterval(emitLoop);
    heal();
  }

  // ---- (c) the events: let every emit settle and the last ones land ----
  await until(() => inflightEmits.size === 0, P.drainMs);
  await until(() => emitter.isConnected(), P.reconnectWaitMs);
  await delay(500);
  let lostEvents = 0;
  let duplicatedEvents = 0;
  let ambiguousEvents = 0;
  let untypedRejections = 0;
  let resolved = 0;
  let rejected = 0;
  let stillPending = 0;
  /** @type {Record<string, number>} */
  const lostDuring = {};
  for (const [id, outcome] of outcomes) {
    const n = server.stats.received.get(id) ?? 0;
    if (n > 1) duplicatedEvents += 1;
    if (outcome === 'resolved') {
      resolved += 1;
      if (n === 0) {
        lostEvents += 1;
        const during = emittedDuring.get(id) ?? '?';
        lostDuring[during] = (lostDuring[during] ?? 0) + 1;
      }
    } else if (outcome === 'rejected') {
      rejected += 1;
      if (n > 0) ambiguousEvents += 1;
    } else if (outcome === 'untyped') {
      untypedRejections += 1;
    } else stillPending += 1;
  }
  if (stillPending)
    failures.push(`${stillPending} emits neither resolved nor rejected after the run`);

  // ---- (e) resources back to the baseline ----
  clearInterval(sampler);
  sample();
  unsubscribe();
  store.stop();
  client.dispose();
  emitter.dispose();
  /** @type {string[]} */
  const problems = [];
  if (clock.pending() !== 0)
    problems.push(`store client: ${clock.pending()} timers left after stop()+dispose()`);
  if (emitterClock.pending() !== 0)
    problems.push(`emitter: ${emitterClock.pending()} timers left after dispose()`);
  if (env.listeners !== 0)
    problems.push(`${env.listeners} environment listeners left after stop()`);
  if (sockets.listeners() + emitterSockets.listeners() !== 0)
    problems.push(
      `${sockets.listeners() + emitterSockets.listeners()} socket listeners left after dispose()`,
    );
  if (sockets.active() + emitterSockets.active() !== 0)
    problems.push('a socket is still connected or reconnecting after dispose()');
  if (maxima.timers > BOUNDS.timers)
    problems.push(`store client had ${maxima.timers} timers at once (bound ${BOUNDS.timers})`);
  if (maxima.emitterTimers > BOUNDS.emitterTimers)
    problems.push(
      `emitter had ${maxima.emitterTimers} timers at once (bound ${BOUNDS.emitterTimers})`,
    );
  if (maxima.envListeners > BOUNDS.envListeners)
    problems.push(
      `${maxima.envListeners} environment listeners at once (bound ${BOUNDS.envListeners})`,
    );
  if (maxima.socketListeners > BOUNDS.socketListeners)
    problems.push(
      `${maxima.socketListeners} socket listeners at once (bound ${BOUNDS.socketListeners})`,
    );
  if (untypedErrors)
    problems.push(`${untypedErrors} errors reported to onError were not SyncwireErrors`);
  const serverClosed = await until(() => server.stats.connections === 0, 3000);
  if (!serverClosed)
    problems.push(`${server.stats.connections} server connections still open after dispose()`);
  // A timer fires late or a close is still on its way: wait a beat and look again.
  await delay(100);
  if (clock.pending() !== 0 && !problems.some((p) => p.startsWith('store client:')))
    problems.push(`store client: ${clock.pending()} timers scheduled after dispose()`);

  world.stopTicker();
  await proxy.close();
  await server.close();
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUncaught);

  const stale = staleApplies + seqRegressions;
  const lost = lostEvents + duplicatedEvents + untypedRejections;
  const unhandled = unhandledDetails.length;
  const line = `chaos: ${injected} faults, ${convergedCount} converged, ${stale} stale applies, ${lost} lost events, ${unhandled} unhandled errors`;
  const resources = {
    ok: problems.length === 0,
    problems,
    maxTimers: maxima.timers,
    maxEmitterTimers: maxima.emitterTimers,
    maxEnvListeners: maxima.envListeners,
    maxSocketListeners: maxima.socketListeners,
  };
  return {
    seed: o.seed,
    timing: P.name,
    settleTimeoutMs,
    faults: injected,
    converged: convergedCount,
    stale,
    staleApplies,
    seqRegressions,
    lost,
    lostEvents,
    duplicatedEvents,
    untypedRejections,
    ambiguousEvents,
    events: { emitted, resolved, rejected, skipped, rejectCodes, lostDuring },
    unhandled,
    unhandledDetails,
    resources,
    byType,
    failures,
    giveUps,
    errorCodes,
    durationMs: Date.now() - started,
    line,
    ok: convergedCount === injected && stale === 0 && lost === 0 && unhandled === 0 && resources.ok,
  };
}

/** Prints everything but the final line. @param {ChaosReport} r @param {(line: string) => void} log */
export function printReport(r, log) {
  log(
    `seed ${r.seed}, timing ${r.timing}, settle timeout ${r.settleTimeoutMs} ms, ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  log('fault              n  converged  avg settle  max settle');
  for (const [name, t] of Object.entries(r.byType).sort()) {
    log(
      `${name.padEnd(16)} ${String(t.n).padStart(3)}  ${String(t.converged).padStart(9)}  ${String(Math.round(t.totalSettleMs / t.n)).padStart(7)} ms  ${String(t.maxSettleMs).padStart(7)} ms`,
    );
  }
  const e = r.events;
  log(
    `events: ${e.emitted} emitted, ${e.resolved} resolved, ${e.rejected} rejected with a SyncwireError ${JSON.stringify(e.rejectCodes)}, ` +
      `${e.skipped} not sent (500 already pending); lost ${r.lostEvents} (resolved, never received), duplicated ${r.duplicatedEvents}, ` +
      `untyped rejections ${r.untypedRejections}, ambiguous ${r.ambiguousEvents} (rejected yet received)`,
  );
  if (r.lostEvents) {
    log(
      `lost events by the fault going on (or settling) when they were emitted: ${JSON.stringify(e.lostDuring)} ` +
        '(approximate: a connection broken by one fault can swallow events until Engine.IO notices, during the next one)',
    );
  }
  log(`stale: ${r.staleApplies} stale applies, ${r.seqRegressions} lastSeq regressions`);
  log(
    `resources: max ${r.resources.maxTimers} timers (store client), ${r.resources.maxEmitterTimers} (emitter), ` +
      `${r.resources.maxSocketListeners} socket listeners, ${r.resources.maxEnvListeners} environment listeners; ` +
      `${r.resources.ok ? 'all back to 0 after stop()+dispose()' : 'PROBLEMS: ' + r.resources.problems.join('; ')}`,
  );
  log(`errors reported through onError: ${JSON.stringify(r.errorCodes)}`);
  if (r.giveUps.length) {
    log(
      `the store client's socket.io Manager gave up reconnecting (reconnect_failed, ${STORE_RECONNECTION_ATTEMPTS} attempts) ${r.giveUps.length} times, ` +
        `during: ${r.giveUps.join(', ')}`,
    );
  }
  for (const d of r.unhandledDetails.slice(0, 20)) log(`unhandled: ${d}`);
  for (const f of r.failures.slice(0, 40)) log(`FAIL ${f}`);
  if (r.failures.length > 40) log(`... ${r.failures.length - 40} more failures`);
}

/** @param {unknown} e */
function describe(e) {
  if (e instanceof Error)
    return `${e.name}: ${e.message}${/** @type {any} */ (e).code ? ` (${/** @type {any} */ (e).code})` : ''}`;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
