// The demo page: one sync store rendered with Alpine, a fault panel, the
// harness and the event console. Server data is rendered with x-text only.
import Alpine from 'alpinejs';
import { createLogger, createNamespacedClient, createSyncStore } from 'syncwire';
import { createAgentZeroModel } from 'syncwire/agent-zero';
import { syncwirePlugin } from 'syncwire/alpine';
import { persistence } from 'syncwire/persist';
import { createEventConsole } from './console.js';
import { createHarness } from './harness.js';

// One logger for both clients: off until the event console opens.
const logger = createLogger({
  sink: (category, message, details) => Alpine.store('console').record(category, message, details),
});
const params = new URLSearchParams(location.search);
// An Agent Zero build with its HTTP API under /api/ (the server run with ROUTES=api) is a
// matter of settings: /?routes=api.
const api = params.get('routes') === 'api';
const routes = api ? { csrfTokenUrl: '/api/csrf_token' } : {};
const sync = createNamespacedClient('/state_sync', { logger, ...routes });
const test = createNamespacedClient('/dev_websocket_test', { logger, ...routes });
const model = createAgentZeroModel();
const TIMING_KEYS = [
  'handshakeTimeoutMs',
  'pollIntervalMs',
  'connectGraceMs',
  'livenessMs',
  'backoffBaseMs',
  'backoffMaxMs',
  'pollBackoffMaxMs',
  'notifyIntervalMs',
];
// Timing knobs can be tried from the URL, e.g. /?livenessMs=2000&connectGraceMs=1000.
const timing = Object.fromEntries(
  [...params]
    .filter(([k, v]) => TIMING_KEYS.includes(k) && Number(v) >= 0)
    .map(([k, v]) => [k, Number(v)]),
);
const store = createSyncStore({
  client: sync,
  ...model,
  timing,
  pollUrl: api ? '/api/poll' : '/poll',
  persist: persistence({ key: 'syncwire-demo' }),
});

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return json;
}

let timelineId = 0;
const demo = {
  selected: null,
  faults: {},
  timeline: [],
  now: Date.now(),
  health: store.health,
  // Methods read through `this` (Alpine's proxy) so templates re-render when the values change.
  freshness() {
    const h = this.health;
    if (h.mode === 'HEALTHY') return 'live';
    if (h.staleMs === null) return 'no data yet';
    return `${((h.staleMs + (this.now - this.healthAt)) / 1000).toFixed(1)} s old`;
  },
  healthAt: Date.now(),
  selectedName() {
    const chat = Alpine.store('sync').state.contexts.find((c) => c.id === this.selected);
    return chat ? `· ${chat.name}` : '· pick a chat';
  },
  select(id) {
    Alpine.store('demo').selected = id;
    model.selected = id;
    store.resync('chat switched');
  },
  async fault(name, value) {
    const { faults } = await post(
      `/__faults/${name}`,
      value === undefined ? {} : typeof value === 'object' ? value : { value },
    );
    Alpine.store('demo').faults = faults;
  },
  toggle(name) {
    return demo.fault(name, !Alpine.store('demo').faults[name]);
  },
  world: (action, body) => post(`/__world/${action}`, body),
};

Alpine.plugin(syncwirePlugin({ store, client: sync }));
Alpine.store('demo', demo);
Alpine.store('console', createEventConsole(logger));
Alpine.store('harness', createHarness({ store, test, sync, demo: () => Alpine.store('demo') }));

store.subscribe((e) => {
  const d = Alpine.store('demo');
  if (e.type === 'mode') {
    d.timeline.unshift({
      id: ++timelineId,
      at: new Date().toISOString().slice(11, 19),
      to: e.to,
      reason: e.reason,
    });
    d.timeline.splice(30);
  }
});
// Freshness ticks on its own: staleness grows while nothing arrives.
setInterval(() => {
  const d = Alpine.store('demo');
  d.health = store.health;
  d.healthAt = d.now = Date.now();
}, 500);

fetch('/__faults')
  .then((r) => r.json())
  .then((j) => (Alpine.store('demo').faults = j.faults))
  .catch(() => {});
Alpine.start();
// For the end-to-end tests and the curious: the live objects.
window.__syncwire = { store, sync, test, model, Alpine };
