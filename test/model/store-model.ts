// The store's model-based test: fast-check generates a run (timing, auth, cache, server
// behaviour) and a list of commands that interleave everything the world can do to a
// store (see store-world.ts), with generated delays. After every command and every timer,
// World.check() holds the invariants; at the end the world heals and the store must reach
// HEALTHY within a bound computed from the timing, stay there, and leave nothing behind.
import fc from 'fast-check';
import { settle } from './sim-clock';
import { watchUnhandled } from './unhandled';
import type { Timing } from '../../src/index';
import { command as shared, DEFAULT_TIMING, type AuthMode } from './shared';
import { pollTimeoutOf, World, type ApiCall, type WorldSetup } from './store-world';

type Cmd = fc.AsyncCommand<object, World>;
const command = (label: string, act: (w: World) => void | Promise<void>): Cmd =>
  shared<World>(label, act);

const DEFAULT_CLIENT = {
  authTimeoutMs: 5000,
  connectTimeoutMs: 20000,
  requestTimeoutMs: 30000,
  retry: { baseMs: 250, maxMs: 10000 },
};

const int = (min: number, max: number) => fc.integer({ min, max });

const timingArb: fc.Arbitrary<Timing> = fc.oneof(
  fc.constant(DEFAULT_TIMING),
  fc
    .record({
      handshakeTimeoutMs: int(20, 3000),
      pollIntervalMs: int(5, 1000),
      connectGraceMs: int(5, 3000),
      livenessMs: int(100, 40000),
      backoffBaseMs: int(5, 1000),
      backoffExtra: int(0, 5000),
      pollBackoffExtra: int(0, 5000),
      notifyIntervalMs: int(0, 50),
    })
    .map(({ backoffExtra, pollBackoffExtra, ...t }) => ({
      ...t,
      backoffMaxMs: t.backoffBaseMs + backoffExtra,
      pollBackoffMaxMs: t.pollIntervalMs + pollBackoffExtra,
    })),
);

const clientArb = fc.oneof(
  fc.constant(DEFAULT_CLIENT),
  fc.record({
    authTimeoutMs: int(10, 6000),
    connectTimeoutMs: int(10, 20000),
    requestTimeoutMs: int(10, 30000),
    retry: int(5, 1000).chain((baseMs) =>
      int(baseMs, baseMs + 10000).map((maxMs) => ({ baseMs, maxMs })),
    ),
  }),
);

export const setupArb: fc.Arbitrary<WorldSetup> = fc.record({
  seed: fc.integer(),
  timing: timingArb,
  client: clientArb,
  auth: fc.constantFrom<'user' | 'default'>('user', 'default'),
  tagged: fc.boolean(),
  requireToken: fc.boolean(),
  cache: fc.option(fc.record({ sameEpoch: fc.boolean() }), { nil: null }),
  loadTimeoutMs: int(10, 1500),
  managerDelayMs: int(0, 1000),
});

/** Delays relative to the run's timing, so every run meets each of its timers. */
const UNITS = [
  'ms',
  'poll',
  'hs',
  'grace',
  'backoff',
  'pollBackoff',
  'live',
  'pollTimeout',
  'auth',
  'retry',
  'load',
] as const;
function unitMs(w: World, unit: (typeof UNITS)[number]): number {
  const { timing: t, client: c, loadTimeoutMs } = w.setup;
  const table = {
    ms: 1,
    poll: t.pollIntervalMs,
    hs: t.handshakeTimeoutMs,
    grace: t.connectGraceMs,
    backoff: t.backoffMaxMs,
    pollBackoff: t.pollBackoffMaxMs,
    live: t.livenessMs,
    pollTimeout: pollTimeoutOf(t),
    auth: c.authTimeoutMs,
    retry: c.retry.maxMs,
    load: loadTimeoutMs,
  };
  return table[unit];
}

const advance = fc
  .tuple(
    fc.constantFrom(...UNITS),
    fc.oneof(fc.constantFrom(0.5, 0.99, 1, 1.01, 2), fc.double({ min: 0, max: 1.5, noNaN: true })),
  )
  .map(([unit, factor]) =>
    command(`advance(${factor.toFixed(2)} × ${unit})`, (w) => {
      w.deliver(); // what is on the wire arrives before time moves on
      return w.clock.advance(Math.round(unitMs(w, unit) * (unit === 'ms' ? factor * 20 : factor)));
    }),
  );

const API: ApiCall[] = ['start', 'stop', 'resync', 'connect', 'reconnect', 'disconnect'];
const AUTH: AuthMode[] = ['ok', 'stale', 'none', 'throw', 'reject', 'hang'];
const HANDSHAKE = [
  'ok',
  'ok',
  'ok',
  'ok',
  'ok',
  'ok',
  'INVALID_REQUEST',
  'CSRF_INVALID',
  'NO_HANDLERS',
  'HANDLER_ERROR',
  'TIMEOUT',
  'malformed',
  'never',
];

const handshakeCmd = fc
  .tuple(fc.constantFrom(...HANDSHAKE), fc.boolean(), fc.boolean())
  .map(([outcome, later, first]) =>
    command(
      `handshake(${outcome}${later ? ', ack later' : ''}${first ? ', first push' : ''})`,
      (w) => w.handshake(outcome, later, first),
    ),
  );

/** Every command the world knows, with weights: time and the channel often, a disposed client rarely. */
export const storeCommands: fc.Arbitrary<Cmd>[] = [
  fc.oneof(
    { weight: 12, arbitrary: advance },
    { weight: 8, arbitrary: fc.constant(command('serverConnect', (w) => w.serverConnect())) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          'transport close',
          'ping timeout',
          'transport error',
          'parse error',
          'io server disconnect',
        )
        .map((reason) => command(`drop(${reason})`, (w) => w.serverDrop(reason))),
    },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<'rejected' | 'transport'>('rejected', 'transport')
        .map((kind) => command(`connectError(${kind})`, (w) => w.serverReject(kind))),
    },
    { weight: 2, arbitrary: fc.constant(command('managerGivesUp', (w) => w.giveUp())) },
    { weight: 9, arbitrary: handshakeCmd },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom<(typeof UNITS)[number]>('hs', 'backoff', 'live', 'retry'),
          fc.double({ min: 0.2, max: 2, noNaN: true }),
        )
        .map(([unit, factor]) =>
          command(`calm(${factor.toFixed(2)} × ${unit})`, async (w) => {
            // A stretch where the world answers everything by itself, then faults resume.
            w.autopilot = true;
            w.pushEvery(Math.max(1, Math.floor(w.setup.timing.livenessMs / 3)));
            w.drive();
            await w.clock.advance(Math.round(unitMs(w, unit) * factor));
            w.autopilot = false;
          }),
        ),
    },
    {
      weight: 6,
      arbitrary: fc.constant(
        command('serverServes', async (w) => {
          // A well-behaved server: accepts the connection, answers the handshake, pushes.
          w.serverConnect();
          await w.clock.advance(0);
          w.handshake('ok', false, true);
          w.deliver();
        }),
      ),
    },
    { weight: 2, arbitrary: fc.constant(command('releaseAcks', (w) => w.releaseAcks())) },
    {
      weight: 9,
      arbitrary: fc
        .constantFrom(
          'next',
          'next',
          'next',
          'next',
          'gap',
          'stale',
          'duplicate',
          'epoch',
          'garbage',
        )
        .map((kind) => command(`push(${kind})`, (w) => w.push(kind))),
    },
    { weight: 3, arbitrary: int(1, 3).map((n) => command(`deliver(${n})`, (w) => w.deliver(n))) },
    { weight: 3, arbitrary: fc.constant(command('deliverAll', (w) => w.deliver())) },
    { weight: 3, arbitrary: fc.constant(command('change', (w) => void w.v++)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          int(0, 3),
          fc.constantFrom(
            'ok',
            'ok',
            'ok',
            '400',
            '403',
            '404',
            '500',
            '503',
            'nonjson',
            'array',
            'neterr',
          ),
        )
        .map(([i, how]) =>
          command(`answerPoll(#${i}, ${how})`, (w) => {
            const f = w.pendingFetches('poll')[i];
            if (f) w.answerFetch(f, how);
          }),
        ),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(int(0, 2), fc.constantFrom('ok', 'ok', '500', 'neterr')).map(([i, how]) =>
        command(`answerToken(#${i}, ${how})`, (w) => {
          const f = w.pendingFetches('token')[i];
          if (f) w.answerFetch(f, how);
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...AUTH)
        .map((mode) => command(`auth(${mode})`, (w) => void (w.authMode = mode))),
    },
    { weight: 1, arbitrary: fc.constant(command('serverRestart', (w) => w.restart())) },
    {
      weight: 3,
      arbitrary: fc
        .record({ hidden: fc.boolean(), online: fc.boolean() })
        .map((e) =>
          command(
            `env(${e.hidden ? 'hidden' : 'visible'}, ${e.online ? 'online' : 'offline'})`,
            (w) => w.env.set(e),
          ),
        ),
    },
    { weight: 1, arbitrary: fc.constant(command('pagehide', (w) => w.env.leave())) },
    {
      weight: 2,
      arbitrary: fc.constant(
        command('cacheReady', (w) => w.cacheReads.splice(0).forEach((read) => read())),
      ),
    },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(...API, 'stopStart' as const)
        .map((api) => command(`${api}()`, (w) => w.call(api))),
    },
    { weight: 1, arbitrary: fc.constant(command('client.dispose()', (w) => w.call('dispose'))) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom<'mode' | 'state'>('mode', 'state'),
          fc.constantFrom<ApiCall | 'stopStart'>(
            'start',
            'stop',
            'stop',
            'resync',
            'stopStart',
            'resync',
            'start',
            'stop',
            'dispose',
          ),
        )
        .map(([on, action]) =>
          command(`onNext(${on}) → ${action}()`, (w) => void w.armed.push({ on, action })),
        ),
    },
  ),
];

/**
 * How long a store may take to become HEALTHY once the channel is healthy (connected or
 * reconnectable, the page visible and online, auth answering, acks and pushes flowing at
 * any latency below handshakeTimeoutMs). The terms: a cache read still pending; the grace
 * before polling; getting a connection back (the Manager's delay, the client's own retry
 * after a rejection plus an auth call, or, after the Manager gave up, a successful poll
 * that makes the store connect again); a handshake already lost in flight; the retry
 * backoff; and the healthy handshake itself.
 */
export function healthyBound(s: WorldSetup): number {
  const t = s.timing;
  const reconnect = Math.max(
    s.managerDelayMs,
    s.client.retry.maxMs + s.client.authTimeoutMs,
    pollTimeoutOf(t) + t.pollBackoffMaxMs + s.client.authTimeoutMs,
  );
  return (
    s.loadTimeoutMs + t.connectGraceMs + reconnect + 3 * t.handshakeTimeoutMs + t.backoffMaxMs + 100
  );
}

/** The heal phase and the final quiet check. */
export async function healAndFinish(w: World): Promise<void> {
  const fail = (what: string) => {
    w.violate(what);
    throw new Error(`${what}\n  ${w.violations.join('\n  ')}`);
  };
  w.armed.length = 0; // the user stops interfering
  const started = w.lastApi === 'start' && !w.disposed;
  w.env.set({ hidden: false, online: true });
  w.authMode = 'ok';
  // What the old world still had on its way arrives first; a deterministic error it carried
  // (FAILED) waits for the user, who resyncs.
  w.releaseAcks();
  w.deliver();
  await w.clock.advance(0);
  if (started && w.store.mode === 'FAILED') w.call('resync');
  w.autopilot = true;
  w.pushEvery(Math.max(1, Math.floor(w.setup.timing.livenessMs / 3)));
  w.drive();
  const bound = healthyBound(w.setup);
  await w.clock.advance(bound);
  if (w.violations.length) fail('during the heal phase');
  if (started) {
    const h = w.store.health;
    if (w.store.mode !== 'HEALTHY')
      fail(
        `not HEALTHY ${bound} ms after the channel became healthy: ${h.mode} (connected ${h.connected}, lastError ${h.lastError?.code ?? 'none'})`,
      );
    w.mustStayHealthy = true;
    await w.clock.advance(3 * w.setup.timing.livenessMs);
    w.mustStayHealthy = false;
    if (w.violations.length) fail('while the channel stayed healthy');
    const v = (w.store.state as { v?: number }).v;
    if (v !== w.v) fail(`HEALTHY but showing v${v} while the server is at v${w.v}`);
  }
  w.autopilot = false;
  w.call('stop');
  w.call('dispose');
  await w.clock.advance(0);
  if (w.clock.pending() !== 0)
    fail(
      `${w.clock.pending()} timers left after stop() and dispose() (client ${w.clock.pending('client')}, store ${w.clock.pending('store')})`,
    );
  const listeners = w.factory.sockets.reduce((n, s) => n + s.listenerCount(), 0);
  if (listeners !== 0) fail(`${listeners} socket listeners left after dispose()`);
  if (w.factory.sockets.some((s) => s.active)) fail('a socket is still active after dispose()');
  if (w.env.listeners !== 0) fail(`${w.env.listeners} environment listeners left after stop()`);
  if (w.pendingFetches().length)
    fail(
      `${w.pendingFetches().length} fetches neither answered nor aborted after stop() and dispose()`,
    );
  if (w.violations.length) fail('at the end');
}

/** One generated run: start, the commands, heal, finish. */
export const storeModel = fc.asyncProperty(
  setupArb,
  fc.commands(storeCommands, { maxCommands: 60, size: '+1' }),
  async (setup, cmds) => {
    const unhandled = watchUnhandled();
    try {
      const w = new World(setup);
      w.call('start');
      await w.clock.advance(0);
      await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
      await healAndFinish(w);
      await settle();
      unhandled.check();
    } finally {
      unhandled.stop();
    }
  },
);
