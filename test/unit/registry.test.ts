// The client registry: one shared client per (url, namespace), and when asking again is an error.
import { describe, expect, it } from 'vitest';
import { createClientRegistry } from '../../src/index';
import { createFakeClock } from '../helpers/fake-clock';
import { fakeSocketFactory } from '../helpers/fake-socket';

describe('client registry', () => {
  it('disposing an already disposed client again does not evict the live client that replaced it', () => {
    const reg = createClientRegistry();
    const opts = {
      url: 'http://h',
      auth: { t: 1 },
      socketFactory: fakeSocketFactory(),
      clock: createFakeClock(),
    };
    const first = reg.get('/a', opts);
    first.dispose();
    const second = reg.get('/a', opts);
    expect(second).not.toBe(first);
    first.dispose(); // dispose() is idempotent: a no-op on a disposed client
    expect(second.disposed).toBe(false);
    // The shared client for '/a' must still be `second`, not a new, third one beside it.
    expect(reg.get('/a', opts)).toBe(second);
    reg.dispose();
  });

  it('a client being disposed is gone for the registry: a disconnect listener that asks again gets a fresh one', async () => {
    const reg = createClientRegistry();
    const factory = fakeSocketFactory();
    const opts = {
      url: 'http://h',
      auth: { t: 1 },
      socketFactory: factory,
      clock: createFakeClock(),
    };
    const first = reg.get('/d', opts);
    const connected = first.connect();
    factory.last().accept();
    await connected;
    let askedDuringDispose: unknown;
    first.onDisconnect(() => {
      askedDuringDispose = reg.get('/d', opts);
    });
    first.dispose();
    expect(askedDuringDispose).toBeDefined();
    expect(askedDuringDispose).not.toBe(first);
    expect((askedDuringDispose as typeof first).disposed).toBe(false);
    // The one it made is the registry's client from now on (the old one's hook evicts nothing).
    expect(reg.get('/d', opts)).toBe(askedDuringDispose);
    reg.dispose();
  });

  it('asking again with options, after a first get() without options, throws rather than silently ignoring them', () => {
    const reg = createClientRegistry();
    reg.get('/b');
    expect(() => reg.get('/b', { requestTimeoutMs: 5 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR' }),
    );
    reg.dispose();
  });

  it('the default url and the same url given explicitly name one shared client', () => {
    const reg = createClientRegistry();
    const a = reg.get('/c');
    const b = reg.get('/c', { url: location.origin });
    expect(b).toBe(a);
    reg.dispose();
  });

  it('equal options, written separately by two modules, share one client', () => {
    const reg = createClientRegistry();
    const clock = createFakeClock();
    const socketFactory = fakeSocketFactory();
    const make = () => ({
      url: 'http://h/',
      clock,
      socketFactory,
      socketOptions: { path: '/socket.io', transports: ['websocket', 'polling'] },
      retry: { baseMs: 100 },
    });
    const a = reg.get('/state_sync', make());
    expect(reg.get('state_sync', make())).toBe(a);
    expect(reg.get('/state_sync', { ...make(), url: 'http://h' })).toBe(a); // the same url, without its slash
    reg.dispose();
  });

  it("options that differ are refused, naming the keys that differ in the caller's terms", () => {
    const reg = createClientRegistry();
    const clock = createFakeClock();
    const socketFactory = fakeSocketFactory();
    reg.get('/state_sync', {
      url: 'http://h',
      clock,
      socketFactory,
      socketOptions: { path: '/socket.io' },
      requestTimeoutMs: 1000,
    });
    let err: unknown;
    try {
      reg.get('/state_sync', {
        url: 'http://h',
        clock: createFakeClock(),
        socketFactory,
        socketOptions: { path: '/ws' },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'options', differ: ['clock', 'socketOptions.path', 'requestTimeoutMs'] },
    });
    expect((err as Error).message).toMatch(
      /^getNamespacedClient\('\/state_sync'\): the shared client for \/state_sync at http:\/\/h was made with other options/,
    );
    expect((err as Error).message).not.toMatch(/\|/); // no internal key
    reg.dispose();
  });
});
