import Alpine from 'alpinejs';
import { afterEach, describe, expect, it } from 'vitest';
import { persistence } from '../../src/persist';
import {
  syncStore,
  syncwirePlugin,
  type AlpineLike,
  type AlpineSyncStore,
  type SyncwirePlugin,
} from '../../src/alpine';
import { flush } from '../helpers/fake-clock';
import { leaderAndFollower } from '../helpers/shared-tabs';
import { mapStorage, storeHarness } from '../helpers/store-harness';

const alpine = Alpine as unknown as AlpineLike & {
  plugin(p: unknown): void;
  start(): void;
  nextTick(): Promise<void>;
};

const TEMPLATE = `
  <div x-data>
    <span id="mode" x-text="$store.sync.mode"></span>
    <span id="v" x-text="String($store.sync.state.v)" x-effect="$store.sync.state; window.__renders.push('r')"></span>
    <span id="ns" x-text="$syncwire.namespace"></span>
  </div>`;
const text = (id: string) => document.getElementById(id)?.textContent;

// Alpine is one per page: it is started once; later templates are picked up by its mutation
// observer, and each test's plugin replaces the previous one's $store.sync.
let alpineStarted = false;
let mounted: SyncwirePlugin | undefined;
afterEach(() => {
  mounted?.dispose();
  mounted = undefined;
  document.body.innerHTML = '';
});

/** A store with a cache, given to Alpine by the plugin, and the template rendered from it. */
async function mount() {
  const storage = mapStorage();
  const h = storeHarness<{ v?: number }>({ persist: persistence({ storage, throttleMs: 10 }) });
  const renders: string[] = [];
  (window as unknown as { __renders: string[] }).__renders = renders;
  document.body.innerHTML = TEMPLATE;
  const plugin = syncwirePlugin({ store: h.store, client: h.client });
  mounted = plugin;
  alpine.plugin(plugin);
  if (!alpineStarted) alpine.start();
  alpineStarted = true;
  await flush();
  await alpine.nextTick();
  return { h, storage, renders, plugin };
}

/** {@link mount}, then connected as the server would and HEALTHY after ten pushes (v: 11). */
async function healthy() {
  const m = await mount();
  await m.h.connect();
  await m.h.ack();
  const before = m.renders.length;
  for (let seq = 2; seq < 12; seq++) await m.h.push(seq, { v: seq });
  await m.h.clock.advance(0);
  await alpine.nextTick();
  return { ...m, rendersDuringPushes: m.renders.length - before };
}

describe('Alpine plugin', () => {
  it('starts the store, and the page renders its mode as it changes and the client namespace', async () => {
    await mount();
    expect(text('mode')).toBe('DISCONNECTED');
    expect(text('ns')).toBe('/state_sync');
    await healthy(); // the plugin started the store: it handshakes on connect
    expect(text('mode')).toBe('HEALTHY');
  });

  it('renders the state reactively, once per coalesced apply rather than once per push', async () => {
    const { rendersDuringPushes } = await healthy();
    expect(text('v')).toBe('11');
    expect(rendersDuringPushes).toBeLessThanOrEqual(2);
  });

  it('exposes health on $store.sync', async () => {
    await healthy();
    const s = alpine.store('sync') as AlpineSyncStore<{ v: number }>;
    expect(s.health.mode).toBe('HEALTHY');
  });

  it("persists the raw state, never Alpine's proxy (a proxy cannot be cloned)", async () => {
    const { h, storage } = await healthy();
    await h.clock.advance(20);
    expect(storage.data.get('syncwire:state')).toMatchObject({ state: { v: 11 } });
    expect(h.errors.filter((e) => e.code === 'STORAGE_ERROR')).toEqual([]);
  });

  it('plugin.alpineStore(Alpine) and syncStore(Alpine) are $store.sync, live and typed', async () => {
    const { plugin } = await healthy();
    const fromPlugin = plugin.alpineStore(alpine);
    const byName = syncStore<{ v?: number }>(alpine);
    // Alpine's reactive store itself, so writes the plugin makes show on it.
    expect(fromPlugin).toBe(alpine.store('sync'));
    expect(byName).toBe(fromPlugin);
    expect(fromPlugin.state.v).toBe(11);
    expect(fromPlugin.mode).toBe('HEALTHY');
  });

  it('syncStore(Alpine, name) throws, naming the store, when no plugin registered it', async () => {
    await mount();
    expect(() => syncStore(alpine, 'elsewhere')).toThrow(/no sync store 'elsewhere'/);
  });

  it('$store.sync.resync() asks the server again', async () => {
    const { h } = await healthy();
    const s = syncStore<{ v: number }>(alpine);
    s.resync('from a button');
    await flush();
    expect(h.requests()).toHaveLength(2);
  });

  it('dispose() stops the store, and later pushes no longer reach the page', async () => {
    const { h, plugin } = await healthy();
    plugin.dispose();
    expect(h.store.mode).toBe('DISCONNECTED');
    await h.push(12, { v: 12 });
    await h.clock.advance(0);
    expect(text('v')).toBe('11');
  });
});

describe('Alpine plugin with a shared store (syncwire/tabs)', () => {
  it("a follower tab renders the leader's state and its role, and its own mode once it takes over", async () => {
    const tabs = await leaderAndFollower<{ v?: number }>({ v: 1 }, { initialState: {} });
    const follower = tabs.b.store;
    document.body.innerHTML = `
      <div x-data>
        <span id="mode" x-text="$store.sync.mode"></span>
        <span id="v" x-text="String($store.sync.state.v)"></span>
        <span id="role" x-text="$store.sync.health.role"></span>
      </div>`;
    // Its client is the shared store's: its calls work in every tab.
    mounted = syncwirePlugin({ store: follower, client: follower.client });
    alpine.plugin(mounted);
    if (!alpineStarted) alpine.start();
    alpineStarted = true;
    const shown = async () => {
      await flush();
      await alpine.nextTick();
      return [text('v'), text('role'), text('mode')];
    };
    expect(await shown()).toEqual(['1', 'follower', 'HEALTHY']);
    await tabs.a.push(3, { v: 2 });
    await tabs.settle();
    expect(await shown()).toEqual(['2', 'follower', 'HEALTHY']);
    await tabs.closeLeader();
    // Its own store now, not connected yet: the mode shown is that store's, not the mirror's.
    expect(follower.mode).not.toBe('HEALTHY');
    expect(await shown()).toEqual(['2', 'leader', follower.mode]);
    await tabs.b.serve({ v: 3 });
    expect(await shown()).toEqual(['3', 'leader', 'HEALTHY']);
    tabs.dispose();
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
