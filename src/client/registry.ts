import { invalid } from '../errors';
import { createNamespacedClient, onDispose, type ClientOptions, type NamespacedClient } from './client';

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
  const clients = new Map<string, { client: NamespacedClient; options?: ClientOptions }>();
  return {
    get(namespace, options) {
      const key = `${options?.url ?? ''}|${String(namespace).trim().replace(/^\/?/, '/')}`;
      const hit = clients.get(key);
      if (hit) {
        if (options && hit.options && !sameOptions(options, hit.options)) {
          throw invalid('options', `a client for ${key} already exists with other options`);
        }
        return hit.client;
      }
      const client = createNamespacedClient(namespace, options);
      clients.set(key, { client, options });
      onDispose.get(client)?.(() => clients.delete(key));
      return client;
    },
    dispose() {
      [...clients.values()].forEach(({ client }) => client.dispose());
      clients.clear();
    },
  };
}

const sameOptions = (a: ClientOptions, b: ClientOptions): boolean =>
  Object.keys({ ...a, ...b }).every((k) => a[k as keyof ClientOptions] === b[k as keyof ClientOptions]);

let shared: ClientRegistry | undefined;

/**
 * The page's shared client for `namespace`: every caller gets the same one.
 * Created lazily, so importing syncwire has no side effects.
 */
export function getNamespacedClient(namespace: string, options?: ClientOptions): NamespacedClient {
  return (shared ??= createClientRegistry()).get(namespace, options);
}
