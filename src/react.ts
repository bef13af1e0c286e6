/**
 * `syncwire/react`: hooks that read a sync store with React's `useSyncExternalStore` (React 18
 * and 19), so a concurrent render never shows two versions of the store at once (no tearing).
 */
import { useCallback, useRef, useSyncExternalStore } from 'react';
// Types only, from the core entry, so react.d.ts refers to the core's declarations.
import type { SyncHealth, SyncStore } from './index';

/** The last selection handed to React, with the state and selector it came from. */
interface Selection<S, T> {
  state: S;
  selector: (state: S) => T;
  value: T;
}

const whole = <S>(state: S) => state as unknown;

// One subscribe function per store, so React subscribes once per store rather than once per
// render; the store's events only tell React to call getSnapshot again.
const useSubscribe = <S>(store: SyncStore<S>) =>
  useCallback((onChange: () => void) => store.subscribe(onChange), [store]);

/** The store's state; the component renders again when an apply replaces it. */
export function useSyncState<S>(store: SyncStore<S>): S;
/**
 * The store's state, or the part of it `selector` picks. The component renders again only when
 * the selection changes: when `isEqual(previous, next)` holds, it keeps the previous value (the
 * same object), so a selector may build a new array or object on every call. An inline selector
 * is fine; it is called again only when the state or the selector changes.
 *
 * @param selector picks the part of the state to give; called again only when the state or
 *   the selector changes
 * @param isEqual decides whether a new selection differs from the last one. @default Object.is
 * @example
 * ```tsx
 * const chats = useSyncState(store, (s) => s.contexts);
 * const names = useSyncState(store, (s) => s.contexts.map((c) => c.name), shallowEqual);
 * ```
 */
export function useSyncState<S, T>(
  store: SyncStore<S>,
  selector: (state: S) => T,
  isEqual?: (a: T, b: T) => boolean,
): T;
export function useSyncState<S, T>(
  store: SyncStore<S>,
  selector: (state: S) => T = whole as (state: S) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  // A cache of the selection, not render output: React may call getSnapshot often and in
  // renders it throws away, and each call must return the same value for the same state
  // (a new object each time would re-render forever).
  const last = useRef<Selection<S, T> | null>(null);
  const getSnapshot = () => {
    const state = store.state;
    const prev = last.current;
    if (prev && prev.state === state && prev.selector === selector) return prev.value;
    const next = selector(state);
    const value = prev && isEqual(prev.value, next) ? prev.value : next;
    last.current = { state, selector, value };
    return value;
  };
  // The server render reads the same snapshot.
  return useSyncExternalStore(useSubscribe(store), getSnapshot, getSnapshot);
}

/**
 * The store's health ({@link SyncHealth}; a shared store's, from `syncwire/tabs`, with its
 * `role`): the component renders again when the mode, an error, a counter, the source or the
 * role changes, at most once per store notification. `health.staleMs` is computed when read;
 * re-render from a timer to show it ticking.
 *
 * @example
 * ```tsx
 * const { mode, staleMs } = useSyncHealth(store);
 * ```
 */
export function useSyncHealth<S, H extends SyncHealth = SyncHealth>(
  store: SyncStore<S> & { readonly health: H },
): H {
  // store.health is the same frozen object until something in it changes.
  const read = () => store.health;
  return useSyncExternalStore(useSubscribe(store), read, read);
}
