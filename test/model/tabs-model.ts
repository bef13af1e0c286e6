// The shared store's model-based test (syncwire/tabs): fast-check generates a run (election,
// timing, cache, latencies) and commands that open, stop, close and crash tabs, move the
// server on, restart it, pause it, drop connections, make calls from any tab (a leader lost
// in the middle of one among them), and deliver, drop, duplicate or reorder the messages
// between tabs (see tabs-world.ts). After every command and every timer TabsWorld.check()
// holds the safety invariants; at the end faults stop and, within a bound computed from the
// timing, there must be one HEALTHY leader, the only connected tab, and every open tab must
// show the server's current state; then closing every tab must leave nothing behind.
import fc from 'fast-check';
import type { Timing } from '../../src/index';
import { BROADCAST_ELECTION_DEFAULTS } from '../../src/tabs/election-bc';
import { command as shared, DEFAULT_TIMING } from './shared';
import { seededRandom, settle } from './sim-clock';
import { leftovers, TabsWorld, type Tab, type TabsSetup } from './tabs-world';
import { watchUnhandled } from './unhandled';

type Cmd = fc.AsyncCommand<object, TabsWorld>;
const command = (label: string, act: (w: TabsWorld) => void | Promise<void>): Cmd =>
  shared<TabsWorld>(label, act);

const int = (min: number, max: number) => fc.integer({ min, max });

/** Most tabs running (open or stopped) at once. */
const MAX_TABS = 5;

const timingArb: fc.Arbitrary<Timing> = fc.oneof(
  fc.constant(DEFAULT_TIMING),
  fc
    .record({
      handshakeTimeoutMs: int(50, 2000),
      pollIntervalMs: int(20, 500),
      connectGraceMs: int(20, 2000),
      livenessMs: int(2000, 30000),
      backoffBaseMs: int(10, 500),
      backoffExtra: int(0, 3000),
      pollBackoffExtra: int(0, 3000),
      notifyIntervalMs: fc.oneof(fc.constantFrom(0, 16), int(0, 50)),
    })
    .map(({ backoffExtra, pollBackoffExtra, ...t }) => ({
      ...t,
      backoffMaxMs: t.backoffBaseMs + backoffExtra,
      pollBackoffMaxMs: t.pollIntervalMs + pollBackoffExtra,
    })),
);

export const tabsSetupArb: fc.Arbitrary<TabsSetup> = fc
  .record({
    seed: fc.integer(),
    election: fc.constantFrom<TabsSetup['election']>('locks', 'broadcast'),
    timing: timingArb,
    cache: fc.boolean(),
    initialTabs: int(1, 3),
    retry: fc.oneof(
      fc.constant({ baseMs: 250, maxMs: 2000 }),
      int(5, 300).chain((baseMs) => int(baseMs, baseMs + 2000).map((maxMs) => ({ baseMs, maxMs }))),
    ),
    managerDelayMs: int(0, 500),
    serverLatencyMs: int(0, 800),
    busLatencyMs: fc.oneof(fc.constant(0), int(0, 40)),
  })
  // Below the handshake deadline, as a healthy server answers.
  .map((s) => ({
    ...s,
    serverLatencyMs: Math.min(s.serverLatencyMs, Math.floor(s.timing.handshakeTimeoutMs * 0.4)),
  }));

/** Delays relative to the run's timing, so every run meets each of its timers. */
const UNITS = ['ms', 'beat', 'watch', 'hs', 'grace', 'backoff', 'notify', 'latency'] as const;
function unitMs(w: TabsWorld, unit: (typeof UNITS)[number]): number {
  const t = w.setup.timing;
  const bc = BROADCAST_ELECTION_DEFAULTS;
  const table = {
    ms: 20,
    beat: bc.heartbeatMs,
    watch: bc.timeoutMs + bc.claimMs,
    hs: t.handshakeTimeoutMs,
    grace: t.connectGraceMs,
    backoff: t.backoffMaxMs,
    notify: Math.max(1, t.notifyIntervalMs),
    latency: Math.max(1, w.setup.serverLatencyMs),
  };
  return table[unit];
}

const advance = fc
  .tuple(
    fc.constantFrom(...UNITS),
    fc.oneof(fc.constantFrom(0.5, 0.99, 1, 1.01, 2), fc.double({ min: 0, max: 1.5, noNaN: true })),
  )
  .map(([unit, factor]) =>
    command(`advance(${factor.toFixed(2)} × ${unit})`, (w) =>
      w.clock.advance(Math.round(unitMs(w, unit) * factor)),
    ),
  );

/** A tab by index among those in `which` state; the label names the index. */
const onTab = (
  label: string,
  which: (w: TabsWorld) => Tab[],
  act: (w: TabsWorld, t: Tab) => void | Promise<void>,
) =>
  int(0, 9).map((i) =>
    command(`${label}(#${i})`, (w) => {
      const t = w.pick(which(w), i);
      if (t) return act(w, t);
    }),
  );

const timeoutArb = fc.oneof(fc.constantFrom(100, 1000, 5000), int(1, 6000));

/**
 * A follower calls, its call reaches the leader (or is still on the channel, or reached the
 * server too), and the leader goes: crashed, or closed cleanly.
 */
const leaderLoss = fc
  .tuple(
    int(0, 9),
    timeoutArb,
    fc.constantFrom('channel', 'leader', 'server'),
    fc.constantFrom('crash', 'close'),
  )
  .map(([i, timeoutMs, reached, how]) =>
    command(`leaderLoss(#${i}, ${timeoutMs} ms, at ${reached}, ${how})`, async (w) => {
      const followers = w.open().filter((t) => t.store.role === 'follower');
      const f = w.pick(followers, i);
      const leader = w.leaders()[0];
      if (!f || !leader) return;
      w.call(f, 'request', timeoutMs);
      if (reached !== 'channel') {
        w.deliverAll();
        await settle();
        if (reached === 'server') w.drive(); // the server takes the call; its answer is on its way
      }
      if (how === 'crash') w.crashTab(leader);
      else w.closeTab(leader);
    }),
  );

export const tabsCommands: fc.Arbitrary<Cmd>[] = [
  fc.oneof(
    { weight: 10, arbitrary: advance },
    {
      weight: 3,
      arbitrary: fc.constant(
        command('openTab', (w) => {
          if (w.alive().length < MAX_TABS) w.openTab();
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: onTab(
        'closeTab',
        (w) => w.alive(),
        (w, t) => w.closeTab(t),
      ),
    },
    {
      weight: 1,
      arbitrary: onTab(
        'closeLeader',
        (w) => w.leaders(),
        (w, t) => w.closeTab(t),
      ),
    },
    {
      weight: 1,
      arbitrary: onTab(
        'stopTab',
        (w) => w.open(),
        (w, t) => w.stopTab(t),
      ),
    },
    {
      weight: 1,
      arbitrary: onTab(
        'startTab',
        (w) => w.alive().filter((t) => t.status === 'stopped'),
        (w, t) => w.startTab(t),
      ),
    },
    {
      weight: 1,
      arbitrary: onTab(
        'crashTab',
        (w) => w.alive(),
        (w, t) => w.crashTab(t),
      ),
    },
    {
      weight: 2,
      arbitrary: onTab(
        'crashLeader',
        (w) => w.leaders(),
        (w, t) => w.crashTab(t),
      ),
    },
    { weight: 6, arbitrary: fc.constant(command('change', (w) => w.change())) },
    { weight: 1, arbitrary: fc.constant(command('serverRestart', (w) => w.restart())) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('transport close', 'ping timeout', 'io server disconnect')
        .map((r) => command(`drop(${r})`, (w) => w.dropLeader(r))),
    },
    {
      weight: 1,
      arbitrary: fc.boolean().map((up) =>
        command(`server(${up ? 'up' : 'down'})`, (w) => {
          w.up = up;
        }),
      ),
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          int(0, 9),
          fc.constantFrom<'request' | 'emit'>('request', 'request', 'emit'),
          timeoutArb,
        )
        .map(([i, kind, timeoutMs]) =>
          command(`${kind}(#${i}, ${timeoutMs} ms)`, (w) => {
            const t = w.pick(w.alive(), i);
            if (t) w.call(t, kind, timeoutMs);
          }),
        ),
    },
    { weight: 2, arbitrary: leaderLoss },
    {
      weight: 1,
      arbitrary: onTab(
        'resync',
        (w) => w.open(),
        (_w, t) => t.store.resync('model'),
      ),
    },
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.constantFrom('deliver', 'deliver', 'drop', 'duplicate'), int(0, 20))
        .map(([action, i]) =>
          command(`bus.${action}(#${i})`, (w) => {
            const n = w.bus.inFlight.length;
            if (!n) return;
            if (action === 'deliver') w.bus.deliver(i % n);
            else if (action === 'drop') {
              w.bus.drop(i % n);
              w.lossy = true;
            } else w.bus.duplicate(i % n);
          }),
        ),
    },
    { weight: 2, arbitrary: fc.constant(command('bus.deliverAll', (w) => w.deliverAll())) },
    {
      weight: 2,
      arbitrary: fc.boolean().map((on) =>
        command(`bus.auto(${on})`, (w) => {
          w.autoBus = on;
        }),
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom<(typeof UNITS)[number]>('watch', 'hs', 'backoff'),
          fc.double({ min: 0.2, max: 3, noNaN: true }),
        )
        .map(([unit, factor]) =>
          command(`calm(${factor.toFixed(2)} × ${unit})`, async (w) => {
            // A stretch where the server and the channel work, then faults resume.
            const { up, autoBus } = w;
            w.up = true;
            w.autoBus = true;
            w.drive();
            await w.clock.advance(Math.round(unitMs(w, unit) * factor));
            w.up = up;
            w.autoBus = autoBus;
          }),
        ),
    },
  ),
];

/**
 * How long after faults stop until one HEALTHY leader is the only connected tab and every
 * open tab shows the server's state. The terms: the election (Web Locks hand over at once;
 * over the channel a leader that crashed is noticed within the watch timeout, a bid takes
 * claimMs, and bids that meet may take another round or two), then the store's own bound as
 * in store-model.ts (a cache read, the grace before polling, a connection back, a handshake
 * lost in flight and its retry backoff, the healthy handshake), then the state reaching the
 * followers (the notification interval, the channel's latency).
 */
export function liveBound(s: TabsSetup): number {
  const t = s.timing;
  const bc = BROADCAST_ELECTION_DEFAULTS;
  const election =
    s.election === 'broadcast' ? 3 * (bc.timeoutMs + bc.claimMs) + bc.heartbeatMs : 0;
  const load = s.cache ? 1000 : 0; // persistence's loadTimeoutMs
  const store =
    load +
    t.connectGraceMs +
    Math.max(s.managerDelayMs, s.retry.maxMs) +
    3 * t.handshakeTimeoutMs +
    t.backoffMaxMs +
    100;
  return election + store + propagation(s);
}

/** A change the leader applied reaches every follower within this. */
const propagation = (s: TabsSetup) =>
  2 * (s.timing.notifyIntervalMs + s.busLatencyMs) + s.serverLatencyMs + 10;

/**
 * What is not converged yet: empty once one HEALTHY leader, the only connected tab, shows the
 * server's state, and so does every open tab (`followers`; a follower that lost a snapshot
 * gets the next one: the leader posts on each change, not again while nothing changes).
 */
function unconverged(w: TabsWorld, followers = true): string[] {
  const out: string[] = [];
  const leaders = w.leaders();
  // Converged only once the channel delivered what was on its way (a late heartbeat may yet
  // make a leader step down).
  if (w.bus.inFlight.length) out.push(`${w.bus.inFlight.length} messages in flight`);
  if (leaders.length !== 1)
    out.push(`${leaders.length} leaders (${leaders.map((t) => t.name).join(', ')})`);
  const connected = w.connected();
  if (connected.length !== 1 || connected[0] !== leaders[0])
    out.push(`connected: ${connected.map((t) => t.name).join(', ') || 'none'}`);
  const want = w.key(w.snap());
  for (const t of followers ? w.open() : leaders) {
    const got = w.key(t.store.state);
    // A follower that keeps its own state (a new leader's was applied no later) still takes the
    // leader's mode: every tab's mode is the leader's.
    const modeOk = t.store.mode === 'HEALTHY';
    if (!modeOk || got !== want)
      out.push(`${t.name} (${t.store.role}) ${t.store.mode} showing ${got}, server at ${want}`);
  }
  return out;
}

/** The heal: faults stop; the tabs must converge within liveBound, stay so, and answer calls. */
export async function healAndFinish(w: TabsWorld): Promise<void> {
  const fail = (what: string) => {
    w.violate(what);
    throw new Error(`${what}\n  ${w.violations.join('\n  ')}`);
  };
  w.up = true;
  w.autoBus = true;
  if (!w.open().length) w.openTab();
  w.drive();
  const bound = liveBound(w.setup);
  const from = w.clock.now();
  const followers = !w.lossy;
  while (unconverged(w, followers).length && w.clock.now() - from < bound && !w.violations.length)
    await w.clock.advance(10);
  if (w.violations.length) fail('during the heal phase');
  const left = unconverged(w, followers);
  if (left.length) fail(`not converged ${bound} ms after faults stopped: ${left.join('; ')}`);
  // It stays so, and a change reaches every tab. (The world answers in its own timers:
  // time moves in steps so that those set at the end of one step run in the next.)
  const prop = propagation(w.setup);
  const run = async (ms: number, until: () => boolean = () => false) => {
    const end = w.clock.now() + ms;
    while (!until() && w.clock.now() < end)
      await w.clock.advance(Math.min(10, end - w.clock.now()));
  };
  // A change may meet a handshake in flight (the liveness audit of a quiet push channel):
  // the handshake's answer brings it.
  const reach = prop + w.setup.timing.handshakeTimeoutMs;
  for (let i = 0; i < 3; i++) {
    w.change();
    await run(reach, () => unconverged(w).length === 0);
    const again = unconverged(w);
    if (again.length)
      fail(`a change did not reach every tab within ${reach} ms: ${again.join('; ')}`);
  }
  // Every open tab's call is carried out by the leader and answered; and a call made before
  // that is still pending ends now too, long before its deadline: answered, or DISCONNECTED
  // if it went to a leader that is gone (a stopped tab's calls wait for their deadline).
  // (Unless a message was lost: a call whose request was lost waits for its deadline.)
  const earlier = w.lossy ? [] : w.calls.filter((c) => c.settled === 0 && c.tab.status === 'open');
  const calls = w.open().map((t) => w.call(t, 'request', 5000)!);
  const callBound = 2 * prop + 2 * w.setup.serverLatencyMs + 20;
  const all = [...earlier, ...calls];
  await run(callBound, () => all.every((c) => c.settled));
  for (const c of calls)
    if (c.outcome?.ok !== true)
      fail(
        `${c.tab.name} (${c.tab.store.role}): call #${c.tag} on a healthy channel ${c.outcome ? `ended ${c.outcome.ok ? '' : c.outcome.code}` : `still pending after ${callBound} ms`}`,
      );
  for (const c of earlier)
    if (!c.settled)
      fail(
        `${c.tab.name} (${c.tab.store.role}): call #${c.tag}, made ${w.clock.now() - c.at} ms ago, still pending ${callBound} ms after the tabs converged (its deadline is ${c.deadline - w.clock.now()} ms away)`,
      );
  if (w.violations.length) fail('while converged');
  // Quiet: every tab closed leaves no timer, channel, listener, socket or lock behind.
  for (const t of w.tabs) w.closeTab(t);
  await w.clock.advance(0);
  const rest = leftovers(w);
  if (rest.length) fail(`after every tab closed: ${rest.join('; ')}`);
  const hanging = w.calls.filter((c) => c.tab.status !== 'crashed' && c.settled === 0);
  if (hanging.length) fail(`calls never settled: ${hanging.map((c) => `#${c.tag}`).join(', ')}`);
  if (w.violations.length) fail('at the end');
}

/** One generated run: the first tabs, the commands, heal, finish. */
export const tabsModel = fc.asyncProperty(
  tabsSetupArb,
  // MODEL_REPLAY_PATH: a counterexample's replayPath, with its seed and path (see scratch use in
  // the test file), replays its exact command list.
  fc.commands(tabsCommands, {
    maxCommands: 50,
    size: '+1',
    replayPath: process.env.MODEL_REPLAY_PATH,
  }),
  async (setup, cmds) => {
    const unhandled = watchUnhandled();
    // Tab ids order equal terms: from the run's seed, so a counterexample replays.
    const { crypto } = globalThis;
    const randomUUID = Object.getOwnPropertyDescriptor(crypto, 'randomUUID');
    const rand = seededRandom(setup.seed ^ 0x5eed);
    const hex = (n: number) =>
      Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
    crypto.randomUUID = () =>
      `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}` as ReturnType<Crypto['randomUUID']>;
    try {
      const w = new TabsWorld(setup);
      w.autoBus = true;
      for (let i = 0; i < setup.initialTabs; i++) w.openTab();
      await w.clock.advance(0);
      await fc.asyncModelRun(() => ({ model: {}, real: w }), cmds);
      await healAndFinish(w);
      await settle();
      unhandled.check();
    } finally {
      unhandled.stop();
      if (randomUUID) Object.defineProperty(crypto, 'randomUUID', randomUUID);
      else delete (crypto as Partial<Crypto>).randomUUID;
    }
  },
);
