// The client's model-based test: generated interleavings of its connection lifecycle
// (connect, drops, rejections, the Manager giving up, auth outcomes, dispose) with emits,
// requests, aborts, subscriptions and server requests. After every step ClientWorld.check()
// holds the invariants; at the end the server heals and a connect must succeed (unless the
// error was terminal or the client disposed), then dispose() must leave nothing behind.
import fc from 'fast-check';
import { settle } from './sim-clock';
import { watchUnhandled } from './unhandled';
import { command as shared, type AuthMode } from './shared';
import { ClientWorld, type ClientSetup } from './client-world';

type Cmd = fc.AsyncCommand<object, ClientWorld>;
const command = (label: string, act: (w: ClientWorld) => void | Promise<void>): Cmd =>
  shared<ClientWorld>(label, act);

const int = (min: number, max: number) => fc.integer({ min, max });

export const clientSetupArb: fc.Arbitrary<ClientSetup> = fc.record({
  seed: fc.integer(),
  auth: fc.constantFrom<'user' | 'default'>('user', 'default'),
  requireToken: fc.boolean(),
  authTimeoutMs: fc.oneof(fc.constant(5000), int(5, 3000)),
  connectTimeoutMs: fc.oneof(fc.constant(20000), int(5, 5000)),
  requestTimeoutMs: fc.oneof(fc.constant(30000), int(5, 5000)),
  retry: fc.oneof(
    fc.constant({ baseMs: 250, maxMs: 10000 }),
    int(5, 500).chain((baseMs) => int(baseMs, baseMs + 3000).map((maxMs) => ({ baseMs, maxMs }))),
  ),
  maxPending: fc.oneof(fc.constant(1000), int(1, 4)),
  transport: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
  probe: fc.oneof(
    fc.constant({ baseMs: 1000, maxMs: 15000, timeoutMs: 10000 }),
    fc.record({ baseMs: int(1, 400), maxMs: int(400, 3000), timeoutMs: int(1, 2000) }),
  ),
  memo: fc.constantFrom<'map' | 'throwing'>('map', 'map', 'throwing'),
  wsBlocked: fc.boolean(),
});

const timeout = fc.option(int(1, 6000), { nil: undefined });

export const clientCommands: fc.Arbitrary<Cmd>[] = [
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .oneof(int(0, 50), int(50, 12000))
        .map((ms) => command(`advance(${ms})`, (w) => w.clock.advance(ms))),
    },
    { weight: 8, arbitrary: fc.constant(command('serverConnect', (w) => w.serverConnect())) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom('transport close', 'ping timeout', 'io server disconnect')
        .map((r) => command(`drop(${r})`, (w) => w.drop(r))),
    },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<'rejected' | 'transport' | 'namespace'>(
          'rejected',
          'rejected',
          'transport',
          'transport',
          'namespace',
        )
        .map((k) => command(`connectError(${k})`, (w) => w.serverReject(k))),
    },
    { weight: 2, arbitrary: fc.constant(command('managerGivesUp', (w) => w.giveUp())) },
    { weight: 1, arbitrary: fc.constant(command('serverRestart', (w) => w.restart())) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          int(0, 5),
          fc.constantFrom<'ok' | 'error' | 'malformed' | 'twice'>(
            'ok',
            'ok',
            'ok',
            'error',
            'malformed',
            'twice',
          ),
        )
        .map(([i, how]) => command(`ack(#${i}, ${how})`, (w) => w.ack(i, how))),
    },
    {
      weight: 3,
      arbitrary: fc
        .boolean()
        .map((withAck) =>
          command(`serverEvent(${withAck ? 'request' : 'event'})`, (w) => w.serverEvent(withAck)),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom<ClientWorld['answerMode']>('value', 'throw', 'reject', 'cycle')
        .map((m) => command(`subscribersAnswer(${m})`, (w) => void (w.answerMode = m))),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(int(0, 2), fc.constantFrom<'ok' | '500' | 'neterr'>('ok', 'ok', '500', 'neterr'))
        .map(([i, how]) => command(`answerToken(#${i}, ${how})`, (w) => w.answerToken(i, how))),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom<AuthMode>('ok', 'stale', 'none', 'throw', 'reject', 'hang')
        .map((m) => command(`auth(${m})`, (w) => void (w.authMode = m))),
    },
    { weight: 4, arbitrary: fc.constant(command('connect()', (w) => w.connect())) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(timeout, fc.boolean())
        .map(([t, a]) =>
          command(`request(${t ?? 'default'}${a ? ', signal' : ''})`, (w) => w.request(t, a)),
        ),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.boolean(), timeout)
        .map(([c, t]) => command(`emit(confirm ${c}, ${t ?? 'default'})`, (w) => w.emit(c, t))),
    },
    { weight: 2, arbitrary: int(0, 5).map((i) => command(`abort(#${i})`, (w) => w.abort(i))) },
    { weight: 2, arbitrary: fc.constant(command('on()', (w) => w.subscribe())) },
    { weight: 1, arbitrary: fc.constant(command('off()', (w) => w.unsubscribe())) },
    { weight: 2, arbitrary: fc.constant(command('reconnect()', (w) => w.reconnect())) },
    { weight: 1, arbitrary: fc.constant(command('disconnect()', (w) => w.disconnect())) },
    { weight: 1, arbitrary: fc.constant(command('dispose()', (w) => w.dispose())) },
    {
      weight: 2,
      arbitrary: fc
        .boolean()
        .map((on) => command(`blockWebSockets(${on})`, (w) => w.blockWebSockets(on))),
    },
    {
      weight: 6,
      arbitrary: fc
        .boolean()
        .map((ok) => command(`probe${ok ? 'Opens' : 'Fails'}`, (w) => w.answerProbe(ok))),
    },
    { weight: 1, arbitrary: fc.constant(command('engineUpgrade', (w) => w.engineUpgrade())) },
    { weight: 3, arbitrary: fc.constant(command('untilProbe', (w) => w.untilProbe())) },
  ),
];

/**
 * The same world, weighted toward the transport: sockets that tell their transport, WebSockets
 * mostly blocked at first, the server answering connects, probes answered, calls in flight.
 */
export const transportSetupArb: fc.Arbitrary<ClientSetup> = clientSetupArb.chain((setup) =>
  fc
    .boolean()
    .map((blocked) => ({ ...setup, transport: true, wsBlocked: blocked || setup.wsBlocked })),
);
export const transportCommands: fc.Arbitrary<Cmd>[] = [
  fc.oneof(
    { weight: 12, arbitrary: clientCommands[0] as fc.Arbitrary<Cmd> },
    {
      weight: 5,
      arbitrary: fc.constant(
        command('serverAnswersConnect', (w) => {
          for (let i = 0; i < 3; i++) w.answerToken(0, 'ok');
          w.serverConnect();
        }),
      ),
    },
    { weight: 5, arbitrary: fc.constant(command('untilProbe', (w) => w.untilProbe())) },
    {
      weight: 6,
      arbitrary: fc
        .boolean()
        .map((ok) => command(`probe${ok ? 'Opens' : 'Fails'}`, (w) => w.answerProbe(ok))),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(timeout, fc.boolean())
        .map(([t, a]) =>
          command(`request(${t ?? 'default'}${a ? ', signal' : ''})`, (w) => w.request(t, a)),
        ),
    },
    {
      weight: 4,
      arbitrary: int(0, 5).map((i) => command(`ack(#${i}, ok)`, (w) => w.ack(i, 'ok'))),
    },
  ),
];

/** The heal: auth answers, the server accepts; a wanted connection must come, then dispose() leaves nothing. */
export async function clientHealAndFinish(w: ClientWorld): Promise<void> {
  const fail = (what: string) => {
    w.violate(what);
    throw new Error(`${what}\n  ${w.violations.join('\n  ')}`);
  };
  w.authMode = 'ok';
  w.healing = true;
  const { setup } = w;
  if (!w.disposed && !w.terminal) {
    // The application asks for a connection; the world lets it happen.
    let connected = false;
    let failed: unknown;
    w.client.connect().then(
      () => void (connected = true),
      (e: unknown) => void (failed = e),
    );
    const bound =
      Math.max(setup.retry.maxMs, 50) + 2 * setup.authTimeoutMs + setup.connectTimeoutMs;
    const end = w.clock.now() + bound;
    // Connected once is not enough: a move back to WebSocket may reopen the connection meanwhile.
    while (!(connected && w.client.isConnected()) && w.clock.now() < end) {
      for (let i = 0; i < 3; i++) w.answerToken(0, 'ok');
      w.serverConnect();
      await w.clock.advance(10);
      // connect() may have rejected (its own deadline) while retries went on: ask again.
      if (failed !== undefined && !w.client.isConnected()) {
        failed = undefined;
        w.client.connect().then(
          () => void (connected = true),
          (e: unknown) => void (failed = e),
        );
      }
    }
    if (!w.client.isConnected()) fail(`no connection ${bound} ms after the server became healthy`);
    // The healthy server answers every call still waiting, then a new request goes through.
    const ackAll = async () => {
      for (let i = 0; i < 2 * setup.maxPending + 20; i++) w.ack(0, 'ok');
      await w.clock.advance(0);
    };
    await ackAll();
    let answered: unknown;
    w.client.request('probe', {}, { timeoutMs: 1000 }).then(
      () => void (answered = true),
      (e: unknown) => void (answered = e),
    );
    await w.clock.advance(0);
    await ackAll();
    // A move back to WebSocket may have started once the calls were done: serve its reconnect.
    const answerBy = w.clock.now() + 1000;
    while (answered === undefined && w.clock.now() < answerBy) {
      for (let i = 0; i < 3; i++) w.answerToken(0, 'ok');
      w.serverConnect();
      await w.clock.advance(10);
      await ackAll();
    }
    if (answered !== true)
      fail(`a request on the healed connection was not answered: ${String(answered)}`);
    if (setup.transport) {
      // WebSockets allowed again, probes open: the connection is back on WebSocket within one
      // probe delay, its deadline and a reconnect (probes failed while blocked, so the backoff may be at maxMs).
      w.blockWebSockets(false);
      const { probe } = setup;
      const back = probe.maxMs + probe.timeoutMs + setup.connectTimeoutMs + 2 * setup.authTimeoutMs;
      const until = w.clock.now() + back;
      while (w.client.transport.name !== 'websocket' && w.clock.now() < until) {
        // The network answers each probe at once, before any deadline of the client's.
        const t = w.socket()?.transport;
        if (t) t.onProbe = () => w.clock.world(() => w.answerProbe(true), 0);
        w.answerProbe(true);
        for (let i = 0; i < 3; i++) w.answerToken(0, 'ok');
        w.serverConnect();
        await w.clock.advance(10);
      }
      if (w.client.transport.name !== 'websocket')
        fail(
          `not back on WebSocket ${back} ms after WebSockets were allowed again (${String(w.client.transport.name)})`,
        );
    }
  }
  w.finish();
  await w.clock.advance(0);
  if (w.violations.length) fail('before the end');
  const pending = w.calls.filter((c) => !c.settled);
  if (pending.length)
    fail(
      `${pending.length} calls never settled after dispose(): ${pending.map((c) => `${c.kind} #${c.id}`).join(', ')}`,
    );
  if (w.clock.pending() !== 0) fail(`${w.clock.pending()} timers left after dispose()`);
  const listeners = w.factory.sockets.reduce((n, s) => n + s.listenerCount(), 0);
  if (listeners) fail(`${listeners} socket listeners left after dispose()`);
  if (w.factory.sockets.some((s) => s.active)) fail('a socket is still active after dispose()');
  if (w.factory.sockets.some((s) => s.transport?.open().length))
    fail('a WebSocket probe is still open after dispose()');
  if (w.fetches.some((f) => !f.done)) fail('a token fetch is still pending after dispose()');
}

const modelOf = (setupArb: fc.Arbitrary<ClientSetup>, commands: fc.Arbitrary<Cmd>[]) =>
  fc.asyncProperty(setupArb, fc.commands(commands, { maxCommands: 60, size: '+1' }), run);

async function run(setup: ClientSetup, cmds: Iterable<Cmd>): Promise<void> {
  const unhandled = watchUnhandled();
  try {
    const w = new ClientWorld(setup);
    await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
    await clientHealAndFinish(w);
    await settle();
    unhandled.check();
  } finally {
    unhandled.stop();
  }
}

export const clientModel = modelOf(clientSetupArb, clientCommands);
/** The client model weighted toward the WebSocket probe and the move (see {@link transportCommands}). */
export const clientTransportModel = modelOf(transportSetupArb, transportCommands);
