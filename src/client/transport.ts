/**
 * Back to WebSocket: a connection that fell back to HTTP long-polling (a proxy blocked the
 * WebSocket) stays there until it reconnects, since Socket.IO tries to upgrade only when a
 * connection opens. While on long-polling with WebSocket allowed, the client probes WebSocket
 * in the background (a throwaway Engine.IO connection, with backoff) and, once one opens,
 * moves the connection back to WebSocket at a quiet moment: no call in flight.
 */
import { cappedExponential, unitRandom, type Timers } from '../clock';
import type { Logger } from '../logger';
import { noop } from '../util';
import type { TransportMemo } from './transport-memo';
import type { SocketLike } from './socket';

/** Timing of the background WebSocket probe (all milliseconds). */
export interface ProbeTiming {
  /** The first probe's delay is between half of it and all of it; each failure doubles it. */
  baseMs: number;
  /** The longest delay between two probes. */
  maxMs: number;
  /** A probe that has not opened by then counts as failed (a network that drops WebSockets silently). */
  timeoutMs: number;
}

/** What `client.transport` tells about the connection's transport. */
export interface TransportInfo {
  /** The open connection's transport (`'websocket'`, `'polling'`), undefined while none is open. */
  readonly name: string | undefined;
  /** WebSocket probes started so far. */
  readonly probes: number;
  /** Times the connection was moved back to WebSocket after a probe opened. */
  readonly moves: number;
}

/** @internal The probe and the move of one client. */
export interface TransportUpgrade {
  /** The client's socket was made: follow its upgrades; start on long-polling when the memo says so. */
  attach(s: SocketLike): void;
  /** The socket connected: on long-polling, probe. */
  connected(): void;
  /** No call is in flight any more: a move that waits for that may happen now. */
  quiet: () => void;
  /** The connection closed, or the client stopped: no probe, no move (the backoff is kept). */
  stop(): void;
  /** The client is disposed: nothing left, listeners included. */
  dispose(): void;
  /** See {@link TransportInfo}. */
  readonly info: TransportInfo;
}

const PROBE_TIMER = 'ws-probe';
const DEADLINE_TIMER = 'ws-probe-deadline';
const MOVE_TIMER = 'ws-move';
const WS = 'websocket';

/** Equal jitter: half the capped exponential delay for sure, half at random (never a hot loop). */
const equalJitter = (attempt: number, t: ProbeTiming, random: () => number) => {
  const cap = cappedExponential(attempt, t.baseMs, t.maxMs);
  return Math.round(cap / 2 + (cap / 2) * unitRandom(random));
};

/**
 * @internal `opts.probe` false turns probing off (the memo still learns). `socket` is the
 * client's socket once there is one; `isQuiet` tells whether no call is in flight; `move`
 * reopens the connection (the client's reconnect).
 */
export function createTransportUpgrade(
  opts: { probe: ProbeTiming | false; random: () => number; logger: Logger; memo: TransportMemo },
  timers: Timers,
  socket: () => SocketLike | undefined,
  isQuiet: () => boolean,
  move: () => void,
): TransportUpgrade {
  const { probe: timing, logger, memo } = opts;
  let attempt = 0;
  let cancel: (() => void) | undefined; // the probe in flight
  let due = false; // a probe opened: move once quiet
  let probes = 0;
  let moves = 0;
  let offUpgrade = noop;

  const transport = () => socket()?.transport;
  // Connected, on another transport than WebSocket, which is allowed: worth probing.
  const onFallback = () => {
    const t = transport();
    const name = t?.name;
    return !!t && !!socket()?.connected && !!name && name !== WS && t.order.includes(WS);
  };

  const halt = () => {
    for (const name of [PROBE_TIMER, DEADLINE_TIMER, MOVE_TIMER]) timers.clear(name);
    cancel?.();
    cancel = undefined;
    due = false;
  };

  // WebSocket works here: forget the block, start the next connections on it, stop probing.
  const onWebSocket = () => {
    attempt = 0;
    memo.record(false);
    transport()?.setFirst(WS);
    halt();
  };

  const schedule = () => {
    if (!timing || cancel || due || timers.has(PROBE_TIMER) || !onFallback()) return;
    const delay = equalJitter(attempt, timing, opts.random);
    logger.log('connect', 'websocket probe', { delay, attempt });
    timers.set(PROBE_TIMER, delay, startProbe);
  };

  const moveWhenQuiet = () => {
    if (!due || timers.has(MOVE_TIMER)) return;
    if (!onFallback()) return void (due = false);
    // Its own turn, never inside Socket.IO's packet handling (the last ack settles a call there).
    if (isQuiet())
      timers.set(MOVE_TIMER, 0, () => {
        if (!onFallback()) return void (due = false);
        if (!isQuiet()) return; // a call started meanwhile: quiet() comes back
        due = false;
        moves++;
        logger.log('connect', 'moving back to websocket', { moves });
        move();
      });
  };

  const startProbe = () => {
    const t = transport();
    if (!timing || cancel || !t || !onFallback()) return;
    probes++;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      cancel = undefined;
      timers.clear(DEADLINE_TIMER);
      logger.log('connect', ok ? 'websocket probe opened' : 'websocket probe failed', { attempt });
      memo.record(!ok);
      // The next connections (Socket.IO's own reconnects too) start where the network is.
      t.setFirst(ok ? WS : 'polling');
      if (ok) {
        // The backoff is reset only once the connection itself is on WebSocket: a probe that
        // opens while moves keep landing on long-polling must not become a loop of reconnects.
        due = true;
        moveWhenQuiet();
      } else {
        attempt++;
        schedule();
      }
    };
    const stopProbe = t.probe(settle);
    if (settled) return; // answered at once
    cancel = () => {
      settled = true;
      stopProbe();
    };
    timers.set(DEADLINE_TIMER, timing.timeoutMs, () => {
      stopProbe();
      settle(false);
    });
  };

  return {
    attach(s) {
      const t = s.transport;
      if (!t) return;
      if (memo.blocked() && t.order.includes(WS) && t.order.includes('polling')) {
        // Engine.IO still tries to upgrade a long-polling connection once it is open.
        t.setFirst('polling');
        logger.log('connect', 'websocket blocked here lately: starting on long-polling');
      }
      offUpgrade = t.onUpgrade((name) => {
        if (name === WS) onWebSocket();
      });
    },
    connected() {
      const t = transport();
      if (t?.name === WS) return onWebSocket();
      if (!t || !onFallback()) return;
      // WebSocket was tried first and failed: the network blocks it.
      if (t.order[0] === WS) {
        memo.record(true);
        t.setFirst('polling');
      }
      schedule();
    },
    quiet: moveWhenQuiet,
    stop: halt,
    dispose() {
      halt();
      offUpgrade();
      offUpgrade = noop;
    },
    info: {
      get name() {
        return socket()?.connected ? transport()?.name : undefined;
      },
      get probes() {
        return probes;
      },
      get moves() {
        return moves;
      },
    },
  };
}
