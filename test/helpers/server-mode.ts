import type { ClientOptions, SyncStoreOptions } from '../../src/index';
import { cookieJar } from '../../demo/node/cookie-jar.mjs';
import { nodeHttpFetch } from './node-http-fetch';

/** The reference server's two route layouts (see its `routes` option). */
export type RoutesMode = 'classic' | 'api';
export const MODES: RoutesMode[] = ['classic', 'api'];

/**
 * What a client and a store in this (Node) test process need for a server in `mode`: for the
 * /api/ layout, the token and poll routes, and the cookie jar a browser would be (README:
 * "Using syncwire from Node"), over node:http so it works under both DOM environments.
 * `socketOptions` (merged with the test's own): the jar's headers object is kept, not copied,
 * since Socket.IO reads it again on every attempt.
 */
export function modeOptions(
  mode: RoutesMode,
  url: string,
  socketOptions: NonNullable<ClientOptions['socketOptions']> = {},
) {
  if (mode === 'classic')
    return {
      client: { socketOptions } satisfies ClientOptions,
      store: {} satisfies Partial<SyncStoreOptions<unknown>>,
    };
  const jar = cookieJar(url, nodeHttpFetch);
  Object.assign(jar.headers, socketOptions.extraHeaders);
  return {
    client: {
      csrfTokenUrl: '/api/csrf_token',
      fetch: jar.fetch,
      socketOptions: { ...socketOptions, extraHeaders: jar.headers },
    } satisfies ClientOptions,
    store: { pollUrl: '/api/poll', fetch: jar.fetch } satisfies Partial<SyncStoreOptions<unknown>>,
  };
}
