/**
 * The rules every kind of machine event shares: mode changes, timers, errors, handshakes,
 * resyncs, degrading, applying a push. One set is built per general transition, over the
 * copy of the state that transition returns and the effects it collects.
 */
import { cappedExponential } from '../clock';
import type { SyncwireErrorCode } from '../errors';
import {
  DEGRADED,
  FAILED,
  HANDSHAKE_PENDING,
  HEALTHY,
  TIMER_NAMES,
  type Effect,
  type MachineState,
  type PushIn,
  type SyncMode,
  type TimerName,
  type Timing,
} from './types';

/** @internal The shared rules of one general transition (see {@link createRules}). */
export type Rules = ReturnType<typeof createRules>;

/**
 * @internal The rules over `s` (the transition's own copy), pushing effects to `fx`.
 * `rand` (0..1) is the caller's randomness for backoff jitter.
 */
export function createRules(s: MachineState, fx: Effect[], t: Timing, rand: number) {
  const setMode = (to: SyncMode, reason: string) => {
    if (s.mode === to) return;
    // The push channel vouched for the state until this moment.
    if (s.mode === HEALTHY) fx.push({ type: 'confirmed' });
    fx.push({ type: 'mode', from: s.mode, to, reason });
    s.mode = to;
  };
  const set = (name: TimerName, ms: number) => {
    fx.push({ type: 'set', name, ms });
  };
  const clear = (...names: TimerName[]) => {
    for (const name of names) fx.push({ type: 'clear', name });
  };
  // `cause`: the error as it was raised (its details and cause reach onError listeners).
  const report = (code: SyncwireErrorCode, message: string, cause?: unknown, details?: unknown) => {
    s.error = { code, message };
    fx.push({ type: 'error', code, message, details, cause });
  };
  const degraded = () => s.mode === DEGRADED;
  // Forgets the handshake in flight and the period it was opening.
  const closePeriod = () => {
    s.hs = null;
    s.held = [];
    s.awaiting = false;
  };
  // Nothing known yet is a full sync too: the page has no cursors to resume from.
  const wantFull = () => s.needFull || (s.epoch === null && !s.hasState);

  const handshake = (reason: string) => {
    if (!s.connected) return;
    const full = wantFull();
    closePeriod();
    s.gen++;
    s.hs = { gen: s.gen, full, polls: s.pollApplies };
    s.audit = null;
    s.stats.handshakes++;
    // While degraded, polling goes on until the ack opens the new period.
    if (!degraded()) setMode(HANDSHAKE_PENDING, reason);
    clear('retry', 'first');
    fx.push({ type: 'handshake', gen: s.gen, full });
    if (s.connFirstGen < 0) s.connFirstGen = s.gen;
  };
  // The liveness audit is due livenessMs after the last proof; `now` is the event's time.
  const armLive = (now: number) => {
    set('live', Math.max(0, s.lastProofAt + t.livenessMs - now));
  };
  const pollNow = () => {
    s.pollId++;
    set('poll', 0);
  };
  const resync = (reason: string) => {
    s.needFull = true;
    s.stats.resyncs++;
    if (s.connected) handshake(reason);
    if (degraded()) pollNow();
  };
  const degrade = (reason: string) => {
    if (degraded() || s.mode === FAILED) return;
    setMode(DEGRADED, reason);
    s.pollFailures = 0;
    clear('live');
    pollNow();
  };
  // Equal jitter: half the capped exponential delay is fixed, half random, so a
  // crowd spreads out without anyone retrying at once.
  const jitter = (attempt: number, base: number, max: number) => {
    const half = cappedExponential(attempt, base, max) / 2;
    return Math.round(half + half * rand);
  };
  // `reason`: what the mode change names (the server's own code, when it gave one).
  const failHandshake = (
    code: SyncwireErrorCode,
    message: string,
    cause?: unknown,
    details?: unknown,
    reason: string = code,
  ) => {
    closePeriod();
    report(code, message, cause, details);
    clear('first');
    if (degraded())
      pollNow(); // polling paused while the failed period was open
    else degrade(`handshake failed: ${reason}`);
    if (s.connected) set('retry', jitter(s.retries, t.backoffBaseMs, t.backoffMaxMs));
    s.retries++;
  };
  // Ends all work: every timer cleared, nothing in flight.
  const halt = (mode: SyncMode, reason: string) => {
    closePeriod();
    clear(...TIMER_NAMES);
    setMode(mode, reason);
  };
  const fatal = (code: SyncwireErrorCode, message: string, cause?: unknown, details?: unknown) => {
    report(code, message, cause, details);
    halt(FAILED, `${code}: ${message}`);
  };
  const drop = () => {
    s.stats.pushesDropped++;
  };
  // After a reduce failure only a snapshot from the initial state applies (see
  // MachineState.reduceFailures). `afterInitial`: an apply from the initial state came
  // earlier in this effect list, so a delta after it applies on top of it.
  let afterInitial = false;
  const apply = (snapshot: object, source: 'push' | 'poll', fromInitial: boolean) => {
    if (s.reduceFailures > 0 && !fromInitial && !afterInitial) return;
    if (fromInitial) afterInitial = true;
    fx.push({ type: 'apply', snapshot, source, fromInitial });
  };

  const applyPush = (p: PushIn) => {
    if (p.epoch !== s.epoch) {
      drop();
      resync('runtime epoch changed');
      return;
    }
    // Stale or duplicate: never overwrite newer state.
    if (p.seq <= s.lastSeq) {
      drop();
      return;
    }
    if (p.seq !== s.lastSeq + 1) {
      drop();
      resync(`seq gap: expected ${s.lastSeq + 1}, got ${p.seq}`);
      return;
    }
    s.lastSeq = p.seq;
    s.pushes++;
    s.lastProofAt = p.at;
    s.stats.pushesApplied++;
    apply(p.snapshot, 'push', s.awaiting && s.fullPeriod);
    s.hasState = true;
    if (!s.awaiting) return;
    // The period's first snapshot: HEALTHY now.
    s.needFull = false;
    s.awaiting = false;
    s.authRetried = false;
    s.retries = 0;
    s.pushWoke = false;
    s.pollId++; // a poll answer still on its way must not overwrite pushed state
    clear('first', 'poll', 'grace');
    armLive(p.at);
    setMode(HEALTHY, 'first snapshot of the period applied');
  };

  return {
    s,
    fx,
    t,
    setMode,
    set,
    clear,
    report,
    degraded,
    closePeriod,
    wantFull,
    armLive,
    handshake,
    pollNow,
    resync,
    degrade,
    jitter,
    failHandshake,
    halt,
    fatal,
    drop,
    apply,
    applyPush,
  };
}
