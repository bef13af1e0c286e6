// Fault injection: every way the push channel can go wrong that the client must
// survive. Usable from tests (faults.x()) and from the demo page (HTTP fault API).
import { newRuntimeId } from './security.mjs';
import { STATE_NS } from './state-sync.mjs';

/**
 * @typedef {import('./manager.mjs').Manager} Manager
 * @typedef {import('./state-sync.mjs').StateSync} StateSync
 * @typedef {import('./security.mjs').Runtime} Runtime
 * @typedef {import('./security.mjs').CsrfStore} CsrfStore
 * @typedef {import('./world.mjs').World} World
 *
 * @typedef {object} FaultState
 * @property {string} runtimeId
 * @property {number | boolean} dropPushes
 * @property {boolean} stallHandshakes
 * @property {number} delayAcks ms
 * @property {boolean} silencePushes
 * @property {boolean} blockTransports
 * @property {number | boolean} failPolls true = always, n = the next n polls
 * @property {number} slowPolls ms
 * @property {boolean} down inside a restart's downtime
 */

export const FAULT_NAMES = Object.freeze([
  'dropPushes',
  'injectGap',
  'stalePush',
  'duplicatePush',
  'bumpEpoch',
  'restart',
  'stallHandshakes',
  'delayAcks',
  'silencePushes',
  'blockTransports',
  'failPolls',
  'slowPolls',
  'reset',
]);

export class Faults {
  /** @param {{ manager: Manager, stateSync: StateSync, runtime: Runtime, csrf: CsrfStore, world: World }} deps */
  constructor({ manager, stateSync, runtime, csrf, world }) {
    this.manager = manager;
    this.stateSync = stateSync;
    this.runtime = runtime;
    this.csrf = csrf;
    this.world = world;
    /** @type {number | boolean} */
    this.drop = 0;
    this.stalled = false;
    this.blocked = false;
    /** @type {number | boolean} */
    this.pollFailures = false;
    this.pollDelayMs = 0;
    this.down = false;
    /** @type {{ timer: ReturnType<typeof setTimeout>, resolve: () => void } | null} */
    this.downtime = null;
  }

  /** Lose the next n pushes of each connection in transit (seq still advances); true = until dropPushes(0). @param {number | boolean} [n] */
  dropPushes(n = 1) {
    this.drop = n === true ? true : typeof n === 'number' && n > 0 ? Math.floor(n) : 0;
    this.stateSync.setDrop(this.drop);
  }

  /** The next push of each connection skips one seq number. */
  injectGap() {
    this.stateSync.injectGap();
  }

  /** @returns {number} connections that received an older push again */
  stalePush() {
    return this.stateSync.reemit('stale');
  }

  /** @returns {number} connections that received their last push again */
  duplicatePush() {
    return this.stateSync.reemit('duplicate');
  }

  /** New runtime id, nobody disconnected, tokens stay valid. @returns {string} the new id */
  bumpEpoch() {
    this.runtime.id = newRuntimeId();
    this.csrf.noteEpoch();
    return this.runtime.id;
  }

  /**
   * A simulated process restart. Resolves when the downtime is over.
   * @param {{ downtimeMs?: number }} [opts]
   * @returns {Promise<void>}
   */
  restart(opts = {}) {
    const downtimeMs = Math.max(0, Number(opts?.downtimeMs) || 0);
    this.endDowntime();
    this.runtime.id = newRuntimeId();
    this.csrf.invalidateAll();
    this.stateSync.dropAllProjections();
    this.world.simulateRestart();
    this.down = downtimeMs > 0;
    // Transport-level close, like a dying process: clients see "transport close", not "io server disconnect".
    this.manager.closeTransports();
    if (!this.down) return Promise.resolve();
    return new Promise((resolve) => {
      this.downtime = {
        timer: setTimeout(() => this.endDowntime(), downtimeMs),
        resolve: () => resolve(),
      };
    });
  }

  endDowntime() {
    this.down = false;
    const d = this.downtime;
    this.downtime = null;
    if (d) {
      clearTimeout(d.timer);
      d.resolve();
    }
  }

  /** While on, state_request is swallowed: not processed, never acknowledged. @param {boolean} [on] */
  stallHandshakes(on = true) {
    this.stalled = Boolean(on);
    this.manager.swallow = this.stalled
      ? (ns, event) => ns === STATE_NS && event === 'state_request'
      : null;
  }

  /** state_request is processed at once but acknowledged ms later, so the period's first pushes arrive before the ack. @param {number} [ms] */
  delayAcks(ms = 0) {
    this.stateSync.ackDelayMs = Math.max(0, Number(ms) || 0);
  }

  /** While on, nothing is pushed and seq stays put; afterwards pushes resume without a gap. @param {boolean} [on] */
  silencePushes(on = true) {
    this.stateSync.setSilenced(Boolean(on));
  }

  /** While on, Engine.IO refuses every connection (and drops the open ones); HTTP keeps working. @param {boolean} [on] */
  blockTransports(on = true) {
    this.blocked = Boolean(on);
    if (this.blocked) this.manager.closeTransports();
  }

  /** /poll answers 500: true = always, n = the next n polls, false/0 = never. @param {number | boolean} [v] */
  failPolls(v = true) {
    this.pollFailures = v === true ? true : typeof v === 'number' && v > 0 ? Math.floor(v) : false;
  }

  /** /poll answers after ms. @param {number} [ms] */
  slowPolls(ms = 0) {
    this.pollDelayMs = Math.max(0, Number(ms) || 0);
  }

  reset() {
    this.dropPushes(0);
    for (const p of this.stateSync.projections.values()) p.skipNext = false;
    this.stallHandshakes(false);
    this.delayAcks(0);
    this.silencePushes(false);
    this.blockTransports(false);
    this.failPolls(false);
    this.slowPolls(0);
    this.endDowntime();
  }

  /** @returns {FaultState} */
  state() {
    return {
      runtimeId: this.runtime.id,
      dropPushes: this.drop,
      stallHandshakes: this.stalled,
      delayAcks: this.stateSync.ackDelayMs,
      silencePushes: this.stateSync.silenced,
      blockTransports: this.blocked,
      failPolls: this.pollFailures,
      slowPolls: this.pollDelayMs,
      down: this.down,
    };
  }

  /** Engine.IO allowRequest: refused while blocked or down. */
  allowTransport() {
    return !this.blocked && !this.down;
  }

  /** Consumes one injected poll failure, if any. */
  takePollFailure() {
    if (this.pollFailures === true) return true;
    if (typeof this.pollFailures === 'number' && this.pollFailures > 0) {
      this.pollFailures -= 1;
      if (this.pollFailures === 0) this.pollFailures = false;
      return true;
    }
    return false;
  }

  close() {
    this.endDowntime();
  }
}
