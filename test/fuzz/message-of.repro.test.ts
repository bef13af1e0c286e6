// STATUS: failed against src/ when written; passes since commit 05ce55a ("Harden bad input: ...",
// made while this suite was being written). Kept as a regression test.
// REPRO: messageOf() in src/errors.ts turns anything thrown into a message
// with String(e), and String() throws a TypeError for an object whose toString/valueOf are
// not functions (JSON's {"toString":{}}) or that has no prototype. Every error path that
// calls messageOf() then throws instead of reporting:
//  - a client.on subscriber that throws such a value: the TypeError escapes the socket
//    listener (in a browser: an uncaught exception) and the subscribers after it never run
//    (client.ts dispatch → reportError → fail('HANDLER_ERROR', messageOf(e)));
//  - a server request whose subscriber rejects with it: the ack is never sent and the
//    TypeError becomes an unhandled rejection (client.ts dispatch, the ack branch);
//  - a store subscriber that throws it: the TypeError escapes the notify timer;
//  - fetch rejecting with it during a poll: an unhandled rejection, and the poll loop stops.
// Found by test/fuzz/envelope.test.ts (counterexample [{"toString":{}}]).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespacedClient, SyncwireError } from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { storeHarness } from '../helpers/store-harness';
import { trapUnhandled } from './arbitraries';

const trap = trapUnhandled();
beforeAll(() => trap.install());
afterAll(() => trap.uninstall());

const hostile = () => JSON.parse('{"toString":{}}') as object; // as it arrives from the wire
const nullProto = () => Object.create(null) as object;

async function connectedClient() {
  const factory = fakeSocketFactory();
  const client = createNamespacedClient('/repro', {
    url: 'http://127.0.0.1:9',
    auth: {},
    clock: createFakeClock(),
    socketFactory: factory,
  });
  void client.connect();
  await factory.last().runAuth();
  factory.last().accept();
  return { client, socket: factory.last() };
}

describe('messageOf(String(e)) throws for some thrown values', () => {
  it.each([
    ['{"toString":{}}', hostile],
    ['Object.create(null)', nullProto],
  ])(
    'a subscriber throwing %s does not stop the others and reaches onError as HANDLER_ERROR',
    async (_name, make) => {
      const { client, socket } = await connectedClient();
      const errors: unknown[] = [];
      client.onError((e) => void errors.push(e));
      const later: number[] = [];
      client.on('news', () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- throwing a non-Error is the point
        throw make();
      });
      client.on('news', () => void later.push(1));
      let escaped: unknown;
      try {
        socket.serverEmit('news', envelope({}));
      } catch (e) {
        escaped = e;
      }
      client.dispose();
      expect(escaped).toBeUndefined();
      expect(later).toEqual([1]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SyncwireError);
    },
  );

  it('a server request whose subscriber rejects with {"toString":{}} is still answered (HANDLER_ERROR), with no unhandled rejection', async () => {
    const { client, socket } = await connectedClient();
    trap.seen.length = 0;
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
    client.on('ask', () => Promise.reject(hostile()));
    const acks: unknown[] = [];
    socket.serverEmit('ask', envelope({}), (a: unknown) => acks.push(a));
    for (let i = 0; i < 5; i++) await flush();
    client.dispose();
    expect(trap.seen).toEqual([]);
    expect(acks).toEqual([
      {
        correlationId: expect.any(String) as string,
        results: [
          { ok: false, error: { code: 'HANDLER_ERROR', error: expect.any(String) as string } },
        ],
      },
    ]);
  });

  it('a store subscriber throwing {"toString":{}} does not escape the notify timer', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.store.subscribe(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- throwing a non-Error is the point
      throw hostile();
    });
    await h.push(3, { v: 2 });
    let escaped: unknown;
    try {
      await h.clock.advance(100); // the coalesced notify (at most every notifyIntervalMs)
    } catch (e) {
      escaped = e;
    }
    h.store.stop();
    h.client.dispose();
    expect(escaped).toBeUndefined();
  });

  it('fetch rejecting with {"toString":{}} during a poll is a POLL_FAILED, not an unhandled rejection; polling goes on', async () => {
    trap.seen.length = 0;
    let calls = 0;
    const h = storeHarness({
      fetch: () => {
        calls++;
        if (calls === 1) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejecting with non-Errors is what is fuzzed
          return Promise.reject(hostile());
        }
        return Promise.resolve(new Response('{"v":2}', { status: 200 }));
      },
    });
    void h.store.start();
    await h.clock.advance(3000); // no connection: DEGRADED, first poll
    await h.clock.advance(5000); // the next polls
    h.store.stop();
    h.client.dispose();
    expect(trap.seen).toEqual([]);
    expect(calls).toBeGreaterThan(1);
    expect(h.store.state).toEqual({ v: 2 });
  });
});
