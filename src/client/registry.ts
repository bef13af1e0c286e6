import { fail } from '../errors';
import { isPlainObject } from '../util';
import { createNamespacedClient, type ClientOptions, type NamespacedClient } from './client';
import type { EventMap } from './events';

/** An isolated set of shared clients: one per (url, namespace). */
export interface ClientRegistry {
  /**
   * The registry's client for `namespace` (and `options.url`), created on
   * first use with `options`. Asking again with no options, or equal ones (plain data
   * compared deeply, functions and other objects by identity), gives the same client;
   * other options throw `VALIDATION_ERROR` naming the keys that differ, rather than
   * being silently ignored. `E` types its events (see {@link EventMap}); it is a view of the
   * one shared client, so two callers may see it through different maps.
   */
  get<E extends EventMap = EventMap>(
    namespace: string,
    options?: ClientOptions,
  ): NamespacedClient<E>;
  /** Disposes every client of this registry. */
  dispose(): void;
}

/**
 * Where two option values differ, as paths in the user's terms (`socketOptions.path`).
 * Plain data (objects, arrays, primitives) is compared deeply, so two modules that write
 * the same options share a client; anything else (a function, a clock or logger object)
 * is the same only if it is the same object.
 */
function differences(a: unknown, b: unknown, path: string, out: string[]): string[] {
  if (Object.is(a, b)) return out;
  // An object holding functions (a clock, a logger) is a thing with behaviour, not data.
  const data = (v: unknown): v is Record<string, unknown> =>
    (isPlainObject(v) || Array.isArray(v)) &&
    !Object.values(v).some((x) => typeof x === 'function');
  if (data(a) && data(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      differences(a[k], b[k], path ? `${path}.${k}` : k, out);
  } else out.push(path);
  return out;
}

/** Creates an isolated {@link ClientRegistry} (for tests, or pages that talk to several servers). */
export function createClientRegistry(): ClientRegistry {
  const clients = new Map<string, [NamespacedClient, ClientOptions?]>();
  return {
    get<E extends EventMap>(namespace: string, options?: ClientOptions) {
      // Keyed on the url the client will use (without trailing slashes, as the client keeps
      // it), so the default and the same url given explicitly are one client.
      const url = String(
        options?.url ?? (globalThis as Partial<typeof globalThis>).location?.origin,
      ).replace(/\/+$/, '');
      const ns = String(namespace).trim().replace(/^\/?/, '/');
      const key = `${url}|${ns}`;
      let hit = clients.get(key);
      // A client being disposed (its disconnect listeners run before its dispose hooks) is
      // already gone for the registry: a listener that asks again gets a fresh client.
      if (hit?.[0].disposed) {
        clients.delete(key);
        hit = undefined;
      }
      if (!hit) {
        const client = createNamespacedClient(namespace, options);
        // A disposed client leaves the registry, so the next get() makes a fresh one. Its own
        // onDispose hook tells us (registered first, so before any other dispose listener);
        // only while it is still the registry's, so a stale client never evicts its successor.
        client.onDispose(() => {
          if (clients.get(key)?.[0] === client) clients.delete(key);
        });
        clients.set(key, [client, options]);
        return client as NamespacedClient<E>;
      }
      // No options takes the client as it is; any options must equal those it was made with
      // (url aside: it is in the key).
      if (options) {
        const { url: _given, ...asked } = options;
        const { url: _made, ...made } = hit[1] ?? {};
        const differ: string[] = [];
        for (const k of new Set([...Object.keys(asked), ...Object.keys(made)])) {
          differences(
            (asked as Record<string, unknown>)[k],
            (made as Record<string, unknown>)[k],
            k,
            differ,
          );
        }
        if (differ.length) {
          throw fail(
            'VALIDATION_ERROR',
            `getNamespacedClient('${ns}'): the shared client for ${ns} at ${url} was made with other options (they differ in ${differ.join(', ')}); ` +
              'pass the same options or none, or make a separate client with createNamespacedClient()',
            { field: 'options', differ },
          );
        }
      }
      // One client under every map it is asked with: a map only types what callers pass it.
      return hit[0] as NamespacedClient<E>;
    },
    dispose() {
      clients.forEach(([client]) => client.dispose());
    },
  };
}

let shared: ClientRegistry | undefined;

/**
 * The page's shared client for `namespace`: every caller gets the same one.
 * Created lazily, so importing syncwire has no side effects. `E` types its events
 * (see {@link EventMap}).
 *
 * @example
 * ```ts
 * interface DevEvents {
 *   server: { server_restart: { runtimeId: string } };
 *   client: { echo: { data: { hello: number }; result: { hello: number } } };
 * }
 * const ws = getNamespacedClient<DevEvents>('/dev_websocket_test');
 * ws.on('server_restart', ({ data }) => console.log(data.runtimeId));
 * ```
 */
export function getNamespacedClient<E extends EventMap = EventMap>(
  namespace: string,
  options?: ClientOptions,
): NamespacedClient<E> {
  return (shared ??= createClientRegistry()).get<E>(namespace, options);
}
