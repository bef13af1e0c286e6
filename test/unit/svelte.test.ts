// syncwire/svelte: the Svelte store contract, consumed by Svelte's own svelte/store (get,
// derived), of Svelte 5 and of Svelte 4 (installed as `svelte4`): both read the same contract.
import * as svelte5 from 'svelte/store';
import type { Readable } from 'svelte/store';

// Loaded by a name TypeScript does not resolve: Svelte 4's declarations declare the module
// 'svelte/compiler' globally, which would shadow Svelte 5's for the whole project. The two
// versions' get and derived take the same contract.
const SVELTE4_STORE = 'svelte4/store';
const svelte4 = (await import(/* @vite-ignore */ SVELTE4_STORE)) as typeof svelte5;
import { describe, expect, it } from 'vitest';
import type { SyncHealth } from '../../src/index';
import { syncHealth, syncState, type SyncReadable } from '../../src/svelte';
import { adapterStore, shallowEqual, type AdapterState } from '../helpers/adapter-store';
import { leaderAndFollower } from '../helpers/shared-tabs';

// Our readables are Svelte readables, checked by the compiler.
const asSvelte = <T>(r: SyncReadable<T>): Readable<T> => r;

it('runs against two different svelte/store builds (Svelte 4 and 5)', async () => {
  const versionOf = async (name: string) =>
    ((await import(/* @vite-ignore */ `${name}/package.json`)) as { version: string }).version;
  expect((await versionOf('svelte')).split('.')[0]).toBe('5');
  expect((await versionOf('svelte4')).split('.')[0]).toBe('4');
  expect(svelte4.derived).not.toBe(svelte5.derived);
});

describe.each([
  ['Svelte 5', svelte5],
  ['Svelte 4', svelte4],
] as const)('%s', (_version, { derived, get }) => {
  describe('syncState (Svelte store contract)', () => {
    it('subscribe calls run at once with the current value, and returns the unsubscriber', async () => {
      const { store, push, active } = await adapterStore();
      const seen: (number | undefined)[] = [];
      const off = syncState(store, (s) => s.a).subscribe((a) => seen.push(a));
      expect(seen).toEqual([1]);
      expect(active()).toBe(1);
      await push({ a: 2, b: 1 });
      expect(seen).toEqual([1, 2]);
      off();
      expect(active()).toBe(0);
      await push({ a: 3, b: 1 });
      expect(seen).toEqual([1, 2]);
    });

    it("svelte/store's get reads the current value and leaves no subscription", async () => {
      const { store, push, harness, active } = await adapterStore();
      const state = syncState(store);
      expect(get(asSvelte(state))).toBe(harness.store.state);
      await push({ a: 7, b: 1 });
      expect(get(asSvelte(syncState(store, (s) => s.a)))).toBe(7);
      expect(active()).toBe(0);
    });

    it('a derived store follows it, and hears only changes of the selection', async () => {
      const { store, push, active } = await adapterStore();
      const a = syncState(store, (s) => s.a);
      const doubled = derived(asSvelte(a), (value) => (value ?? 0) * 2);
      const seen: number[] = [];
      const off = doubled.subscribe((v) => seen.push(v));
      await push({ a: 1, b: 2 }); // a unchanged: derived hears nothing
      await push({ a: 4, b: 2 });
      expect(seen).toEqual([2, 8]);
      off();
      expect(active()).toBe(0);
    });

    it('isEqual keeps the previous selection; the selector runs once per state for all subscribers', async () => {
      const { store, push } = await adapterStore();
      let calls = 0;
      const list = syncState(
        store,
        (s) => {
          calls++;
          return (s.list ?? []).map((n) => n * 10);
        },
        shallowEqual,
      );
      const first: number[][] = [];
      const second: number[][] = [];
      const offs = [list.subscribe((v) => first.push(v)), list.subscribe((v) => second.push(v))];
      expect(calls).toBe(1);
      await push({ a: 2, b: 1, list: [1, 2] }); // new objects, same content
      expect(first).toHaveLength(1);
      expect(calls).toBe(2);
      await push({ a: 2, b: 1, list: [3] });
      expect(first).toEqual([[10, 20], [30]]);
      expect(second).toEqual(first);
      offs.forEach((off) => off());
    });
  });

  describe('syncHealth (Svelte store contract)', () => {
    it('hears a new health only when something in it changes', async () => {
      const { store, harness, push, drop } = await adapterStore();
      const seen: SyncHealth[] = [];
      const off = syncHealth(store).subscribe((h) => seen.push(h));
      expect(seen).toEqual([harness.store.health]);
      await harness.clock.advance(10_000);
      await push({ a: 1, b: 1 }); // a push: counters change
      expect(seen).toHaveLength(2);
      await drop();
      expect(seen.at(-1)!.mode).toBe(harness.store.mode);
      expect(seen.at(-1)!.mode).not.toBe('HEALTHY');
      expect(new Set(seen).size).toBe(seen.length);
      off();
    });

    it("works with svelte/store's derived and get", async () => {
      const { store, drop } = await adapterStore();
      const mode = derived(asSvelte(syncHealth(store)), (h) => h.mode);
      expect(get(mode)).toBe('HEALTHY');
      await drop();
      expect(get(mode)).not.toBe('HEALTHY');
    });
  });

  describe('a shared store (syncwire/tabs)', () => {
    it("a follower tab's stores give the leader's state and its own role, then its new role", async () => {
      const tabs = await leaderAndFollower<AdapterState>({ a: 1, b: 1 }, { initialState: {} });
      const follower = tabs.b.store;
      const a = syncState(follower, (s) => s.a);
      const role = derived(asSvelte(syncHealth(follower)), (h) => h.role);
      const seen: string[] = [];
      const offs = [a.subscribe((v) => seen.push(`a=${v}`)), role.subscribe((r) => seen.push(r))];
      await tabs.a.push(3, { a: 2, b: 1 });
      await tabs.settle();
      await tabs.closeLeader();
      expect(seen).toEqual(['a=1', 'follower', 'a=2', 'leader']);
      await tabs.b.serve({ a: 3, b: 1 });
      expect(get(asSvelte(a))).toBe(3);
      expect(seen.at(-1)).toBe('a=3');
      offs.forEach((off) => off());
      tabs.dispose();
    });
  });
});
