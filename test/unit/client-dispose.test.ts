// The namespaced client's disconnect() and dispose() on a fake socket: pending work settles,
// nothing is left behind, and listeners that react to the disconnect cannot reopen anything.
import { describe, expect, it } from 'vitest';
import { flush } from '../helpers/fake-clock';
import { clientHarness, codeOf } from '../helpers/client-harness';

const setup = clientHarness;
const SETTLE_PENDING = Symbol('still pending');
/** How `p` settled, or SETTLE_PENDING if it has not within two macrotask turns. */
const stateOf = async (p: Promise<unknown>) =>
  Promise.race([
    codeOf(p),
    flush()
      .then(() => flush())
      .then(() => SETTLE_PENDING),
  ]);

describe('disconnect and dispose', () => {
  it('disconnect() rejects pending work; the next request reconnects lazily', async () => {
    const { factory, client, open } = setup();
    await Promise.all([client.connect(), open()]);
    const p = codeOf(client.request('echo', {}));
    await flush();
    client.disconnect();
    expect(await p).toBe('DISCONNECTED');
    expect(client.isConnected()).toBe(false);
    void client.request('echo', {}).catch(() => {});
    expect(factory.last().connectCalls).toBe(2);
  });

  it('dispose() leaves no listener, timer or pending request behind', async () => {
    const { factory, client, clock, open } = setup();
    client.on('news', () => {});
    client.onConnect(() => {});
    await open();
    const pending = codeOf(client.request('echo', {}, { timeoutMs: 5000 }));
    await flush();
    expect(clock.pending()).toBeGreaterThan(0);
    client.dispose();
    expect(await pending).toBe('DISCONNECTED');
    expect(factory.last().listenerCount()).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(client.disposed).toBe(true);
    expect(await codeOf(client.connect())).toBe('DISPOSED');
    expect(() => client.on('news', () => {})).toThrow(/disposed/);
  });

  it('onDispose listeners hear dispose() once, before the client lets go of its listeners', async () => {
    const { client, open } = setup();
    await Promise.all([client.connect(), open()]);
    let heard = 0;
    client.onDispose(() => {
      heard++;
      expect(client.disposed).toBe(true);
    });
    client.dispose();
    client.dispose();
    expect(heard).toBe(1);
  });
});

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
      p.catch(() => {});
    });
    client.dispose();
    await clock.advance(60_000);
    expect(p).toBeDefined();
    // request(): "Always settles", and the socket is not re-opened for it.
    expect(await stateOf(p as Promise<unknown>)).toMatch(/^(DISPOSED|DISCONNECTED)$/);
    expect(factory.last().connectCalls).toBe(1);
  });
});

describe('disconnect() while a request waits for the connection', () => {
  it('disconnect(): a request still waiting for the connection rejects with DISCONNECTED, as every pending request does', async () => {
    const { client } = setup();
    const p = codeOf(client.request('echo', {}));
    await flush();
    client.disconnect();
    expect(await p).toBe('DISCONNECTED');
  });
});
