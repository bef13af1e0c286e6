// The syncwire/tabs page (test/e2e/tabs.test.ts, bench/tabs.mjs): a shared store on the
// reference server's /state_sync, Agent Zero model, a warm-start cache in IndexedDB whose
// writes this page counts, and `window.__tabs` for the test: the role, the state shown, the
// moment and state of each subscriber notification, and relayed calls.
//
// URL parameters: `channel` (default 'e2e'), `ctx` (the chat to select, so log lines show).
import { getNamespacedClient } from 'syncwire';
import { createAgentZeroModel } from 'syncwire/agent-zero';
import { persistence } from 'syncwire/persist';
import { createSharedSyncStore } from 'syncwire/tabs';
import { createStore, get, set } from 'idb-keyval';

const params = new URLSearchParams(location.search);
const idb = createStore('syncwire-tabs-e2e', 'state');
/** The clock of every page of one browser: wall time, sub-millisecond. */
const now = () => performance.timeOrigin + performance.now();

/** What a notification saw: enough to tell two states of the server apart. */
const summary = (s) => ({
  nv: s.notifications_version,
  lv: s.log_version,
  logs: s.logs.length,
  chats: s.contexts.length,
});

const tabs = {
  /** Writes this page made to IndexedDB (the store's cache). */
  writes: 0,
  /** Each subscriber notification: when, of what kind, in which role, and the state it saw. */
  notes: [],
  errors: [],
  /** Relayed calls by id: pending until `settled` is set. */
  calls: {},
  store: null,
};
window.__tabs = tabs;

const storage = {
  get: (key) => get(key, idb),
  set: (key, value) => {
    tabs.writes++;
    return set(key, value, idb);
  },
};

const client = getNamespacedClient('/state_sync');
client.onError((e) => tabs.errors.push(`${e.code}: ${e.message}`));
const model = createAgentZeroModel({ timezone: 'UTC' });
model.selected = params.get('ctx') || null;
const store = createSharedSyncStore({
  channel: params.get('channel') ?? 'e2e',
  client,
  ...model,
  persist: persistence({ key: 'e2e', storage, throttleMs: 0 }),
});
tabs.store = store;
// ?raw=1 (the bench's baseline): with each state notification the leader also posts the state's
// summary on a BroadcastChannel of its own, and every page notes when it arrives: the
// platform's hop between two tabs at that moment, without the library.
const raw = params.get('raw') === '1' ? new BroadcastChannel('syncwire-e2e-raw') : null;
tabs.raw = [];
raw?.addEventListener('message', (m) => tabs.raw.push({ at: now(), ...m.data }));
store.subscribe((e) => {
  tabs.notes.push({
    at: now(),
    type: e.type,
    role: store.role,
    mode: store.mode,
    // Only the leader's client connects: with role and mode, the leader's own store is HEALTHY.
    connected: client.isConnected(),
    ...(e.type === 'mode' ? { from: e.from, to: e.to } : {}),
    ...summary(store.state),
  });
  if (raw && e.type === 'state' && store.role === 'leader') raw.postMessage(summary(store.state));
});

/** What the test reads of the page in one go. */
tabs.view = () => ({
  role: store.role,
  sharing: store.sharing,
  mode: store.mode,
  healthRole: store.health.role,
  epoch: store.health.epoch,
  source: store.health.source,
  ...summary(store.state),
  writes: tabs.writes,
  notes: tabs.notes.length,
  errors: tabs.errors,
});

/**
 * Resolves once this page's subscribers have been told of a state with the summary `want`
 * (at once if they were); rejects after `timeoutMs`. No polling: it listens.
 */
tabs.shows = (want, timeoutMs = 10000) =>
  new Promise((resolve, reject) => {
    const same = (s) =>
      s.nv === want.nv && s.lv === want.lv && s.logs === want.logs && s.chats === want.chats;
    if (tabs.notes.some(same)) return resolve(true);
    const off = store.subscribe(() => {
      if (!same(summary(store.state))) return;
      clearTimeout(timer);
      off();
      resolve(true);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`not shown within ${timeoutMs} ms: ${JSON.stringify(want)}`));
    }, timeoutMs);
  });

/** Starts `store.client.request(event, data, options)`; its outcome lands in `calls[id]`. */
let callN = 0;
tabs.call = (event, data, options) => {
  const id = ++callN;
  const record = { role: store.role, settled: null };
  tabs.calls[id] = record;
  store.client.request(event, data, options).then(
    (ack) => (record.settled = { ok: true, at: now(), result: ack.results[0] ?? null }),
    (e) => (record.settled = { ok: false, at: now(), code: e?.code ?? String(e) }),
  );
  return id;
};

tabs.started = store.start().then(() => true);
