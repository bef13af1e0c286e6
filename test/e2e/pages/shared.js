// What the three adapter pages share: a store on the reference server with default options,
// the chat names selected from its state, and handles for test/e2e/adapters.test.ts.
import { createNamespacedClient, createSyncStore } from 'syncwire';

/** The page's store, not started yet; `window.__store` and `window.__errors` for the test. */
export function pageStore() {
  const client = createNamespacedClient('/state_sync');
  const store = createSyncStore({ client });
  const errors = [];
  client.onError((e) => errors.push(`${e.code}: ${e.message}`));
  // State notifications heard so far: the test waits for one, then counts renders.
  window.__stateEvents = 0;
  const stopCounting = store.subscribe((e) => {
    if (e.type === 'state') window.__stateEvents++;
  });
  Object.assign(window, { __store: store, __client: client, __errors: errors, stopCounting });
  return store;
}

/** The selector every page uses: the names of the chats in the snapshot. */
export const chatNames = (state) =>
  (Array.isArray(state.contexts) ? state.contexts : []).map((chat) => chat.name);

/** Equal lists of names: a new snapshot with the same chats renders nothing. */
export const sameNames = (a, b) => a.length === b.length && a.every((name, i) => name === b[i]);

/** Counts renders of the chat list, so the test can see an unrelated change render nothing. */
export const countRender = () => {
  window.__renders = (window.__renders ?? 0) + 1;
};
