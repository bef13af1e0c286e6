import { invalid } from '../errors';
import { createNamespacedClient, type ClientOptions, type NamespacedClient } from './client';

/** An isolated set of shared clients: one per (url, namespace). */
export interface ClientRegistry {
  /**
   * The registry's client for `namespace` (and `options.url`), created on
   * first use with `options`. Asking again with different options throws
   * `VALIDATION_ERROR` rather than silently ignoring them.
   */
  get(namespace: string, options?: ClientOptions): NamespacedClient;
  /** Disposes every client of this registry. */
  dispose(): void;
}

/** Creates an isolated {@link ClientRegistry} (for tests, or pages that talk to several servers). */
export function createClientRegistry(): ClientRegistry {
  const clients = new Map<string, [NamespacedClient, ClientOptions?]>();
  return {
    get(namespace, options) {
      // Keyed on the url the client will use, so the default and the same url given explicitly are one client.
      const key = `${options?.url ?? (globalThis as Partial<typeof globalThis>).location?.origin}|${String(namespace).trim().replace(/^\/?/, '/')}`;
      const hit = clients.get(key);
      if (!hit) {
        const client = createNamespacedClient(namespace, options);
        // A disposed client leaves the registry, so the next get() makes a fresh one.
        const dispose = client.dispose.bind(client);
        // Only while it is still the registry's: disposing it again must not evict its successor.
        client.dispose = () => (clients.get(key)?.[0] == client && clients.delete(key), dispose());
        clients.set(key, [client, options]);
        return client;
      }
      // No options takes the client as it is; any options must be those it was made with (url aside: it is in the key).
      const given = (hit[1] ?? {}) as Record<string, unknown>;
      if (options && Object.keys({ ...options, ...given }).some((k) => k != 'url' && options[k as keyof ClientOptions] !== given[k])) {
        throw invalid('options', `the options of the existing client for ${key}`);
      }
      return hit[0];
    },
    dispose() {
      clients.forEach(([client]) => client.dispose());
    },
  };
}

let shared: ClientRegistry | undefined;

/**
 * The page's shared client for `namespace`: every caller gets the same one.
 * Created lazily, so importing syncwire has no side effects.
 */
export function getNamespacedClient(namespace: string, options?: ClientOptions): NamespacedClient {
  return (shared ??= createClientRegistry()).get(namespace, options);
}
