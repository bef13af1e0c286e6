// The namespaced client's options: checked when it is created (VALIDATION_ERROR naming the
// field), and what they do: csrfTokenUrl, the logger, the clock, maxPayloadBytes.
import { describe, expect, it, vi } from 'vitest';
import { SyncwireError, createNamespacedClient } from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { clientHarness, codeOf, connectedClient } from '../helpers/client-harness';

const setup = clientHarness;

describe('options', () => {
  it.each([
    ['namespace', () => createNamespacedClient('  ')],
    ['url outside a page', () => createNamespacedClient('/x', { url: '' })],
    [
      'requestTimeoutMs',
      () => createNamespacedClient('/x', { url: 'http://h', requestTimeoutMs: -5 }),
    ],
    ['options', () => createNamespacedClient('/x', 'nope' as never)],
  ])('rejects a bad %s with VALIDATION_ERROR', (_, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  it.each([['not a url'], ['ftp://x'], ['/relative'], ['']])(
    'refuses url %j: an absolute http(s) URL, checked when created',
    (url) => {
      expect(() => createNamespacedClient('/x', { url })).toThrow(
        expect.objectContaining({
          code: 'VALIDATION_ERROR',
          details: { field: 'url' },
          message: expect.stringContaining('url: expected an absolute http(s) URL') as string,
        }),
      );
    },
  );

  it('refuses a misspelled option, listing the ones it knows', () => {
    let err: SyncwireError | undefined;
    try {
      createNamespacedClient('/x', { url: 'http://h', reqTimeout: 5 } as never);
    } catch (e) {
      err = e as SyncwireError;
    }
    expect(err).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'options.reqTimeout' },
    });
    expect(err?.message).toMatch(
      /^options\.reqTimeout: expected one of the known options \(url, auth, csrfTokenUrl, requestTimeoutMs, .*\), got an unknown option$/,
    );
    expect(() =>
      createNamespacedClient('/x', { url: 'http://h', retry: { base: 5 } as never }),
    ).toThrow(/retry\.base: expected one of the known options \(baseMs, maxMs\)/);
    expect(() =>
      createNamespacedClient('/x', { url: 'http://h', logger: { enable: true } as never }),
    ).toThrow(/logger\.enable: expected one of the known options/);
  });

  it('takes csrfTokenUrl as a path on the server, never another origin', async () => {
    const fetched: string[] = [];
    const fetch = (url: string) => {
      fetched.push(url);
      return Promise.resolve(new Response(JSON.stringify({ ok: true, token: 't' })));
    };
    const client = createNamespacedClient('/x', {
      url: 'http://h:1',
      csrfTokenUrl: '/api/csrf_token',
      fetch,
      clock: createFakeClock(),
      socketFactory: fakeSocketFactory(),
    });
    void client.connect().catch(() => {});
    await flush();
    expect(fetched).toEqual(['http://h:1/api/csrf_token']);
    client.dispose();
    expect(() =>
      createNamespacedClient('/x', {
        url: 'http://h:1',
        csrfTokenUrl: 'https://elsewhere.example/csrf_token',
      }),
    ).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', details: { field: 'csrfTokenUrl' } }),
    );
  });

  it('a token route that answers 404 says which setting an /api/ build needs', async () => {
    const fetch = () => Promise.resolve(new Response('not found', { status: 404 }));
    const { client, errors, factory } = setup({ auth: undefined, fetch });
    void client.connect().catch(() => {});
    await flush(); // the token is fetched before the socket opens; the attempt's auth callback tries again and reports
    await factory.last().runAuth();
    expect(errors[0]?.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:1\/csrf_token answered HTTP 404 \(an Agent Zero build with its API under \/api\/ needs csrfTokenUrl: '\/api\/csrf_token'\)/,
    );
  });

  it('prints an error nobody listens for with console.warn, once per code; logger: { warn: false } silences it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const quiet = createNamespacedClient('/x', { url: 'http://h', logger: { warn: false } });
      quiet.reportError(new SyncwireError('TIMEOUT', 'one'));
      expect(warn).not.toHaveBeenCalled();
      const loud = createNamespacedClient('/x', { url: 'http://h' });
      loud.reportError(new SyncwireError('TIMEOUT', 'one'));
      loud.reportError(new SyncwireError('TIMEOUT', 'two'));
      loud.reportError(new SyncwireError('DISCONNECTED', 'three'));
      expect(warn.mock.calls.map((c) => String(c[0]).split(':')[0])).toEqual([
        '[syncwire /x] TIMEOUT',
        '[syncwire /x] DISCONNECTED',
      ]);
      expect(String(warn.mock.calls[0]?.[0])).toContain('no onError listener');
      // A listener of the application's own: nothing printed.
      const heard = createNamespacedClient('/x', { url: 'http://h' });
      heard.onError(() => {});
      heard.reportError(new SyncwireError('TIMEOUT', 'four'));
      expect(warn).toHaveBeenCalledTimes(2);
      [quiet, loud, heard].forEach((c) => c.dispose());
    } finally {
      warn.mockRestore();
    }
  });

  it('normalises the namespace', () => {
    expect(createNamespacedClient(' state_sync ', { url: 'http://h' }).namespace).toBe(
      '/state_sync',
    );
  });

  it('refuses a clock that is not wall time: ts and savedAt are read by others', () => {
    const fake = createFakeClock();
    const monotonic = {
      now: () => 5_000.25,
      setTimeout: fake.setTimeout,
      clearTimeout: fake.clearTimeout,
    };
    expect(() => createNamespacedClient('/x', { url: 'http://h', clock: monotonic })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', details: { field: 'clock.now()' } }),
    );
    expect(() => createNamespacedClient('/x', { url: 'http://h', clock: fake })).not.toThrow();
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
    expect(await codeOf(c.request('echo', {}, { timeoutMs: 10 }))).not.toMatch(/^untyped/);
    c.dispose();
  });
});

describe('maxPayloadBytes and binary data (Socket.IO sends it as attachments)', () => {
  const connected = (maxPayloadBytes: number) => connectedClient({ maxPayloadBytes });

  it('an ArrayBuffer larger than maxPayloadBytes is refused before sending', async () => {
    const { factory, client } = await connected(1024 * 1024);
    const p = codeOf(
      client.emit('upload', { file: new ArrayBuffer(4 * 1024 * 1024) }, { confirm: false }),
    );
    await flush();
    expect(factory.last().sent.filter((s) => s.event === 'upload')).toHaveLength(0);
    expect(await p).toBe('PAYLOAD_TOO_LARGE');
    client.dispose();
  });

  it('a Uint8Array well under maxPayloadBytes is not refused as too large', async () => {
    const { client } = await connected(2 * 1024 * 1024);
    expect(
      await codeOf(
        client.emit('upload', { file: new Uint8Array(1024 * 1024) }, { confirm: false }),
      ),
    ).toBe('resolved');
    client.dispose();
  });

  it('a Blob counts at its size', async () => {
    const { factory, client } = await connected(1024);
    expect(
      await codeOf(
        client.emit('upload', { file: new Blob([new Uint8Array(2048)]) }, { confirm: false }),
      ),
    ).toBe('PAYLOAD_TOO_LARGE');
    expect(
      await codeOf(
        client.emit('upload', { file: new Blob([new Uint8Array(512)]) }, { confirm: false }),
      ),
    ).toBe('resolved');
    expect(factory.last().sent.filter((s) => s.event === 'upload')).toHaveLength(1);
    client.dispose();
  });
});
