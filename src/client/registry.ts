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
      const key = `${options?.url ?? ''}|${String(namespace).trim().replace(/^\/?/, '/')}`;
      const hit = clients.get(key);
      if (!hit) {
        const client = createNamespacedClient(namespace, options);
        // A disposed client leaves the registry, so the next get() makes a fresh one.
        const dispose = client.dispose.bind(client);
        client.dispose = () => (clients.delete(key), dispose());
        clients.set(key, [client, options]);
        return client;
      }
      const given = hit[1];
      if (options && given && Object.keys({ ...options, ...given }).some((k) => options[k as keyof ClientOptions] !== given[k as keyof ClientOptions])) {
        throw invalid('options', `the options of the existing client for ${key}, not other options`);
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
