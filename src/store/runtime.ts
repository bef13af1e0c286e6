/**
 * The store's runtime: it feeds events to the machine one at a time and carries out the
 * effects, turning them into timers, handshake requests, polls and applies, whose results
 * come back as events. It decides nothing about syncing; the machine does.
 */
import type { NamespacedClient } from '../client/client';
import { unitRandom, type Timers } from '../clock';
import { SyncwireError, codeOf, fail, messageOf } from '../errors';
import { noop } from '../util';
import type { PersistSession } from './api';
import { step as machineStep } from './machine';
import { initialMachineState } from './state';
import type { Effect, MachineEvent, Timing } from './types';
import type { View } from './view';
import { handshakeAnswer } from './wire';
import type { PollAnswer } from './poll';

/** Where an applied snapshot came from. */
type Source = 'push' | 'poll';

/** @internal What the runtime works with: the store's options and parts, resolved. */
export interface RuntimeParts<S, P> {
  client: NamespacedClient;
  timing: Timing;
  timers: Timers;
  view: View<S>;
  initialState: S;
  payload: (state: S) => P;
  reduce: (
    state: S,
    snapshot: object,
    context: { source: Source; requestResync(reason?: string): void },
  ) => S;
  hasChanged: (state: S, snapshot: object) => boolean;
  random: () => number;
  cache: PersistSession<S> | undefined;
  /** Handshake correlationIds are `<tagPrefix><gen>`, so a tagged push names its handshake. */
  tagPrefix: string;
  /** The store's poll: the server's snapshot for a request body. */
  poll: (body: object) => Promise<PollAnswer>;
  /** Registers a cleanup that ending the run calls; returns its remover. */
  track: (cleanup: () => void) => () => void;
  /** Runs (and forgets) every registered cleanup. */
  cleanAll: () => void;
  /** Asks the client to connect (the machine's `connect` effect). */
  connect: () => void;
}

/** @internal The store's runtime (see {@link createRuntime}). */

/** @internal The runtime over `parts`: the machine's state, and the way events reach it. */
export function createRuntime<S, P extends object>(parts: RuntimeParts<S, P>) {
  const { client, timing, timers, view, initialState, payload, reduce, cache } = parts;
  const draw = () => unitRandom(parts.random);

  // Events raised while effects run are queued, so every transition sees a settled state.
  // Events left behind by a run that threw still go first.
  const queue: MachineEvent[] = [];
  // What the applies of the effect list being run reported: the machine hears it before any
  // other event, and once one failed, the list's later applies are skipped.
  const outcomes: MachineEvent[] = [];
  let applyFailed = false;
  let busy = false;

  const rt = {
    /** The machine's current state: the one source of every sync fact the store shows. */
    machine: initialMachineState(),
    /** Counts runs; effects of a run that ended (a listener called stop()) are not carried out. */
    runId: 0,
    dispatch: (ev: MachineEvent) => {
      queue.push(ev);
      drain();
    },
    /**
     * Ends the run with `ev` (`stop`, or `disposed`): every listener, timer and request goes
     * synchronously, from wherever it is called.
     */
    release: (ev: MachineEvent) => {
      rt.runId++;
      parts.cleanAll();
      // Called from a listener, mid-run: the events still queued belong to the run that ends.
      queue.length = 0;
      // Timers end here; a pending save or notification happens now rather than never.
      timers.clearAll();
      cache?.flush();
      // The machine stops at once, even inside another transition (a subscriber called stop()),
      // so a start() right after it, or from its own mode event, finds the store stopped and wins.
      const outer = busy;
      busy = true;
      try {
        step(ev);
      } finally {
        busy = outer;
      }
      view.flush();
      drain(); // what a subscriber's start() raised meanwhile
    },
  };

  const step = (ev: MachineEvent) => {
    const [next, fx] = machineStep(rt.machine, ev, timing, draw);
    const prev = rt.machine;
    rt.machine = next;
    // A push's applies happen when it arrived: its time is read once, not again per apply.
    const at = ev.type === 'push' ? ev.push.at : undefined;
    // A listener that calls stop() ends this transition's remaining effects.
    const id = rt.runId;
    applyFailed = false;
    for (const e of fx) {
      if (id !== rt.runId) break;
      run(e, at);
    }
    if (id === rt.runId) view.stepped(prev, next, fx);
    if (outcomes.length === 0) return;
    const heard = outcomes.splice(0);
    if (id === rt.runId) queue.unshift(...heard);
  };
  const drain = () => {
    if (busy) return;
    busy = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) step(next);
    } finally {
      busy = false;
    }
  };

  // `at`: the time of the event whose effects these are, when it carries one.
  const run = (e: Effect, at: number | undefined) => {
    switch (e.type) {
      case 'mode':
        client.logger.log('push', `mode ${e.from} → ${e.to}`, { reason: e.reason });
        view.emit(e);
        break;
      case 'set':
        timers.set(e.name, e.ms, () =>
          rt.dispatch({ type: 'timer', name: e.name, at: client.clock.now() }),
        );
        break;
      case 'clear':
        timers.clear(e.name);
        break;
      case 'confirmed':
        view.confirmed();
        break;
      case 'error':
        client.reportError(
          e.cause instanceof SyncwireError ? e.cause : fail(e.code, e.message, e.details, e.cause),
        );
        break;
      case 'reconnect':
        client.reconnect({ refreshAuth: true }).catch(noop);
        break;
      case 'connect':
        parts.connect();
        break;
      case 'handshake':
        handshake(e.gen, e.full);
        break;
      case 'apply':
        if (!applyFailed)
          applyFailed = !apply(e.snapshot, e.source, e.fromInitial, at ?? client.clock.now());
        break;
      case 'poll':
        pollFrom(e.full ? initialState : view.state).then(
          // Agent Zero's runtime id (from /csrf_token, server_restart) is its runtime_epoch.
          (answer) =>
            rt.dispatch({
              type: 'polled',
              id: e.id,
              ok: true,
              snapshot: answer.snapshot,
              epoch: answer.runtimeId,
            }),
          (err: unknown) =>
            rt.dispatch({
              type: 'polled',
              id: e.id,
              ok: false,
              code: codeOf(err, 'POLL_FAILED'),
              message: messageOf(err),
              cause: err,
            }),
        );
        break;
      case 'audit':
        audit(e.id);
    }
  };

  // User code (payload) runs inside the promise chain: a throw becomes a failed poll, never an exception out of a timer.
  const pollFrom = (base: S) => Promise.resolve(base).then((b) => parts.poll(payload(b)));

  const audit = (id: number) => {
    const before = view.state;
    pollFrom(before)
      .then((answer) => parts.hasChanged(before, answer.snapshot))
      .then(
        (changed) =>
          rt.dispatch({ type: 'audited', id, changed: changed === true, at: client.clock.now() }),
        // A failed audit (network, or payload/hasChanged threw) proves nothing: look again next window.
        (err: unknown) => {
          if (!(err instanceof SyncwireError)) {
            const message = `liveness audit failed: ${messageOf(err)}`;
            rt.dispatch({ type: 'error', code: 'VALIDATION_ERROR', message, cause: err });
          }
          rt.dispatch({ type: 'audited', id, changed: null, at: client.clock.now() });
        },
      );
  };

  // The handshake in flight: a newer one supersedes it, and if it still waits for the connection
  // it must never be sent after the newer one (the server would open its period last).
  let cancelHandshake = noop;
  const handshake = (gen: number, full: boolean) => {
    cancelHandshake();
    let data: P;
    try {
      data = payload(full ? initialState : view.state);
    } catch (err) {
      const message = `payload() threw: ${messageOf(err)}`;
      rt.dispatch({ type: 'nack', gen, code: 'VALIDATION_ERROR', message });
      return;
    }
    const ctl = new AbortController();
    const untrack = parts.track(() => ctl.abort());
    cancelHandshake = () => ctl.abort();
    let answered = false;
    const answer = (ev: MachineEvent) => {
      if (answered) return;
      answered = true;
      untrack();
      rt.dispatch(ev);
    };
    // The ack is taken as it arrives (onAck), in wire order: the period's first push, which the
    // server sends right after it (in the same batch of packets over long-polling), is then seen
    // after the ack instead of being held before it as ambiguous, which stalled idle servers.
    void client
      .request('state_request', data, {
        timeoutMs: timing.handshakeTimeoutMs,
        correlationId: parts.tagPrefix + gen,
        signal: ctl.signal,
        onAck: (res) => answer(handshakeAnswer(gen, res)),
      })
      .then(
        (res) => answer(handshakeAnswer(gen, res)),
        (err: unknown) =>
          answer({
            type: 'nack',
            gen,
            code: codeOf(err, 'HANDSHAKE_FAILED'),
            message: messageOf(err),
            cause: err,
          }),
      );
  };

  // One context per source, shared by every apply (a push must not allocate one); its
  // requestResync only counts while reduce runs.
  let resyncReason: string | undefined;
  let reducing = false;
  const requestResync = (reason = 'reducer asked') => {
    if (reducing) resyncReason = reason;
  };
  const contexts = {
    push: { source: 'push', requestResync },
    poll: { source: 'poll', requestResync },
  } as const;
  // Reduces one snapshot, applied `at`; false when reduce threw (the state is left as it was).
  const apply = (snapshot: object, from: Source, fromInitial: boolean, at: number): boolean => {
    let next: S;
    resyncReason = undefined;
    reducing = true;
    try {
      next = reduce(fromInitial ? initialState : view.state, snapshot, contexts[from]);
    } catch (err) {
      outcomes.push({
        type: 'reduced',
        ok: false,
        fromInitial,
        message: messageOf(err),
        cause: err,
      });
      return false;
    } finally {
      reducing = false;
    }
    view.show(next, rt.machine.epoch, from, at);
    view.scheduleNotify();
    cache?.save({ epoch: view.epoch, savedAt: at, state: next });
    // An empty reason asks for nothing, as before.
    const resync = resyncReason || undefined;
    // A delta applied cleanly tells the machine nothing new: it is not reported (the hot path).
    if (fromInitial || resync !== undefined)
      outcomes.push({ type: 'reduced', ok: true, fromInitial, resync });
    return true;
  };

  return rt;
}
