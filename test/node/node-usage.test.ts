// README "Using syncwire from Node": the example there is demo/node/{cookie-jar,example}.mjs,
// word for word, and it works against the reference server in its /api/ layout (current
// Agent Zero), in plain Node with Node's own fetch, on the first attempt.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import type { NamespacedClient, SyncStore } from '../../src/index';

// Loaded as Node loads it (it imports 'syncwire', the built package), not through the type checker.
const EXAMPLE: string = '../../demo/node/example.mjs';
type SyncFromNode = (
  url: string,
) => Promise<{ client: NamespacedClient; store: SyncStore<unknown> }>;

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('using syncwire from Node', () => {
  it('the README shows the example files as they are', () => {
    const readme = read('README.md');
    expect(readme).toContain(read('demo/node/cookie-jar.mjs').trim());
    expect(readme).toContain(read('demo/node/example.mjs').trim());
  });

  it('syncs from the /api/ layout with cookies and an Origin, on the first attempt', async () => {
    const server = await createReferenceServer({ routes: 'api' });
    try {
      const { syncFromNode } = (await import(EXAMPLE)) as { syncFromNode: SyncFromNode };
      const { client, store } = await syncFromNode(server.url);
      expect(store.mode).toBe('HEALTHY');
      expect(store.health.epoch).toBe(server.runtime.id);
      expect(server.stats.rejections).toEqual([]);
      store.stop();
      client.dispose();
    } finally {
      await server.close();
    }
  });
});
