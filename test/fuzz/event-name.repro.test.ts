// STATUS: failed against src/ when written; passes since commit 05ce55a ("Harden bad input: ...",
// made while this suite was being written). Kept as a regression test.
// REPRO: assertEventName() in src/protocol.ts builds its VALIDATION_ERROR
// message with JSON.stringify(event). For a BigInt or a cyclic object JSON.stringify itself
// throws, so emit()/request() reject with a plain TypeError and on() throws one, instead of
// the documented VALIDATION_ERROR. Found by test/fuzz/request.test.ts.
import { describe, expect, it } from 'vitest';
import { createNamespacedClient, SyncwireError } from '../../src/index';
import { createFakeClock } from '../helpers/fake-clock';
import { fakeSocketFactory } from '../helpers/fake-socket';

const cyclic = () => {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
};

describe('event names JSON.stringify can not print', () => {
  const client = () =>
    createNamespacedClient('/repro', {
      url: 'http://127.0.0.1:9',
      auth: {},
      clock: createFakeClock(),
      socketFactory: fakeSocketFactory(),
    });

  it.each([
    ['a BigInt', () => 10n],
    ['a cyclic object', cyclic],
  ])('%s: emit(), request() and on() fail with VALIDATION_ERROR', async (_name, make) => {
    const c = client();
    const codes = await Promise.all([
      c.emit(make() as never, {}).then(
        () => 'resolved',
        (e: unknown) => (e instanceof SyncwireError ? e.code : `untyped ${String(e)}`),
      ),
      c.request(make() as never, {}).then(
        () => 'resolved',
        (e: unknown) => (e instanceof SyncwireError ? e.code : `untyped ${String(e)}`),
      ),
    ]);
    let onError: unknown;
    try {
      c.on(make() as never, () => {});
    } catch (e) {
      onError = e instanceof SyncwireError ? e.code : `untyped ${String(e)}`;
    }
    c.dispose();
    expect([...codes, onError]).toEqual([
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
      'VALIDATION_ERROR',
    ]);
  });
});
