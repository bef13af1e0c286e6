/**
 * What the page sees of a store: the state shown and where it came from, the coalesced
 * notifications its subscribers hear, and its health.
 */
import type { Clock, Timers } from '../clock';
import { fire } from '../listeners';
import type { SyncHealth, SyncStoreEvent } from './api';
import { HEALTHY, type Effect, type MachineState } from './types';

/** @internal The shown state and its subscribers (see {@link createView}). */
export type View<S> = ReturnType<typeof createView<S>>;

/**
 * @internal The view of one store. `timers` is the store's; the view uses its 'notify'
 * timer. `reportError` hears a subscriber that throws.
 */
export function createView<S>(
  clock: Clock,
  timers: Timers,
  notifyIntervalMs: number,
  initialState: S,
  reportError: (e: unknown) => void,
) {
  const listeners = new Set<(e: SyncStoreEvent<S>) => void>();
  let lastNotifyAt = -Infinity;
  // What the 'notify' timer will tell: a state notification, which covers a health change too.
  let pending: 'state' | 'health' | null = null;
  // Timer-based, not requestAnimationFrame (rAF stops in hidden tabs). A burst within one
  // macrotask is one notification; pushes that each arrive in their own macrotask (1,000/s)
  // are held to one notification per notifyIntervalMs, so a UI never renders per push.
  const arm = () => {
    if (timers.has('notify')) return;
    const wait = Math.max(0, lastNotifyAt + notifyIntervalMs - clock.now());
    timers.set('notify', wait, view.notify);
  };
  const view = {
    listeners,
    /** The state shown. */
    state: initialState,
    /** The epoch of the state shown (health.epoch): the machine's moves to a new period's at
     * its ack, while the page still shows the old state until that period's first snapshot. */
    epoch: null as string | null,
    source: null as SyncHealth['source'],
    appliedAt: null as number | null,
    /** When the state shown was last known current: applied, confirmed by a poll answer, or
     * the last moment the push channel vouched for it (the machine's `confirmed` effect). */
    confirmedAt: null as number | null,

    emit: (e: SyncStoreEvent<S>) => {
      fire(listeners, e, reportError);
    },
    confirmed: () => {
      view.confirmedAt = clock.now();
    },
    /** Shows `state`, current as of `at`; subscribers hear of it with the next notification. */
    show: (state: S, epoch: string | null, source: SyncHealth['source'], at: number) => {
      view.state = state;
      view.epoch = epoch;
      view.source = source;
      view.appliedAt = at;
      view.confirmedAt = at;
    },
    /**
     * Subscribers hear of the state shown with the next notification. `inline`: if none is due
     * within notifyIntervalMs, now, in this task (a message from another tab is a task of its
     * own, already coalesced by the tab that sent it: a timer would only add a task's delay).
     */
    scheduleNotify: (inline = false) => {
      pending = 'state';
      if (inline && !timers.has('notify') && clock.now() >= lastNotifyAt + notifyIntervalMs)
        view.notify();
      else arm();
    },
    /**
     * A transition from `prev` to `next` with effects `fx` ran. When it changed the health
     * (a counter, the last error, the connection, the seq) with neither an apply nor a mode
     * change, whose notifications make subscribers read the health again anyway, subscribers
     * hear a coalesced `health` event. Never for an in-order push: it is an apply.
     */
    stepped: (prev: MachineState, next: MachineState, fx: readonly Effect[]) => {
      // Runs once per push too: a plain loop, no closure to allocate.
      if (prev.mode !== next.mode) return;
      for (const e of fx) if (e.type === 'apply') return;
      if (healthMoved(prev, next)) view.scheduleHealth();
    },
    /** Subscribers hear a `health` event with the next notification (unless a state one is due). */
    scheduleHealth: () => {
      pending ??= 'health';
      arm();
    },
    /** The pending notification now: a state notification, or a health one if only that is due. */
    notify: () => {
      const kind = pending ?? 'state';
      pending = null;
      lastNotifyAt = clock.now();
      view.emit(kind === 'state' ? { type: 'state', state: view.state } : { type: 'health' });
    },
    /** Ends the notifications: a pending state notification goes out now, a health one is dropped. */
    flush: () => {
      const due = pending === 'state';
      pending = null;
      timers.clear('notify');
      if (due) view.notify();
    },
    /**
     * The store's health, read from the machine state `m` and what is shown: the same frozen
     * object until one of its fields changes, so `store.health` can be a snapshot for
     * `useSyncExternalStore` or a Svelte store (a new object per read would re-render forever).
     */
    health: (m: MachineState): SyncHealth => {
      if (last === undefined || changed(last, m)) last = snapshot(m);
      return last;
    },
  };
  let last: SyncHealth | undefined;
  // The machine error the last snapshot copied: the machine keeps it by reference until it
  // changes, while its counters are copied on every transition and so compared by value.
  let lastError: MachineState['error'] = null;
  const changed = (h: SyncHealth, m: MachineState) => {
    const a = h.counters;
    const b = m.stats;
    return (
      h.mode !== m.mode ||
      h.connected !== m.connected ||
      h.lastSeq !== m.lastSeq ||
      h.epoch !== view.epoch ||
      h.lastAppliedAt !== view.appliedAt ||
      h.source !== view.source ||
      lastError !== m.error ||
      a.pushesApplied !== b.pushesApplied ||
      a.pushesDropped !== b.pushesDropped ||
      a.resyncs !== b.resyncs ||
      a.polls !== b.polls ||
      a.handshakes !== b.handshakes
    );
  };
  const snapshot = (m: MachineState): SyncHealth => {
    const { mode } = m;
    const h: SyncHealth = Object.freeze({
      mode,
      connected: m.connected,
      epoch: view.epoch,
      lastSeq: m.lastSeq,
      lastAppliedAt: view.appliedAt,
      source: view.source,
      // A getter, not a field: staleness grows with the clock while nothing else changes, and a
      // snapshot that changed identity on every read could not be compared. Read now, it is the
      // time since the state was last known current (polls keep confirming it while DEGRADED),
      // never below 0, even when the wall clock was set back.
      get staleMs() {
        if (mode === HEALTHY) return 0;
        return view.confirmedAt === null ? null : Math.max(0, clock.now() - view.confirmedAt);
      },
      // Copies: the machine's states are never mutated, not even by a caller.
      lastError: m.error === null ? null : Object.freeze({ ...m.error }),
      counters: Object.freeze({ ...m.stats }),
    });
    lastError = m.error;
    return h;
  };
  return view;
}

/** Whether a transition changed what `health` shows of the machine (mode aside). */
function healthMoved(a: MachineState, b: MachineState): boolean {
  const x = a.stats;
  const y = b.stats;
  return (
    a.connected !== b.connected ||
    a.error !== b.error ||
    a.lastSeq !== b.lastSeq ||
    x.pushesApplied !== y.pushesApplied ||
    x.pushesDropped !== y.pushesDropped ||
    x.resyncs !== y.resyncs ||
    x.polls !== y.polls ||
    x.handshakes !== y.handshakes
  );
}
