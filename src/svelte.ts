/**
 * `syncwire/svelte`: a sync store's state and health as Svelte stores. They implement the store
 * contract (`subscribe(run)` calls `run` with the current value at once, then on each change,
 * and returns the unsubscriber), so Svelte 4 and 5 (`$state` in markup, `get`, `derived`,
 * `fromStore`) consume them, and this entry imports nothing from Svelte.
 */
// Types only, from the core entry, so svelte.d.ts refers to the core's declarations.
import type { SyncHealth, SyncStore } from './index';

/** A readable store in Svelte's store contract. */
export interface SyncReadable<T> {
  /**
   * Calls `run` with the current value at once, then with each new value; returns the
   * unsubscriber. Each call is its own subscription to the sync store.
   */
  subscribe(run: (value: T) => void): () => void;
}

/** A readable over `read()`: subscribers hear a value only when `isEqual` says it changed. */
function readableOf<S, T>(
  store: SyncStore<S>,
  read: () => T,
  isEqual: (a: T, b: T) => boolean,
): SyncReadable<T> {
  return {
    subscribe(run) {
      let value = read();
      run(value);
      return store.subscribe(() => {
        const next = read();
        if (isEqual(value, next)) return;
        value = next;
        run(value);
      });
    },
  };
}

const whole = <S>(state: S) => state as unknown;

/** The store's state as a readable store (see the overload with a selector). */
export function syncState<S>(store: SyncStore<S>): SyncReadable<S>;
/**
 * The store's state, or the part of it `selector` picks, as a readable store. Subscribers hear
 * a new value when `isEqual(previous, next)` does not hold; the selector runs once per state
 * change, however many subscribers there are. The value is the store's own object: read it,
 * never write it.
 *
 * @param selector picks the part of the state to give; called again only when the state changes
 * @param isEqual decides whether a new selection differs from the last one. @default Object.is
 * @example
 * ```html
 * <script>
 *   const chats = syncState(store, (s) => s.contexts);
 * </script>
 * {#each $chats as chat (chat.id)}<li>{chat.name}</li>{/each}
 * ```
 */
export function syncState<S, T>(
  store: SyncStore<S>,
  selector: (state: S) => T,
  isEqual?: (a: T, b: T) => boolean,
): SyncReadable<T>;
export function syncState<S, T>(
  store: SyncStore<S>,
  selector: (state: S) => T = whole as (state: S) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): SyncReadable<T> {
  let memo: { state: S; value: T } | undefined;
  const read = () => {
    const state = store.state;
    if (memo === undefined || memo.state !== state) memo = { state, value: selector(state) };
    return memo.value;
  };
  return readableOf(store, read, isEqual);
}

/**
 * The store's health ({@link SyncHealth}; a shared store's, from `syncwire/tabs`, with its
 * `role`) as a readable store: a new value when something in it changes (read on each store
 * notification). `staleMs` is computed when read.
 *
 * @example
 * ```html
 * <span>{$health.mode}</span>
 * ```
 */
export function syncHealth<S, H extends SyncHealth = SyncHealth>(
  store: SyncStore<S> & { readonly health: H },
): SyncReadable<H> {
  // store.health is the same frozen object until something changes: identity says it all.
  return readableOf(store, () => store.health, Object.is);
}
