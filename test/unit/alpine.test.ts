import Alpine from 'alpinejs';
import { describe, expect, it } from 'vitest';
import { persistence } from '../../src/persist';
import { syncwirePlugin, type AlpineLike, type AlpineSyncStore } from '../../src/alpine';
import { flush } from '../helpers/fake-clock';
import { mapStorage, storeHarness } from '../helpers/store-harness';

const alpine = Alpine as unknown as AlpineLike & {
  plugin(p: unknown): void;
  start(): void;
  nextTick(): Promise<void>;
};

describe('Alpine plugin', () => {
  it('exposes mode, state and health reactively, started by the plugin, and renders them', async () => {
    const storage = mapStorage();
    const h = storeHarness<{ v?: number }>({ persist: persistence({ storage, throttleMs: 10 }) });
    const renders: string[] = [];
    document.body.innerHTML = `
      <div x-data>
        <span id="mode" x-text="$store.sync.mode"></span>
        <span id="v" x-text="String($store.sync.state.v)" x-effect="$store.sync.state; window.__renders.push('r')"></span>
        <span id="ns" x-text="$syncwire.namespace"></span>
      </div>`;
    (window as unknown as { __renders: string[] }).__renders = renders;
    const plugin = syncwirePlugin({ store: h.store, client: h.client });
    alpine.plugin(plugin);
    alpine.start();
    await flush();
    expect(document.getElementById('mode')?.textContent).toBe('DISCONNECTED');
    expect(document.getElementById('ns')?.textContent).toBe('/state_sync');
    // The plugin started the store: connect and answer as the server would.
    await h.connect();
    await h.ack();
    const before = renders.length;
    for (let seq = 2; seq < 12; seq++) await h.push(seq, { v: seq });
    await h.clock.advance(0);
    await alpine.nextTick();
    expect(document.getElementById('mode')?.textContent).toBe('HEALTHY');
    expect(document.getElementById('v')?.textContent).toBe('11');
    expect(renders.length - before).toBeLessThanOrEqual(2); // once per coalesced apply, not per push
    const s = alpine.store('sync') as AlpineSyncStore<{ v: number }>;
    expect(s.health.mode).toBe('HEALTHY');
    // What gets persisted is the raw state, never Alpine's proxy (a proxy cannot be cloned).
    await h.clock.advance(20);
    expect(storage.data.get('syncwire:state')).toMatchObject({ state: { v: 11 } });
    expect(h.errors.filter((e) => e.code === 'STORAGE_ERROR')).toEqual([]);
    s.resync('from a button');
    await flush();
    expect(h.requests()).toHaveLength(2);
    plugin.dispose();
    expect(h.store.mode).toBe('DISCONNECTED');
    await h.push(12, { v: 12 });
    await h.clock.advance(0);
    expect(document.getElementById('v')?.textContent).toBe('11');
  });
});

describe('Alpine script-tag build', () => {
  it('without window.Syncwire, fails with a SyncwireError that says which script to load first', async () => {
    await import('../../src/alpine-cdn');
    const caught: unknown[] = [];
    const onError = (e: ErrorEvent) => {
      caught.push(e.error);
      e.preventDefault();
    };
    window.addEventListener('error', onError);
    try {
      document.dispatchEvent(new Event('alpine:init'));
    } catch (e) {
      caught.push(e); // happy-dom rethrows a listener's error; a browser (and jsdom) reports it as an error event
    } finally {
      window.removeEventListener('error', onError);
    }
    expect(caught).toHaveLength(1);
    expect(caught[0]).toMatchObject({
      name: 'SyncwireError',
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('load syncwire.iife.min.js first') as string,
    });
  });
});
