// A small in-memory copy of Agent Zero's world: chats with append-only logs,
// notifications and progress. Cursors are positions in the append-only
// `updates` lists, exactly like Log.output(start) / NotificationManager.output(start).
import { randomUUID } from 'node:crypto';

/**
 * @typedef {object} LogItem
 * @property {number} no
 * @property {string} id
 * @property {string} type
 * @property {string} heading
 * @property {string} content
 * @property {Record<string, unknown>} kvps
 * @property {number} timestamp seconds since the epoch, like Python's time.time()
 * @property {number} agentno
 *
 * @typedef {object} NotificationItem
 * @property {number} no
 * @property {string} id
 * @property {string} type
 * @property {string} priority
 * @property {string} title
 * @property {string} message
 * @property {string} detail
 * @property {string} timestamp ISO time
 * @property {number} display_time seconds
 * @property {boolean} read
 * @property {string} group
 *
 * @typedef {object} ContextOutput
 * @property {string} id
 * @property {string} name
 * @property {string} created_at
 * @property {number} no
 * @property {string} log_guid
 * @property {number} log_version
 * @property {number} log_length
 * @property {boolean} paused
 * @property {string} last_message
 * @property {string} type
 * @property {boolean} running
 *
 * @typedef {object} Snapshot the bare SnapshotV1: exactly these 13 keys
 * @property {boolean} deselect_chat
 * @property {string} context
 * @property {ContextOutput[]} contexts
 * @property {Record<string, unknown>[]} tasks
 * @property {LogItem[]} logs
 * @property {string} log_guid
 * @property {number} log_version
 * @property {string | number} log_progress
 * @property {boolean} log_progress_active
 * @property {boolean} paused
 * @property {NotificationItem[]} notifications
 * @property {string} notifications_guid
 * @property {number} notifications_version
 *
 * @typedef {object} SnapshotRequest
 * @property {string | null} context
 * @property {number} log_from
 * @property {number} notifications_from
 * @property {string} timezone
 *
 * @typedef {{ kind: string, ctxId?: string }} WorldChange
 *
 * @typedef {object} Chat
 * @property {string} id
 * @property {string} name
 * @property {string} created_at
 * @property {number} no
 * @property {{ guid: string, items: LogItem[], updates: number[] }} log
 * @property {string} progress
 * @property {boolean} progressActive
 * @property {boolean} paused
 * @property {string} last_message
 */

export const SNAPSHOT_KEYS = Object.freeze([
  'deselect_chat',
  'context',
  'contexts',
  'tasks',
  'logs',
  'log_guid',
  'log_version',
  'log_progress',
  'log_progress_active',
  'paused',
  'notifications',
  'notifications_guid',
  'notifications_version',
]);

const TICK_TYPES = ['agent', 'tool', 'response', 'info'];
const TICK_LINES = [
  'Reading the request',
  'Calling a tool',
  'Summarising the result',
  'Checking the answer',
  'Writing the reply',
  'Waiting for input',
];

/**
 * Distinct numbers touched in updates[from:], each once, ascending.
 * @param {number[]} updates
 * @param {number} from
 */
function touchedSince(updates, from) {
  return [...new Set(updates.slice(from))].sort((a, b) => a - b);
}

/**
 * A tiny seeded PRNG (mulberry32), so the ticker is the same on every run (easy to follow in
 * a demo). Shared with the chaos run and the benchmarks.
 * @param {number} seed
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class World {
  /** @param {{ seed?: boolean }} [opts] */
  constructor(opts = {}) {
    /** @type {Map<string, Chat>} */
    this.chats = new Map();
    /** @type {Record<string, unknown>[]} */
    this.tasks = [];
    this.notifications = {
      guid: randomUUID(),
      /** @type {NotificationItem[]} */ items: [],
      /** @type {number[]} */ updates: [],
    };
    /** @type {Set<(change: WorldChange) => void>} */
    this.listeners = new Set();
    this.chatCounter = 0;
    this.tickCount = 0;
    this.random = mulberry32(1);
    /** @type {ReturnType<typeof setInterval> | null} */
    this.ticker = null;
    if (opts.seed !== false) this.seed();
  }

  seed() {
    const research = this.addChat('Research notes');
    this.appendLog(research, {
      type: 'user',
      heading: 'User message',
      content: 'Find three papers on CRDTs.',
    });
    this.appendLog(research, {
      type: 'agent',
      heading: 'Agent 0: searching',
      content: 'Looking through the index.',
    });
    const welcome = this.addChat('Welcome');
    this.appendLog(welcome, { type: 'user', heading: 'User message', content: 'Hello!' });
    this.appendLog(welcome, {
      type: 'agent',
      heading: 'Agent 0: thinking',
      content: 'Planning a reply.',
    });
    this.appendLog(welcome, {
      type: 'response',
      heading: 'Agent 0: response',
      content: 'Hi! How can I help?',
    });
    this.tasks.push({
      id: 'task-1',
      name: 'Nightly digest',
      created_at: new Date().toISOString(),
      no: 0,
      type: 'scheduled',
      task_name: 'Nightly digest',
      uuid: 'task-1',
      state: 'idle',
      prompt: 'Summarise the day',
      last_run: null,
      last_result: null,
      attachments: [],
      context_id: 'task-1',
      schedule: { minute: '0', hour: '2' },
    });
    this.notify('Reference server started', 'info');
  }

  /** @param {(change: WorldChange) => void} listener @returns {() => void} unsubscribe */
  onChange(listener) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** @param {WorldChange} change */
  emit(change) {
    for (const listener of [...this.listeners]) listener(change);
  }

  /** @param {string} ctxId */
  chat(ctxId) {
    const chat = this.chats.get(ctxId);
    if (!chat) throw new Error(`No chat '${ctxId}'`);
    return chat;
  }

  /** @param {string} [name] @returns {string} the new chat id */
  addChat(name) {
    const no = ++this.chatCounter;
    const id = randomUUID().slice(0, 8);
    const now = new Date().toISOString();
    this.chats.set(id, {
      id,
      name: name || `Chat ${no}`,
      created_at: now,
      no,
      log: { guid: randomUUID(), items: [], updates: [] },
      progress: '',
      progressActive: false,
      paused: false,
      last_message: now,
    });
    this.emit({ kind: 'chat_added', ctxId: id });
    return id;
  }

  /**
   * @param {string} ctxId
   * @param {{ type?: string, heading?: string, content?: string, kvps?: Record<string, unknown> }} item
   * @returns {number} the item's `no`
   */
  appendLog(ctxId, item) {
    const chat = this.chat(ctxId);
    const no = chat.log.items.length;
    chat.log.items.push({
      no,
      id: randomUUID(),
      type: item.type ?? 'info',
      heading: item.heading ?? '',
      content: item.content ?? '',
      kvps: item.kvps ?? {},
      timestamp: Date.now() / 1000,
      agentno: 0,
    });
    chat.log.updates.push(no);
    chat.last_message = new Date().toISOString();
    this.emit({ kind: 'log', ctxId });
    return no;
  }

  /**
   * @param {string} ctxId
   * @param {number} no
   * @param {{ type?: string, heading?: string, content?: string, kvps?: Record<string, unknown> }} patch
   */
  updateLog(ctxId, no, patch) {
    const chat = this.chat(ctxId);
    const item = chat.log.items[no];
    if (!item) throw new Error(`No log item ${no} in '${ctxId}'`);
    for (const key of /** @type {const} */ (['type', 'heading', 'content', 'kvps'])) {
      if (patch[key] !== undefined) /** @type {any} */ (item)[key] = patch[key];
    }
    chat.log.updates.push(no);
    this.emit({ kind: 'log_update', ctxId });
  }

  /** @param {string} message @param {string} [type] @returns {number} the notification's `no` */
  notify(message, type = 'info') {
    const n = this.notifications;
    const no = n.items.length;
    n.items.push({
      no,
      id: randomUUID(),
      type,
      priority: 'normal',
      title: type === 'error' ? 'Error' : 'Notice',
      message,
      detail: '',
      timestamp: new Date().toISOString(),
      display_time: 3,
      read: false,
      group: '',
    });
    n.updates.push(no);
    this.emit({ kind: 'notification' });
    return no;
  }

  /** @param {string} ctxId @param {string} text @param {boolean} [active] */
  setProgress(ctxId, text, active = true) {
    const chat = this.chat(ctxId);
    chat.progress = text;
    chat.progressActive = Boolean(active);
    this.emit({ kind: 'progress', ctxId });
  }

  /** A reset chat gets a new log identity, so clients must drop what they had. @param {string} ctxId */
  resetChat(ctxId) {
    const chat = this.chat(ctxId);
    chat.log = { guid: randomUUID(), items: [], updates: [] };
    chat.progress = '';
    chat.progressActive = false;
    this.emit({ kind: 'chat_reset', ctxId });
  }

  /** @param {string} ctxId */
  removeChat(ctxId) {
    if (!this.chats.delete(ctxId)) throw new Error(`No chat '${ctxId}'`);
    this.emit({ kind: 'chat_removed', ctxId });
  }

  /** @param {string} ctxId @param {boolean} paused */
  setPaused(ctxId, paused) {
    this.chat(ctxId).paused = Boolean(paused);
    this.emit({ kind: 'paused', ctxId });
  }

  /** What a process restart does to identities: content survives, every guid changes. */
  simulateRestart() {
    this.notifications.guid = randomUUID();
    for (const chat of this.chats.values()) chat.log.guid = randomUUID();
    this.emit({ kind: 'restart' });
  }

  /** One deterministic step of background activity for the demo. */
  tick() {
    const k = ++this.tickCount;
    if (this.chats.size === 0) this.addChat();
    const chats = [...this.chats.values()];
    const chat = /** @type {Chat} */ (chats[Math.floor(this.random() * chats.length)]);
    const last = chat.log.items[chat.log.items.length - 1];
    if (k % 4 === 0 && last) {
      this.updateLog(chat.id, last.no, { content: `${last.content} (done)` });
    } else {
      this.appendLog(chat.id, {
        type: TICK_TYPES[k % TICK_TYPES.length],
        heading: `Step ${k}`,
        content: TICK_LINES[k % TICK_LINES.length],
      });
    }
    this.setProgress(chat.id, k % 5 === 0 ? '' : `Working on step ${k}...`, k % 5 !== 0);
    if (k % 7 === 0)
      this.notify(`Milestone: ${k} steps in '${chat.name}'`, k % 14 === 0 ? 'success' : 'info');
  }

  /** @param {number} ms */
  startTicker(ms) {
    this.stopTicker();
    if (!(ms > 0)) return;
    this.ticker = setInterval(() => this.tick(), ms);
    this.ticker.unref?.();
  }

  stopTicker() {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  /** @param {Chat} chat @returns {ContextOutput} */
  contextOutput(chat) {
    return {
      id: chat.id,
      name: chat.name,
      created_at: chat.created_at,
      no: chat.no,
      log_guid: chat.log.guid,
      log_version: chat.log.updates.length,
      log_length: chat.log.items.length,
      paused: chat.paused,
      last_message: chat.last_message,
      type: 'user',
      running: chat.progressActive,
    };
  }

  /**
   * Builds the bare SnapshotV1 for an already normalised request (see state-sync.mjs
   * for strict parsing and http-routes.mjs for /poll's coercion).
   * @param {SnapshotRequest} request
   * @returns {Snapshot}
   */
  buildSnapshot(request) {
    const ctxId = typeof request.context === 'string' ? request.context.trim() : '';
    const chat = ctxId ? this.chats.get(ctxId) : undefined;
    const logs = chat
      ? touchedSince(chat.log.updates, request.log_from).map((no) => ({
          .../** @type {LogItem} */ (chat.log.items[no]),
        }))
      : [];
    const n = this.notifications;
    const notifications = touchedSince(n.updates, request.notifications_from).map((no) => ({
      .../** @type {NotificationItem} */ (n.items[no]),
    }));
    const contexts = [...this.chats.values()]
      .sort((a, b) => b.no - a.no)
      .map((c) => this.contextOutput(c));
    return {
      deselect_chat: Boolean(ctxId) && !chat,
      context: chat ? chat.id : '',
      contexts,
      tasks: this.tasks.map((t) => ({ ...t })),
      logs,
      log_guid: chat ? chat.log.guid : '',
      log_version: chat ? chat.log.updates.length : 0,
      log_progress: chat ? chat.progress : 0,
      log_progress_active: chat ? chat.progressActive : false,
      paused: chat ? chat.paused : false,
      notifications,
      notifications_guid: n.guid,
      notifications_version: n.updates.length,
    };
  }
}
