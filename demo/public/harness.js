// The developer harness: the seed guide's automatic suite, each test also
// runnable by hand. It drives the real clients and the server's fault API.
import { validateServerEnvelope } from 'syncwire';

const until = (predicate, timeoutMs, what) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 25);
    };
    check();
  });
const assert = (cond, message) => {
  if (!cond) throw new Error(message);
};
const codeOf = (p) =>
  p.then(
    () => 'resolved',
    (e) => e.code,
  );

export function createHarness({ store, test, demo }) {
  const healthy = (ms = 8000) => until(() => store.mode === 'HEALTHY', ms, 'HEALTHY');

  const suite = [
    [
      'emit',
      'emit → echo_reply with the same correlationId',
      async () => {
        let got;
        const off = test.on('echo_reply', (env) => (got = env));
        try {
          await test.emit('echo_emit', { ping: 1 }, { correlationId: 'harness-emit-1' });
          await until(() => got, 3000, 'echo_reply');
          assert(got.correlationId === 'harness-emit-1', 'correlationId not carried');
        } finally {
          off();
        }
      },
    ],
    [
      'request',
      'request → aggregated ack',
      async () => {
        const res = await test.request('echo', { ping: 2 }, { timeoutMs: 3000 });
        assert(res.results[0]?.ok && res.results[0].data.echo.ping === 2, 'unexpected ack');
      },
    ],
    [
      'delayed',
      'delayed request within its timeout',
      async () => {
        const res = await test.request('delayed', { delayMs: 300 }, { timeoutMs: 3000 });
        assert(res.results[0]?.data.delayedMs === 300, 'unexpected ack');
      },
    ],
    [
      'timeout',
      'request timeout settles with TIMEOUT',
      async () => {
        const code = await codeOf(test.request('delayed', { delayMs: 1500 }, { timeoutMs: 200 }));
        assert(code === 'TIMEOUT', `got ${code}`);
      },
    ],
    [
      'persistence',
      'subscription survives a reconnect',
      async () => {
        let got = 0;
        const off = test.on('fanout_event', () => got++);
        try {
          await test.connect();
          test.disconnect();
          await test.request('fanout', { from: 'harness' }, { timeoutMs: 5000 }); // reconnects lazily
          await until(() => got > 0, 3000, 'fanout_event after the reconnect');
        } finally {
          off();
        }
      },
    ],
    [
      'envelope',
      'envelope validation names the bad field',
      async () => {
        const good = validateServerEnvelope({
          handlerId: 'h',
          eventId: 'e',
          correlationId: 'c',
          ts: new Date().toISOString(),
          data: null,
        });
        assert(
          Object.isFrozen(good) && Object.keys(good.data).length === 0,
          'good envelope not normalised',
        );
        for (const [field, bad] of [
          ['handlerId', { handlerId: 1 }],
          ['ts', { ts: 'yesterday' }],
          ['data', { data: [1] }],
        ]) {
          let err;
          try {
            validateServerEnvelope({ ...good, data: {}, ...bad });
          } catch (e) {
            err = e;
          }
          assert(
            err?.code === 'INVALID_ENVELOPE' && err.message.includes(`'${field}'`),
            `no INVALID_ENVELOPE naming ${field}`,
          );
        }
      },
    ],
    [
      'no-poll',
      'no polling while HEALTHY',
      async () => {
        await healthy();
        const polls = store.health.counters.polls;
        await new Promise((r) => setTimeout(r, 1200));
        assert(store.health.counters.polls === polls, 'polled while healthy');
      },
    ],
    [
      'degraded',
      'DEGRADED: polls, ignores pushes, recovers',
      async () => {
        await healthy();
        await demo().fault('stallHandshakes', true);
        try {
          store.resync('harness: degraded');
          await until(() => store.mode === 'DEGRADED', 6000, 'DEGRADED');
          const polls = store.health.counters.polls;
          const applied = store.health.counters.pushesApplied;
          await demo().world('notify', { message: 'while degraded' });
          await until(() => store.health.counters.polls > polls, 3000, 'polls');
          assert(store.health.counters.pushesApplied === applied, 'applied a push while degraded');
        } finally {
          await demo().fault('stallHandshakes', false);
        }
        await healthy(10000);
      },
    ],
    [
      'epoch',
      'resync on a runtime epoch change',
      async () => {
        await healthy();
        const { resyncs } = store.health.counters;
        const epoch = store.health.epoch;
        await demo().fault('bumpEpoch');
        await demo().world('notify', { message: 'new epoch' });
        await until(
          () =>
            store.health.counters.resyncs > resyncs &&
            store.mode === 'HEALTHY' &&
            store.health.epoch !== epoch,
          8000,
          'resync on epoch',
        );
      },
    ],
    [
      'gap',
      'resync on a seq gap',
      async () => {
        await healthy();
        const { resyncs } = store.health.counters;
        await demo().fault('injectGap');
        await demo().world('notify', { message: 'after a gap' });
        await until(
          () => store.health.counters.resyncs > resyncs && store.mode === 'HEALTHY',
          8000,
          'resync on gap',
        );
      },
    ],
  ];

  return {
    running: false,
    tests: suite.map(([id, name]) => ({ id, name, status: 'idle', detail: '' })),
    summary() {
      const done = this.tests.filter((t) => t.status === 'pass' || t.status === 'fail');
      if (!done.length) return 'not run yet';
      return `${this.tests.filter((t) => t.status === 'pass').length} passed, ${this.tests.filter((t) => t.status === 'fail').length} failed`;
    },
    async run(id) {
      const entry = this.tests.find((t) => t.id === id);
      const fn = suite.find(([sid]) => sid === id)?.[2];
      if (!entry || !fn) return;
      entry.status = 'running';
      entry.detail = '';
      const started = performance.now();
      try {
        await fn();
        entry.status = 'pass';
        entry.detail = `${Math.round(performance.now() - started)} ms`;
      } catch (e) {
        entry.status = 'fail';
        entry.detail = String(e?.message ?? e);
      }
    },
    async runAll() {
      if (this.running) return;
      this.running = true;
      try {
        for (const t of this.tests) await this.run(t.id);
      } finally {
        this.running = false;
      }
    },
  };
}
