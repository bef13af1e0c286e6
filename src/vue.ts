/**
 * `syncwire/vue`: composables that give a sync store's state and health to Vue 3 as read-only
 * refs, subscribed for as long as the component (or effect scope) that called them lives.
 */
import { getCurrentScope, onScopeDispose, shallowReadonly, shallowRef, type ShallowRef } from 'vue';
import { SyncwireError, type SyncHealth, type SyncStore } from './index';

/** A ref the store writes and the page only reads. */
export type SyncRef<T> = Readonly<ShallowRef<T>>;

const whole = <S>(state: S) => state as unknown;

// The subscription ends with the scope; without one nothing would ever end it, so that is an
// error here rather than a leak found later.
const inScope = (name: string) => {
  if (!getCurrentScope())
    throw new SyncwireError(
      'VALIDATION_ERROR',
      `${name}() needs an active effect scope: call it in setup(), or inside effectScope().run()`,
    );
};

/** The store's state as a read-only shallow ref (see the overload with a selector). */
export function useSyncState<S>(store: SyncStore<S>): SyncRef<S>;
/**
 * The store's state, or the part of it `selector` picks, as a read-only shallow ref: the value
 * is the store's own object (never a deep reactive proxy of it), replaced when the state changes
 * and `isEqual(previous, next)` does not hold. Call it in `setup()` or an effect scope; it
 * unsubscribes when that scope ends.
 *
 * @param selector picks the part of the state to give; called again only when the state changes
 * @param isEqual decides whether a new selection differs from the last one. @default Object.is
 * @example
 * ```ts
 * const chats = useSyncState(store, (s) => s.contexts); // chats.value in script, chats in templates
 * ```
 */
export function useSyncState<S, T>(
  store: SyncStore<S>,
  selector: (state: S) => T,
  isEqual?: (a: T, b: T) => boolean,
): SyncRef<T>;
export function useSyncState<S, T>(
  store: SyncStore<S>,
  selector: (state: S) => T = whole as (state: S) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): SyncRef<T> {
  inScope('useSyncState');
  let state = store.state;
  const ref = shallowRef(selector(state)) as ShallowRef<T>;
  const off = store.subscribe(() => {
    // Mode changes leave the state as it was: nothing to select again.
    if (store.state === state) return;
    state = store.state;
    const next = selector(state);
    if (!isEqual(ref.value, next)) ref.value = next;
  });
  onScopeDispose(off);
  return shallowReadonly(ref);
}

/**
 * The store's health ({@link SyncHealth}; a shared store's, from `syncwire/tabs`, with its
 * `role`) as a read-only shallow ref, replaced when something in it changes (read on each store
 * notification). `staleMs` is computed when read. Call it in `setup()` or an effect scope; it
 * unsubscribes when that scope ends.
 *
 * @example
 * ```ts
 * const health = useSyncHealth(store); // {{ health.mode }} in a template
 * ```
 */
export function useSyncHealth<S, H extends SyncHealth = SyncHealth>(
  store: SyncStore<S> & { readonly health: H },
): SyncRef<H> {
  inScope('useSyncHealth');
  const ref = shallowRef(store.health);
  // store.health is the same frozen object until something changes: assigning it again does
  // not trigger Vue.
  onScopeDispose(store.subscribe(() => (ref.value = store.health)));
  return shallowReadonly(ref);
}
