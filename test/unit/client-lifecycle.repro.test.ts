// Found by a review of the client; each test failed before its fix (kept as regression tests).
import { describe, expect, it } from 'vitest';
import { SyncwireError, createNamespacedClient } from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { clientHarness } from '../helpers/client-harness';

const setup = clientHarness;

const noop = () => {};
const SETTLE_PENDING = Symbol('still pending');
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof SyncwireError ? e.code : `untyped ${String(e)}`),
  );
const stateOf = async (p: Promise<unknown>) =>
  Promise.race([
    outcome(p),
    flush()
      .then(() => flush())
      .then(() => SETTLE_PENDING),
  ]);

describe('dispose() while a disconnect listener reacts', () => {
  it('a disconnect listener that reconnects during dispose() leaves no socket opening behind', async () => {
    const { factory, client, open } = setup();
    await Promise.all([client.connect(), open()]);
    const s = factory.last();
    // A common pattern: reconnect when the connection drops.
    client.onDisconnect(() => void client.connect().catch(() => {}));
    client.dispose();
    await flush();
    // dispose() promises: "Closes everything". The socket must not be (re)opening.
    expect(s.connectCalls).toBe(1);
    expect(s.active).toBe(false);
  });

  it('a request made from a disconnect listener during dispose() still settles', async () => {
    const { factory, client, clock, open } = setup();
    await Promise.all([client.connect(), open()]);
    let p: Promise<unknown> | undefined;
    client.onDisconnect(() => {
      p = client.request('goodbye', {}, { timeoutMs: 1000 });
      p.catch(noop);
    });
    client.dispose();
    await clock.advance(60_000);
    expect(p).toBeDefined();
    // request(): "Always settles". It used to stay pending (and the socket was re-opened).
    expect(await stateOf(p as Promise<unknown>)).toMatch(/^(DISPOSED|DISCONNECTED)$/);
    expect(factory.last().connectCalls).toBe(1);
  });
});

describe('emit({ confirm: false }) and its signal', () => {
  it('an emit aborted before it could be sent is not sent, and rejects with ABORTED', async () => {
    const { factory, client, open } = setup();
    const ac = new AbortController();
    ac.abort();
    const p = outcome(client.emit('note', { n: 1 }, { confirm: false, signal: ac.signal }));
    expect(await p).toBe('ABORTED');
    client.connect().catch(noop);
    await open();
    expect(factory.last().sent.filter((s) => s.event === 'note')).toHaveLength(0);
  });

  it('aborting a fire-and-forget emit that waits for the connection rejects it with ABORTED', async () => {
    const { factory, client, clock, open } = setup();
    const ac = new AbortController();
    const p = outcome(client.emit('note', { n: 1 }, { confirm: false, signal: ac.signal }));
    await clock.advance(10);
    ac.abort();
    await open();
    expect(factory.last().sent.filter((s) => s.event === 'note')).toHaveLength(0);
    expect(await p).toBe('ABORTED');
  });
});

describe('the logger option', () => {
  it('a logger object without isEnabled()/enable() is a VALIDATION_ERROR at creation, not a TypeError later', async () => {
    let client: ReturnType<typeof createNamespacedClient> | undefined;
    let created: unknown;
    const factory = fakeSocketFactory();
    try {
      client = createNamespacedClient('/test', {
        url: 'http://h',
        auth: { t: 1 },
        socketFactory: factory,
        clock: createFakeClock(),
        logger: { log() {} } as never,
      });
    } catch (e) {
      created = e;
    }
    if (created) return expect(created).toMatchObject({ code: 'VALIDATION_ERROR' });
    // Accepted: then nothing may fail untyped later.
    const c = client!;
    c.on('news', () => {});
    await factory.last().runAuth();
    factory.last().accept();
    expect(() => factory.last().serverEmit('news', envelope({ n: 1 }))).not.toThrow();
    expect(await outcome(c.request('echo', {}, { timeoutMs: 10 }))).not.toMatch(/^untyped/);
    c.dispose();
  });
});

describe('disconnect() and dispose() while a request waits for the connection', () => {
  it('disconnect(): a request still waiting for the connection rejects with DISCONNECTED (api.ts: "pending requests reject with DISCONNECTED")', async () => {
    const { client } = setup();
    const p = outcome(client.request('echo', {}));
    await flush();
    client.disconnect();
    expect(await p).toBe('DISCONNECTED');
  });
});
