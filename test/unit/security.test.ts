import { describe, expect, it } from 'vitest';
import { createLogger, createNamespacedClient } from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { storeHarness } from '../helpers/store-harness';

const SECRET = 'tok-very-secret-0123456789';

describe('security', () => {
  it('never hands a token to a log sink (so not to the event console either)', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      enabled: true,
      sink: (c, m, d) => lines.push(JSON.stringify([c, m, d])),
    });
    const factory = fakeSocketFactory();
    const client = createNamespacedClient('/x', {
      url: 'http://127.0.0.1:1',
      auth: { csrf_token: SECRET },
      clock: createFakeClock(),
      socketFactory: factory,
      logger,
    });
    client.on('news', () => {});
    await factory.last().runAuth();
    factory.last().accept();
    factory.last().serverEmit('news', envelope({ csrf_token: SECRET, nested: { apiKey: SECRET } }));
    void client.request('login', { password: SECRET, token: SECRET }).catch(() => {});
    client.reportError(Object.assign(new Error('boom'), { auth: SECRET }));
    logger.log('request', 'custom', {
      headers: { 'X-CSRF-Token': SECRET, cookie: `csrf_token_x=${SECRET}` },
      list: [{ secret: SECRET }],
    });
    await flush();
    client.dispose();
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).toContain('[redacted]');
  });

  it('sends the CSRF header only to the server the token came from', async () => {
    const same = storeHarness();
    await same.client.refreshAuth();
    void same.store.start();
    await same.clock.advance(3000); // no connection: degraded polling
    expect(same.fetch.calls[0]?.headers['X-CSRF-Token']).toBe('tok-1');

    const other = storeHarness({ pollUrl: 'http://elsewhere.example/poll' });
    await other.client.refreshAuth();
    void other.store.start();
    await other.clock.advance(3000);
    expect(other.fetch.calls[0]?.url).toBe('http://elsewhere.example/poll');
    expect(other.fetch.calls[0]?.headers['X-CSRF-Token']).toBeUndefined();
    same.store.stop();
    other.store.stop();
  });
});
