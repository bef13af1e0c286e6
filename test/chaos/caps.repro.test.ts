// STATUS: failed against src/ when written; passes since commit bf4013d ("Bounded resources:
// maxPending caps emits/requests ..."). Kept as a regression test.
// REPRO: work that piled up without a cap. Measured before the caps existed (20,000 of
// each): ~1 KB of heap per pending emit, ~1.4 KB and one timer per pending request, every
// stream event kept for a reader that never comes. The cap values below
// are placeholders for whatever the library chooses; the overflow policy asserted is the
// simplest one the public API can express: the call over the cap fails at once with the
// OVERFLOW code that src/errors.ts already declares (but nothing uses yet).
import { describe, expect, it } from 'vitest';
import { createNamespacedClient, SyncwireError } from '../../src/index';
import { requestStream } from '../../src/stream';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';

const ASSUMED_CAP = 1_000;
const N = 10 * ASSUMED_CAP;

function setup() {
  const clock = createFakeClock();
  const factory = fakeSocketFactory();
  const client = createNamespacedClient('/caps', {
    url: 'http://127.0.0.1:9',
    auth: {},
    clock,
    socketFactory: factory,
    connectTimeoutMs: 60_000,
  });
  return { clock, factory, client };
}

describe('missing caps', () => {
  it(`emits while disconnected: at most ${ASSUMED_CAP} wait for the connection, the rest reject with OVERFLOW`, async () => {
    const { client } = setup();
    const codes: string[] = [];
    for (let i = 0; i < N; i++)
      client
        .emit('note', { i })
        .catch((e: unknown) => codes.push(e instanceof SyncwireError ? e.code : 'untyped'));
    await flush();
    const pending = N - codes.length;
    client.dispose();
    expect(pending).toBeLessThanOrEqual(ASSUMED_CAP);
    expect(new Set(codes)).toEqual(new Set(['OVERFLOW']));
  });

  it(`requests without an answer: at most ${ASSUMED_CAP} in flight, the rest reject with OVERFLOW`, async () => {
    const { client, factory, clock } = setup();
    void client.connect();
    await factory.last().runAuth();
    factory.last().accept();
    const codes: string[] = [];
    for (let i = 0; i < N; i++)
      client
        .request('slow', { i }, { timeoutMs: 60_000 })
        .catch((e: unknown) => codes.push(e instanceof SyncwireError ? e.code : 'untyped'));
    await flush();
    const inFlight = N - codes.length;
    const timers = clock.pending();
    client.dispose();
    expect({ inFlight: inFlight <= ASSUMED_CAP, timers: timers <= ASSUMED_CAP + 4 }).toEqual({
      inFlight: true,
      timers: true,
    });
    expect(new Set(codes)).toEqual(new Set(['OVERFLOW']));
  });

  it(`a stream nobody reads buffers at most ${ASSUMED_CAP} events, then ends with OVERFLOW`, async () => {
    const { client, factory } = setup();
    void client.connect();
    await factory.last().runAuth();
    factory.last().accept();
    const it = requestStream(
      client,
      'stream_start',
      {},
      { replyEvent: 'stream_event', correlationId: 's-1', idleTimeoutMs: 600_000 },
    );
    for (let seq = 1; seq <= N; seq++)
      factory
        .last()
        .serverEmit('stream_event', envelope({ state: 'delta', seq }, { correlationId: 's-1' }));
    let delivered = 0;
    let error: unknown;
    try {
      for (;;) {
        const r = await Promise.race([
          it.next(),
          new Promise<'wait'>((res) => setImmediate(() => res('wait'))),
        ]);
        if (r === 'wait' || r.done) break;
        delivered++;
      }
    } catch (e) {
      error = e;
    }
    client.dispose();
    expect(delivered).toBeLessThanOrEqual(ASSUMED_CAP);
    expect((error as SyncwireError | undefined)?.code).toBe('OVERFLOW');
  });
});
