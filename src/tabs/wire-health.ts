/**
 * @internal A store's health as it travels between tabs ({@link WireHealth}): plain data, with
 * `staleMs` turned into the moment the leader last knew its state current.
 */
import type { Clock, SyncHealth } from '../index';
import type { TabRole } from './election';
import type { SharedHealth } from './mirror';
import { HEALTHY } from '../store/types';
import type { WireHealth } from './messages';

export const ZERO_COUNTERS = {
  pushesApplied: 0,
  pushesDropped: 0,
  resyncs: 0,
  polls: 0,
  handshakes: 0,
};
/** What a follower shows before any snapshot: no state, no connection, nothing counted. */
export const NOTHING: WireHealth = {
  mode: 'DISCONNECTED',
  connected: false,
  epoch: null,
  lastSeq: -1,
  lastAppliedAt: null,
  source: null,
  confirmedAt: null,
  lastError: null,
  counters: ZERO_COUNTERS,
};

/** A store's health as data (see {@link WireHealth}): `staleMs` becomes a moment. */
export function toWireHealth(h: SyncHealth, now: number): WireHealth {
  const { staleMs, lastError } = h;
  return {
    mode: h.mode,
    connected: h.connected,
    epoch: h.epoch,
    lastSeq: h.lastSeq,
    lastAppliedAt: h.lastAppliedAt,
    source: h.source,
    confirmedAt: h.mode === HEALTHY ? now : staleMs === null ? null : now - staleMs,
    lastError: lastError && { code: lastError.code, message: lastError.message },
    counters: { ...h.counters },
  };
}

/** Whether two wire healths show the same. */
export const sameWire = (a: WireHealth, b: WireHealth) =>
  a.mode === b.mode &&
  a.connected === b.connected &&
  a.epoch === b.epoch &&
  a.lastSeq === b.lastSeq &&
  a.lastAppliedAt === b.lastAppliedAt &&
  a.source === b.source &&
  a.confirmedAt === b.confirmedAt &&
  a.lastError?.code === b.lastError?.code &&
  a.lastError?.message === b.lastError?.message &&
  (Object.keys(ZERO_COUNTERS) as (keyof typeof ZERO_COUNTERS)[]).every(
    (k) => a.counters[k] === b.counters[k],
  );

/**
 * A shared store's health: the leader's `wire`, with this tab's `role`, frozen; as the store's,
 * `staleMs` is computed when read, from the moment the leader last knew its state current.
 */
export function sharedHealth(wire: WireHealth, role: TabRole, clock: Clock): SharedHealth {
  const { mode, confirmedAt, lastError, counters } = wire;
  return Object.freeze({
    role,
    mode,
    connected: wire.connected,
    epoch: wire.epoch,
    lastSeq: wire.lastSeq,
    lastAppliedAt: wire.lastAppliedAt,
    source: wire.source,
    get staleMs() {
      if (mode === HEALTHY) return 0;
      return confirmedAt === null ? null : Math.max(0, clock.now() - confirmedAt);
    },
    lastError: lastError && Object.freeze({ ...lastError }),
    counters: Object.freeze({ ...counters }),
  });
}
