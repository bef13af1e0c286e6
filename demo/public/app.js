// The demo page: one sync store rendered with Alpine, a fault panel, the
// harness and the event console. Server data is rendered with x-text only.
import Alpine from 'alpinejs';
import { createLogger, createNamespacedClient, createSyncStore } from 'syncwire';
import { createAgentZeroModel } from 'syncwire/agent-zero';
import { syncwirePlugin } from 'syncwire/alpine';
import { persistence } from 'syncwire/persist';
import { createEventConsole } from './console.js';
import { ONE_SHOT, TOGGLED } from './faults.js';
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
// The store's timing knobs can be tried from the URL, e.g. /?livenessMs=2000&connectGraceMs=1000.
const TIMING_KNOBS = [
  'handshakeTimeoutMs',
  'pollIntervalMs',
  'connectGraceMs',
  'livenessMs',
  'backoffBaseMs',
  'backoffMaxMs',
  'pollBackoffMaxMs',
  'notifyIntervalMs',
];
const timing = Object.fromEntries(
  [...params]
    .filter(([k, v]) => TIMING_KNOBS.includes(k) && Number(v) >= 0)
    .map(([k, v]) => [k, Number(v)]),
);
const options = {
  client: sync,
  ...model,
  timing,
  pollUrl: api ? '/api/poll' : '/poll',
  persist: persistence({ key: 'syncwire-demo' }),
};
// /?tabs=shared: the tabs of this browser share one store (syncwire/tabs). The leader tab
// connects; the others follow it, and their resyncs and client calls go through it.
const shared = params.get('tabs') === 'shared';
const store = shared
  ? (await import('syncwire/tabs')).createSharedSyncStore({
      ...options,
      channel: api ? 'syncwire-demo-api' : 'syncwire-demo',
    })
  : createSyncStore(options);
// The chat shown is one for all the shared tabs, as the state is: a tab that picks one tells the
// others, and the tab that leads asks for it. A follower takes the chat its state is for, so
// it asks for that one if it comes to lead.
const chats = shared ? new BroadcastChannel('syncwire-demo-chat') : null;
const choose = (id) => {
  Alpine.store('demo').selected = id;
  model.selected = id;
};

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
// The state viewer shows at most this much JSON: a long log would make the page crawl.
const STATE_VIEW_CHARS = 20000;

/** "handshake failed: HANDSHAKE_FAILED" says it twice: the code only when it adds something. */
function tidyReason(reason, lastError) {
  const m = /^(.*?):\s*([A-Z][A-Z0-9_]+)$/.exec(reason);
  if (!m) return reason;
  const [, text, code] = m;
  const repeats = text.toLowerCase().includes(code.toLowerCase().replaceAll('_', ' '));
  const message = lastError?.code === code ? `: ${lastError.message}` : '';
  return `${text}${repeats ? '' : ` (${code})`}${message}`;
}

const demo = {
  selected: null,
  faults: {},
  timeline: [],
  now: Date.now(),
  health: store.health,
  // /?tabs=shared: how the tabs share (locks, broadcast or none); null: not shared.
  sharing: shared ? store.sharing : null,
  // What the store runs on (defaults, the URL's knobs, its clamps): the countdowns use it.
  timing: store.timing,
  // What the page has seen of the store's timers (see observe()).
  seen: { proofAt: Date.now(), handshakeAt: null, disconnectedAt: null },
  // The last one-shot fault pressed, with the health at that moment (to tell when it is done).
  shot: null,
  // Why seq went back, once it did (a new period or epoch numbers its pushes from the start).
  seqNote: '',
  stateOpen: false,
  stateText: '',
  // Methods read through `this` (Alpine's proxy) so templates re-render when the values change.
  /** HEALTHY is live by definition; any other mode shows how old the state is (never "live"). */
  freshness() {
    const h = this.health;
    // The badge's own mode, so the two never disagree for a tick.
    if (Alpine.store('sync').mode === 'HEALTHY') return 'live';
    if (h.staleMs === null) return 'no data yet';
    return `state ${(h.staleMs / 1000).toFixed(1)} s old`;
  },
  counters() {
    const c = this.health.counters;
    return [
      ['applied', c.pushesApplied],
      ['dropped', c.pushesDropped],
      ['resyncs', c.resyncs],
      ['polls', c.polls],
      ['handshakes', c.handshakes],
    ];
  },
  lastError() {
    const e = this.health.lastError;
    return e ? `${e.code}: ${e.message}` : 'none';
  },
  /** One line per fault in action: what it does, what to expect, and the timer it waits on. */
  notes() {
    const view = {
      mode: this.health.mode,
      now: this.now,
      timing: this.timing,
      auditAt: this.auditAt(),
      handshakeAt: this.seen.handshakeAt ?? this.now,
      disconnectedAt: this.seen.disconnectedAt,
    };
    const notes = Object.keys(TOGGLED)
      .filter((name) => this.faults[name])
      .map((name) => ({ name, ...TOGGLED[name](view) }));
    if (this.shot) {
      const f = ONE_SHOT[this.shot.name];
      const done = f.done(this.health, this.shot.before);
      notes.unshift({
        name: this.shot.name,
        does: f.does,
        expect: done ? f.seen : f.expect,
        done,
      });
    }
    return notes;
  },
  /** The liveness audit is due livenessMs after the last proof; an audit that proves nothing re-arms a whole window later. */
  auditAt() {
    const window = this.timing.livenessMs;
    let at = this.seen.proofAt + window;
    while (at < this.now) at += window;
    return at;
  },
  selectedName() {
    const chat = Alpine.store('sync').state.contexts.find((c) => c.id === this.selected);
    return chat ? `· ${chat.name}` : '· pick a chat';
  },
  select(id) {
    choose(id);
    chats?.postMessage(id);
    if (!shared || store.role === 'leader') store.resync('chat switched');
  },
  async fault(name, value) {
    const d = Alpine.store('demo');
    if (ONE_SHOT[name]) d.shot = { name, before: store.health };
    const { faults } = await post(
      `/__faults/${name}`,
      value === undefined ? {} : typeof value === 'object' ? value : { value },
    );
    d.faults = faults;
  },
  toggle(name) {
    return demo.fault(name, !Alpine.store('demo').faults[name]);
  },
  toggleState(open) {
    const d = Alpine.store('demo');
    d.stateOpen = open;
    d.stateText = open ? stateJson() : '';
  },
  world: (action, body) => post(`/__world/${action}`, body),
};

/** store.state as JSON, cut at STATE_VIEW_CHARS (the store's own object: read, never written). */
function stateJson() {
  const text = JSON.stringify(store.state, null, 2);
  if (text.length <= STATE_VIEW_CHARS) return text;
  return `${text.slice(0, STATE_VIEW_CHARS)}\n… ${text.length - STATE_VIEW_CHARS} more characters`;
}

/**
 * Reads the store's health and notes what it implies: when the push channel was last
 * proved, when a handshake went out, when the socket dropped, and why seq went back.
 */
function observe() {
  const d = Alpine.store('demo');
  const prev = d.health;
  const h = store.health;
  const now = Date.now();
  if (h.counters.pushesApplied > prev.counters.pushesApplied) d.seen.proofAt = now;
  if (h.mode === 'HEALTHY' && prev.mode !== 'HEALTHY') d.seen.proofAt = now;
  if (h.counters.handshakes > prev.counters.handshakes) d.seen.handshakeAt = now;
  if (!h.connected) d.seen.disconnectedAt ??= now;
  else d.seen.disconnectedAt = null;
  if (h.lastSeq < prev.lastSeq || (h.epoch !== prev.epoch && prev.epoch !== null)) {
    const at = new Date(now).toISOString().slice(11, 19);
    d.seqNote =
      h.epoch !== prev.epoch
        ? `${at} seq ${prev.lastSeq} → ${h.lastSeq}: new epoch (the server restarted or changed its run), pushes are numbered afresh`
        : `${at} seq ${prev.lastSeq} → ${h.lastSeq}: a resync started a new push period, numbered from its start`;
  }
  d.health = h;
  d.now = now;
  if (shared) d.sharing = store.sharing;
}

if (chats)
  chats.onmessage = ({ data: id }) => {
    choose(id);
    if (store.role === 'leader') store.resync('chat switched in another tab');
  };

// A shared store's client works in every tab: a follower's calls go through the leader.
Alpine.plugin(syncwirePlugin({ store, client: shared ? store.client : sync }));
Alpine.store('demo', demo);
Alpine.store('console', createEventConsole(logger));
Alpine.store('harness', createHarness({ store, test, sync, demo: () => Alpine.store('demo') }));

store.subscribe((e) => {
  const d = Alpine.store('demo');
  observe();
  if (e.type === 'mode') {
    d.timeline.unshift({
      id: ++timelineId,
      at: new Date().toISOString().slice(11, 19),
      to: e.to,
      reason: tidyReason(e.reason, store.health.lastError),
    });
    d.timeline.splice(30);
  }
  // Serialised only while the viewer is open: a closed viewer costs nothing.
  if (e.type === 'state' && d.stateOpen) d.stateText = stateJson();
  const context = store.state.context || null;
  if (shared && store.role === 'follower' && context !== model.selected) choose(context);
});
// Freshness and countdowns tick on their own: staleness grows while nothing arrives.
setInterval(observe, 250);

// The log follows its newest item, unless the reader scrolled up to read an older one.
const log = document.getElementById('log');
let following = true;
log.addEventListener('scroll', () => {
  following = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
});
new MutationObserver(() => {
  if (following) log.scrollTop = log.scrollHeight;
}).observe(log, { childList: true, subtree: true, characterData: true });

fetch('/__faults')
  .then((r) => r.json())
  .then((j) => (Alpine.store('demo').faults = j.faults))
  .catch(() => {});
Alpine.start();
// For the end-to-end tests and the curious: the live objects.
window.__syncwire = { store, sync, test, model, Alpine };
