// syncwire/vue against real Vue 3 (createApp, effect scopes), under jsdom and happy-dom.
import {
  createApp,
  effectScope,
  h,
  isReactive,
  nextTick,
  type App,
  type Component,
  type Ref,
} from 'vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isSyncwireError } from '../../src/index';
import { useSyncHealth, useSyncState } from '../../src/vue';
import { adapterStore, shallowEqual, type AdapterState } from '../helpers/adapter-store';
import { leaderAndFollower } from '../helpers/shared-tabs';

let app: App | undefined;
let container: HTMLElement;
afterEach(() => {
  app?.unmount();
  app = undefined;
  container?.remove();
});
const mount = (component: Component) => {
  container = document.body.appendChild(document.createElement('div'));
  app = createApp(component);
  app.mount(container);
};
/** The store's notification, then Vue's re-render. */
const settle = async (step: Promise<void>) => {
  await step;
  await nextTick();
};

describe('useSyncState (Vue)', () => {
  it('renders the selected state and follows pushes', async () => {
    const { store, push } = await adapterStore();
    mount({
      setup() {
        const a = useSyncState(store, (s) => s.a);
        return () => h('span', String(a.value));
      },
    });
    expect(container.textContent).toBe('1');
    await settle(push({ a: 2, b: 1 }));
    expect(container.textContent).toBe('2');
  });

  it('unwraps in a template like any ref (setup returns it)', async () => {
    const { store, push } = await adapterStore();
    mount({
      template: '<b>{{ a }}</b><i>{{ health.mode }}</i>',
      setup: () => ({ a: useSyncState(store, (s) => s.a), health: useSyncHealth(store) }),
    });
    expect(container.textContent).toBe('1HEALTHY');
    await settle(push({ a: 2, b: 1 }));
    expect(container.textContent).toBe('2HEALTHY');
  });

  it('does not render again when a field it does not select changes', async () => {
    const { store, push } = await adapterStore();
    let renders = 0;
    mount({
      setup() {
        const a = useSyncState(store, (s) => s.a);
        return () => {
          renders++;
          return h('span', String(a.value));
        };
      },
    });
    await settle(push({ a: 1, b: 2 }));
    await settle(push({ a: 1, b: 3 }));
    expect(renders).toBe(1);
    await settle(push({ a: 4, b: 3 }));
    expect(renders).toBe(2);
    expect(container.textContent).toBe('4');
  });

  it('isEqual keeps the previous selection: a selector building a new array renders once', async () => {
    const { store, push } = await adapterStore();
    const seen: number[][] = [];
    mount({
      setup() {
        const list = useSyncState(store, (s) => (s.list ?? []).map((n) => n * 10), shallowEqual);
        return () => {
          seen.push(list.value);
          return h('span', list.value.join(','));
        };
      },
    });
    await settle(push({ a: 2, b: 1, list: [1, 2] }));
    expect(seen).toHaveLength(1);
    await settle(push({ a: 2, b: 1, list: [1, 2, 3] }));
    expect(seen).toHaveLength(2);
    expect(container.textContent).toBe('10,20,30');
  });

  it("gives the store's own object, never a reactive proxy, and refuses writes", async () => {
    const { store, harness } = await adapterStore();
    let state: Readonly<Ref<unknown>> | undefined;
    mount({
      setup() {
        state = useSyncState(store);
        return () => null;
      },
    });
    expect(state!.value).toBe(harness.store.state);
    expect(isReactive(state!.value)).toBe(false);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    (state as Ref<unknown>).value = { a: 99 };
    expect(state!.value).toBe(harness.store.state);
    expect(warn).toHaveBeenCalled(); // Vue's "target is readonly"
    warn.mockRestore();
  });

  it('unsubscribes when the component unmounts', async () => {
    const { store, active } = await adapterStore();
    mount({
      setup() {
        const a = useSyncState(store, (s) => s.a);
        const health = useSyncHealth(store);
        return () => h('span', `${a.value} ${health.value.mode}`);
      },
    });
    expect(active()).toBe(2);
    app!.unmount();
    app = undefined;
    expect(active()).toBe(0);
  });

  it('in an effect scope, unsubscribes when the scope stops', async () => {
    const { store, push, active } = await adapterStore();
    const scope = effectScope();
    const a = scope.run(() => useSyncState(store, (s) => s.a))!;
    await push({ a: 5, b: 1 });
    expect(a.value).toBe(5);
    scope.stop();
    expect(active()).toBe(0);
    await push({ a: 6, b: 1 });
    expect(a.value).toBe(5);
  });

  it('outside any effect scope, throws a VALIDATION_ERROR rather than leak a subscription', async () => {
    const { store, active } = await adapterStore();
    let caught: unknown;
    try {
      useSyncState(store);
    } catch (e) {
      caught = e;
    }
    expect(isSyncwireError(caught, 'VALIDATION_ERROR')).toBe(true);
    expect(() => useSyncHealth(store)).toThrow(/effect scope/);
    expect(active()).toBe(0);
  });
});

describe('useSyncHealth (Vue)', () => {
  it('renders once while nothing changes, and the new mode when it changes', async () => {
    const { store, harness, drop } = await adapterStore();
    let renders = 0;
    mount({
      setup() {
        const health = useSyncHealth(store);
        return () => {
          renders++;
          return h('b', health.value.mode);
        };
      },
    });
    expect(container.textContent).toBe('HEALTHY');
    await settle(harness.clock.advance(10_000));
    expect(renders).toBe(1);
    await settle(drop());
    expect(container.textContent).toBe(harness.store.mode);
    expect(container.textContent).not.toBe('HEALTHY');
    expect(renders).toBe(2);
  });
});

describe('a shared store (syncwire/tabs)', () => {
  it("a follower tab renders the leader's state and its own role, and again when it takes over", async () => {
    const tabs = await leaderAndFollower<AdapterState>({ a: 1, b: 1 }, { initialState: {} });
    const follower = tabs.b.store;
    mount({
      template: '<b>{{ a }}</b> <i>{{ health.role }} {{ health.mode }}</i>',
      setup: () => ({ a: useSyncState(follower, (s) => s.a), health: useSyncHealth(follower) }),
    });
    expect(container.textContent).toBe('1 follower HEALTHY');
    await settle(tabs.a.push(3, { a: 2, b: 1 }).then(tabs.settle));
    expect(container.textContent).toBe('2 follower HEALTHY');
    await settle(tabs.closeLeader());
    // Its own store now, not connected yet: the state it mirrored stays.
    expect(container.textContent).toBe(`2 leader ${follower.mode}`);
    expect(follower.mode).not.toBe('HEALTHY');
    await settle(tabs.b.serve({ a: 3, b: 1 }));
    expect(container.textContent).toBe('3 leader HEALTHY');
    app!.unmount();
    app = undefined;
    tabs.dispose();
  });
});
