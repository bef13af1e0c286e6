/**
 * The sync store's brain: a pure `transition(state, event) → [state, effects]`.
 * No sockets, timers or clocks in here; the runtime (runtime.ts) turns effects
 * into requests, timers and applies, and feeds results back as events.
 *
 * The rules live in periods.ts (handshake answers, pushes, reduce outcomes) and link.ts
 * (lifecycle, connection, timers, polls), over the shared helpers of rules.ts.
 */
import {
  onAudited,
  onEnd,
  onEnv,
  onLink,
  onOutsideError,
  onPolled,
  onResync,
  onStart,
  onTimer,
} from './link';
import { onAck, onNack, onPush, onReduced } from './periods';
import { createRules, type Rules } from './rules';
import { copyState } from './state';
import {
  FAILED,
  HEALTHY,
  type Effect,
  type EventOf,
  type MachineEvent,
  type MachineState,
  type PushIn,
  type Timing,
} from './types';

export type {
  Effect,
  MachineEvent,
  MachineState,
  PushIn,
  SyncMode,
  TimerName,
  Timing,
} from './types';
export { initialMachineState } from './state';
export { TIMER_NAMES } from './types';
export { HELD_MAX, fitting } from './periods';

/** Events a stopped machine still hears; any other is ignored until `start`. */
const HEARD_WHEN_STOPPED: ReadonlySet<MachineEvent['type']> = new Set<MachineEvent['type']>([
  'start',
  'connected',
  'disconnected',
  'env',
  'disposed',
  'pushInvalid',
  'error',
  'clientError',
]);

/** Which rule each event goes to. */
const RULES: { [T in MachineEvent['type']]: (r: Rules, ev: EventOf<T>) => void } = {
  start: onStart,
  stop: onEnd,
  disposed: onEnd,
  connected: onLink,
  disconnected: onLink,
  ack: onAck,
  nack: onNack,
  push: (r, ev) => onPush(r, ev.push),
  reduced: onReduced,
  resync: onResync,
  timer: onTimer,
  polled: onPolled,
  audited: onAudited,
  // Already FAILED: the first terminal error stands, and is not reported twice.
  fatal: (r, ev) => {
    if (r.s.mode !== FAILED) r.fatal(ev.code, ev.message, ev.cause);
  },
  env: onEnv,
  pushInvalid: onOutsideError,
  error: onOutsideError,
  clientError: onOutsideError,
};

/**
 * The pure transition function. Never mutates `prev`; the new state holds exactly
 * the fields of {@link MachineState}. `rand` (0..1) is the caller's randomness for
 * backoff jitter, so the function stays deterministic.
 */
export function transition(
  prev: MachineState,
  ev: MachineEvent,
  t: Timing,
  rand = 0.5,
): [MachineState, Effect[]] {
  return step(prev, ev, t, () => rand);
}

/**
 * @internal {@link transition} as the runtime calls it: `draw()` gives the randomness, and is
 * called only on the general path, so the steady stream of pushes draws no random number.
 * The one place that decides between the in-order shortcut and the general rules.
 */
export function step(
  prev: MachineState,
  ev: MachineEvent,
  t: Timing,
  draw: () => number,
): [MachineState, Effect[]] {
  // The steady state, once per push: skips the general path's closures.
  if (ev.type === 'push') {
    const next = inOrderPush(prev, ev.push);
    if (next !== undefined) {
      const apply: Effect = {
        type: 'apply',
        snapshot: ev.push.snapshot,
        source: 'push',
        fromInitial: false,
      };
      return [next, [apply]];
    }
  }
  return generalTransition(prev, ev, t, draw());
}

/**
 * @internal The transition for the next push in order (the next seq of the current
 * epoch and period, HEALTHY, no handshake in flight, no reduce failure to recover from):
 * the new state, whose one effect is always
 * `{ type: 'apply', snapshot: p.snapshot, source: 'push', fromInitial: false }`;
 * or undefined when any other rule could apply. A machine test checks it agrees with
 * {@link generalTransition}.
 */
export function inOrderPush(prev: MachineState, p: PushIn): MachineState | undefined {
  if (
    !prev.running ||
    prev.mode !== HEALTHY ||
    prev.hs ||
    prev.awaiting ||
    prev.reduceFailures !== 0 ||
    (prev.period !== null && p.gen !== prev.period)
  )
    return undefined;
  if (p.epoch !== prev.epoch || p.seq !== prev.lastSeq + 1) return undefined;
  const s = copyState(prev);
  s.pushes++;
  s.lastSeq = p.seq;
  s.lastProofAt = p.at;
  s.hasState = true;
  s.stats.pushesApplied++;
  return s;
}

/**
 * @internal The transition by the general rules alone, without the in-order shortcut
 * (`transition` is this plus {@link inOrderPush}).
 */
export function generalTransition(
  prev: MachineState,
  ev: MachineEvent,
  t: Timing,
  rand = 0.5,
): [MachineState, Effect[]] {
  const s = copyState(prev);
  const fx: Effect[] = [];
  if (!s.running && !HEARD_WHEN_STOPPED.has(ev.type)) return [s, fx];
  const r = createRules(s, fx, t, rand);
  (RULES[ev.type] as (r: Rules, ev: MachineEvent) => void)(r, ev);
  return [s, fx];
}
