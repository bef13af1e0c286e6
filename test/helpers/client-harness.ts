import { createNamespacedClient, type ClientOptions, SyncwireError } from '../../src/index';
import { createFakeClock, flush } from './fake-clock';
import { fakeSocketFactory } from './fake-socket';

/** A client on a fake socket and a fake clock, with every reported error collected. */
export function clientHarness(extra: ClientOptions = {}) {
  const clock = createFakeClock();
  const factory = fakeSocketFactory();
  const errors: SyncwireError[] = [];
  const client = createNamespacedClient('/test', {
    url: 'http://127.0.0.1:1',
    auth: { csrf_token: 't' },
    clock,
    random: () => 0.5,
    socketFactory: factory,
    logger: { warn: false }, // errors are collected by the test, not printed
    ...extra,
  });
  client.onError((e) => errors.push(e));
  /** Opens the fake socket: auth runs, then the server accepts. */
  const open = async () => {
    await factory.last().runAuth();
    factory.last().accept();
    await flush();
  };
  return { clock, factory, client, errors, open };
}

/** {@link clientHarness}, connected. */
export async function connectedClient(extra: ClientOptions = {}) {
  const h = clientHarness(extra);
  await Promise.all([h.client.connect(), h.open()]);
  return h;
}

/** How a call settled: 'resolved', its SyncwireError code, or 'untyped …' for anything else. */
export const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof SyncwireError ? e.code : `untyped ${String(e)}`),
  );
