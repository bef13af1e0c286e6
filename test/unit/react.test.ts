// syncwire/react against real React (react-dom/client and act), on the fake store harness: React
// 19 in the jsdom and happy-dom projects, React 18 in the react18 project (vitest.config.mjs).
import {
  act,
  version,
  createElement as h,
  Fragment,
  startTransition,
  useLayoutEffect,
  type ReactNode,
} from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { version as domVersion } from 'react-dom';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SyncStore } from '../../src/index';
import { useSyncHealth, useSyncState } from '../../src/react';
import { adapterStore, shallowEqual, type AdapterState } from '../helpers/adapter-store';
import { envelope } from '../helpers/fake-socket';
import { leaderAndFollower } from '../helpers/shared-tabs';

type State = AdapterState;

it('runs on the React its project names, with a react-dom of the same version', () => {
  expect(version.split('.')[0]).toBe(process.env.EXPECT_REACT_MAJOR ?? '19');
  expect(domVersion).toBe(version);
});

beforeAll(() => {
  // Tells React that updates are wrapped in act(), so it flushes them there.
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
});

let root: Root | undefined;
let container: HTMLElement;
afterEach(() => {
  act(() => root?.unmount());
  root = undefined;
  container?.remove();
});
const render = (node: ReactNode) => {
  container = document.body.appendChild(document.createElement('div'));
  root = createRoot(container);
  act(() => root!.render(node));
};

/** {@link adapterStore}, with its pushes inside act(). */
async function healthyStore() {
  const base = await adapterStore();
  return { ...base, push: (snapshot: AdapterState) => act(() => base.push(snapshot)) };
}

describe('useSyncState', () => {
  it('renders the selected state and follows pushes', async () => {
    const { store, push } = await healthyStore();
    const A = () => h('span', null, String(useSyncState(store, (s) => s.a)));
    render(h(A));
    expect(container.textContent).toBe('1');
    await push({ a: 2, b: 1 });
    expect(container.textContent).toBe('2');
  });

  it('without a selector, returns the store state itself', async () => {
    const { store, harness } = await healthyStore();
    let seen: State | undefined;
    const All = () => {
      seen = useSyncState(store);
      return null;
    };
    render(h(All));
    expect(seen).toBe(harness.store.state);
  });

  it('does not render again when a field it does not select changes', async () => {
    const { store, push } = await healthyStore();
    let renders = 0;
    const A = () => {
      renders++;
      return h('span', null, String(useSyncState(store, (s) => s.a)));
    };
    render(h(A));
    const after = renders;
    await push({ a: 1, b: 2 });
    await push({ a: 1, b: 3 });
    expect(renders).toBe(after);
    await push({ a: 5, b: 3 });
    expect(renders).toBe(after + 1);
    expect(container.textContent).toBe('5');
  });

  it('isEqual keeps the previous selection: a selector building a new array renders once', async () => {
    const { store, push } = await healthyStore();
    const seen: number[][] = [];
    const List = () => {
      // An inline selector that builds a new array on every call.
      const list = useSyncState(store, (s) => (s.list ?? []).map((n) => n * 10), shallowEqual);
      seen.push(list);
      return h('span', null, list.join(','));
    };
    render(h(List));
    await push({ a: 2, b: 1, list: [1, 2] }); // same list content, new objects
    expect(seen).toHaveLength(1);
    await push({ a: 2, b: 1, list: [1, 2, 3] });
    expect(seen).toHaveLength(2);
    expect(container.textContent).toBe('10,20,30');
  });

  it('without isEqual, a selector building new objects still settles (no render loop)', async () => {
    const { store, push } = await healthyStore();
    const errors = vi.spyOn(console, 'error');
    let renders = 0;
    const List = () => {
      renders++;
      return h('span', null, useSyncState(store, (s) => [s.a]).join(','));
    };
    render(h(List));
    expect(renders).toBe(1);
    await push({ a: 3, b: 1 });
    expect(renders).toBe(2);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });

  it('unsubscribes on unmount, and later pushes reach nothing', async () => {
    const { store, push, active } = await healthyStore();
    const A = () => h('span', null, String(useSyncState(store, (s) => s.a)));
    render(h(Fragment, null, h(A), h(A)));
    expect(active()).toBe(2);
    act(() => root!.unmount());
    root = undefined;
    expect(active()).toBe(0);
    await push({ a: 9, b: 1 }); // nothing renders into an unmounted root (React would warn)
    expect(container.textContent).toBe('');
  });

  describe('no tearing under concurrent rendering', () => {
    /**
     * A transition renders reader a, then a component that applies a push in the middle of the
     * render (the store's state changes synchronously, its notification comes later), then
     * reader b. Returns what each commit showed, as "a|b".
     */
    async function renderAcrossAPush(read: (store: SyncStore<State>) => number | undefined) {
      const { store, pushNow } = await healthyStore();
      const commits: string[] = [];
      const shown: Record<string, number | undefined> = {};
      const Reader = ({ id }: { id: string }) => {
        const value = read(store);
        useLayoutEffect(() => {
          shown[id] = value;
        });
        return h('span', null, String(value));
      };
      let pushed = false;
      const Pusher = () => {
        if (!pushed) pushNow({ a: 2, b: 2 });
        pushed = true;
        return null;
      };
      const Commit = () => {
        useLayoutEffect(() => {
          commits.push(`${shown.a}|${shown.b}`);
        });
        return null;
      };
      container = document.body.appendChild(document.createElement('div'));
      root = createRoot(container);
      act(() => {
        startTransition(() =>
          root!.render(
            h(Fragment, null, h(Reader, { id: 'a' }), h(Pusher), h(Reader, { id: 'b' }), h(Commit)),
          ),
        );
      });
      return commits;
    }

    it('a naive read of store.state in render tears (the scenario is real)', async () => {
      const commits = await renderAcrossAPush((store) => store.state.a);
      expect(commits).toEqual(['1|2']);
    });

    it('useSyncState never commits two versions: React renders again with the new one', async () => {
      const commits = await renderAcrossAPush((store) =>
        // A hook, called on every render of Reader.
        useSyncState(store, (s) => s.a),
      );
      expect(commits).toEqual(['2|2']);
    });
  });
});

describe('useSyncHealth', () => {
  it('renders once while nothing changes, however often React asks (a stable snapshot)', async () => {
    const { store, harness } = await healthyStore();
    const errors = vi.spyOn(console, 'error');
    let renders = 0;
    const Badge = () => {
      renders++;
      return h('b', null, useSyncHealth(store).mode);
    };
    render(h(Badge));
    expect(container.textContent).toBe('HEALTHY');
    await act(() => harness.clock.advance(10_000));
    expect(renders).toBe(1);
    expect(errors).not.toHaveBeenCalled(); // "getSnapshot should be cached" would be an error
    errors.mockRestore();
  });

  it('renders a health change that comes with neither a state nor a mode change', async () => {
    const { store, harness } = await healthyStore();
    const Dropped = () => h('b', null, String(useSyncHealth(store).counters.pushesDropped));
    render(h(Dropped));
    expect(container.textContent).toBe('0');
    // A duplicate of the push already applied: dropped, counted, nothing else changes.
    await act(async () => {
      harness
        .socket()
        .serverEmit('state_push', envelope({ runtime_epoch: 'E1', seq: 2, snapshot: { a: 9 } }));
      await harness.clock.advance(20);
    });
    expect(harness.store.mode).toBe('HEALTHY');
    expect(container.textContent).toBe('1');
  });

  it('renders the new mode when it changes, and unsubscribes on unmount', async () => {
    const { store, harness, drop, active } = await healthyStore();
    const Badge = () => h('b', null, useSyncHealth(store).mode);
    render(h(Badge));
    await act(() => drop());
    expect(container.textContent).toBe(harness.store.mode);
    expect(container.textContent).not.toBe('HEALTHY');
    act(() => root!.unmount());
    root = undefined;
    expect(active()).toBe(0);
  });
});

describe('a shared store (syncwire/tabs)', () => {
  it("a follower tab renders the leader's state and its own role, and again when it takes over", async () => {
    const tabs = await leaderAndFollower<State>({ a: 1, b: 1 }, { initialState: {} });
    const follower = tabs.b.store;
    let renders = 0;
    const View = () => {
      renders++;
      const a = useSyncState(follower, (s) => s.a);
      const { role, mode } = useSyncHealth(follower);
      return h('span', null, `${a} ${role} ${mode}`);
    };
    render(h(View));
    expect(container.textContent).toBe('1 follower HEALTHY');
    await act(() => tabs.a.push(3, { a: 2, b: 1 }).then(tabs.settle));
    expect(container.textContent).toBe('2 follower HEALTHY');
    const before = renders;
    await act(() => tabs.closeLeader());
    // Its own store now, not connected yet: the state it mirrored stays.
    expect(container.textContent).toBe(`2 leader ${follower.mode}`);
    expect(follower.mode).not.toBe('HEALTHY');
    expect(renders).toBeGreaterThan(before);
    await act(() => tabs.b.serve({ a: 3, b: 1 }));
    expect(container.textContent).toBe('3 leader HEALTHY');
    act(() => root!.unmount());
    root = undefined;
    tabs.dispose();
  });
});
