// syncwire/stream: the iterator over a streamed reply, and its options.
import { describe, expect, it } from 'vitest';
import { requestStream } from '../../src/stream';
import { connectedClient } from '../helpers/client-harness';
import { flush } from '../helpers/fake-clock';
import { envelope } from '../helpers/fake-socket';

const connected = () => connectedClient();

const PENDING = Symbol('pending');
const settled = (p: Promise<unknown>) =>
  Promise.race([
    p.then(
      () => 'settled',
      () => 'settled',
    ),
    flush()
      .then(() => flush())
      .then(() => PENDING),
  ]);

describe('requestStream iterator', () => {
  it('return() settles a next() that is still waiting', async () => {
    const { client, clock } = await connected();
    const it = requestStream(
      client,
      'stream_start',
      {},
      { replyEvent: 'stream_event', correlationId: 's-1' },
    );
    const pending = it.next();
    await it.return!();
    await clock.advance(60_000); // even past idleTimeoutMs
    expect(await settled(pending)).toBe('settled');
    client.dispose();
  });

  it('two next() calls in a row each get an event (the first one is not orphaned)', async () => {
    const { client, factory, clock } = await connected();
    const it = requestStream(
      client,
      'stream_start',
      {},
      { replyEvent: 'stream_event', correlationId: 's-2' },
    );
    const a = it.next();
    const b = it.next();
    factory
      .last()
      .serverEmit('stream_event', envelope({ state: 'delta', seq: 1 }, { correlationId: 's-2' }));
    factory
      .last()
      .serverEmit('stream_event', envelope({ state: 'final', seq: 2 }, { correlationId: 's-2' }));
    await clock.advance(60_000);
    expect(await settled(a)).toBe('settled');
    expect(await settled(b)).toBe('settled');
    client.dispose();
  });
});

describe('requestStream options', () => {
  it('are checked when the stream is made: replyEvent is required, names must be known, numbers positive', async () => {
    const { client } = await connected();
    const make = (options: unknown) => () =>
      requestStream(client, 'stream_start', {}, options as never);
    expect(make(undefined)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_ERROR',
        details: { field: 'options.replyEvent' },
      }),
    );
    expect(make({})).toThrow(/requestStream options\.replyEvent: expected a snake_case event name/);
    expect(make({ replyEvent: [] })).toThrow(/replyEvent/);
    expect(make({ replyEvent: 'stream_event', idleTimeout: 5 })).toThrow(
      /options\.idleTimeout: expected one of the known options \(replyEvent, correlationId, timeoutMs, idleTimeoutMs, maxBuffered\)/,
    );
    expect(make({ replyEvent: 'stream_event', maxBuffered: 0 })).toThrow(
      /options\.maxBuffered: expected a number > 0/,
    );
    expect(make({ replyEvent: ['stream_event', 'other_event'], idleTimeoutMs: 100 })).not.toThrow();
    client.dispose();
  });
});
