/**
 * `syncwire/agent-zero`: payload and reducer for Agent Zero's `SnapshotV1`
 * (the `/poll` and `state_push` snapshot), ready to pass to `createSyncStore`.
 *
 * Snapshots carry deltas for logs and notifications (since the request's
 * cursors) and full lists of chats and tasks. The reducer merges them, keeps
 * the cursors the next request resumes from, and asks for a full resync when
 * a stream's identity (`log_guid`, `notifications_guid`) changes.
 */
// A type only, from the core entry, so agent-zero.d.ts refers to the core's declarations.
import type { ReduceContext } from './index';

// Kept local (not imported from the core) so this entry bundles on its own.
function browserTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** One chat as the server lists it. */
export interface ChatContext {
  id: string;
  name?: string;
  created_at?: string;
  no?: number;
  log_guid?: string;
  log_version?: number;
  log_length?: number;
  paused?: boolean;
  last_message?: string;
  type?: string;
  running?: boolean;
  [key: string]: unknown;
}

/** One log item, in its current state. */
export interface LogItem {
  no: number;
  id?: string;
  type?: string;
  heading?: string;
  content?: string;
  kvps?: Record<string, unknown>;
  timestamp?: string | number;
  agentno?: number;
  [key: string]: unknown;
}

/** One notification. */
export interface Notification {
  no?: number;
  id?: string;
  [key: string]: unknown;
}

/**
 * The page's view of the server, built from snapshots: a snapshot's fields, with the log and
 * the notifications accumulated rather than only what changed.
 */
export interface AgentZeroState extends Omit<
  SnapshotV1,
  'deselect_chat' | 'logs' | 'notifications'
> {
  /** The chat's log items so far. */
  logs: LogItem[];
  /** The notifications so far. */
  notifications: Notification[];
  /** True after the server said the requested chat no longer exists. */
  deselected: boolean;
}

/**
 * Agent Zero's snapshot (`SnapshotV1`), as a `state_push` carries it and `/poll` answers: the
 * chats and tasks in full, logs and notifications since the request's cursors. The types say
 * what a server sends; the reducer still reads each field defensively, since nothing on the
 * way checks them.
 */
export interface SnapshotV1 {
  /** The requested chat does not exist (any more): the page should leave it. */
  deselect_chat: boolean;
  /** The chat the log fields belong to ('' for none). */
  context: string;
  contexts: ChatContext[];
  tasks: ChatContext[];
  /** Log items changed since the request's `log_from`. */
  logs: LogItem[];
  log_guid: string;
  log_version: number;
  log_progress: string | number;
  log_progress_active: boolean;
  paused: boolean;
  /** Notifications changed since the request's `notifications_from`. */
  notifications: Notification[];
  notifications_guid: string;
  notifications_version: number;
}

/** What the page asks for: the `state_request` data and the `/poll` body (`SnapshotRequest`). */
export interface SnapshotRequestV1 {
  /** The selected chat (null: none). */
  context: string | null;
  /** Log cursor: the log version the page holds (0: from the start). */
  log_from: number;
  /** Notification cursor (0: from the start). */
  notifications_from: number;
  /** The browser's IANA time zone. */
  timezone: string;
}

/** The model: options for `createSyncStore`, plus chat selection. */
export interface AgentZeroModel {
  initialState: AgentZeroState;
  payload(state: AgentZeroState): SnapshotRequestV1;
  reduce(state: AgentZeroState, snapshot: SnapshotV1, context: ReduceContext): AgentZeroState;
  /** The chat the page shows; requests ask for its log. Call `store.resync()` after changing it. */
  selected: string | null;
}

const list = <T>(v: unknown): T[] =>
  Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as T[]) : [];
const num = (v: unknown, fallback: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;
const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);

/** Upserts `items` into `base` by `key`, keeping `base`'s order and appending new ones. */
function upsert<T extends Record<string, unknown>>(
  base: T[],
  items: T[],
  key: (item: T) => unknown,
): T[] {
  if (!items.length) return base;
  const index = new Map(base.map((item, i) => [key(item), i]));
  const out = base.slice();
  for (const item of items) {
    const at = index.get(key(item));
    if (at === undefined) {
      index.set(key(item), out.length);
      out.push(item);
    } else out[at] = item;
  }
  return out;
}

/**
 * Creates the model. `timezone` defaults to the browser's IANA zone.
 *
 * @example
 * ```ts
 * const model = createAgentZeroModel()
 * const store = createSyncStore({ client, ...model })
 * model.selected = chatId; store.resync('chat switched')
 * ```
 */
export function createAgentZeroModel(options: { timezone?: string } = {}): AgentZeroModel {
  const initialState: AgentZeroState = {
    context: '',
    contexts: [],
    tasks: [],
    logs: [],
    log_guid: '',
    log_version: 0,
    log_progress: 0,
    log_progress_active: false,
    paused: false,
    notifications: [],
    notifications_guid: '',
    notifications_version: 0,
    deselected: false,
  };
  const model: AgentZeroModel = {
    initialState,
    selected: null,
    payload(state) {
      const timezone = options.timezone ?? browserTimezone();
      const sameChat = (model.selected ?? '') === state.context && state.log_guid !== '';
      return {
        context: model.selected,
        // Cursors only mean something for the log they were read from.
        log_from: sameChat ? state.log_version : 0,
        notifications_from: state.notifications_guid ? state.notifications_version : 0,
        timezone,
      };
    },
    reduce(state, raw, ctx) {
      // Read as unknown fields: the typed snapshot is what a server should send, not what it did.
      const snap = raw as unknown as Record<string, unknown>;
      const next: AgentZeroState = {
        ...state,
        contexts: list<ChatContext>(snap.contexts),
        tasks: list<ChatContext>(snap.tasks),
      };
      // Notifications are global: applied whatever chat the snapshot is for.
      const nGuid = str(snap.notifications_guid, state.notifications_guid);
      if (state.notifications_guid && nGuid !== state.notifications_guid) {
        ctx.requestResync('notifications_guid changed');
        return next;
      }
      next.notifications = upsert(
        state.notifications,
        list<Notification>(snap.notifications),
        (n) => n.id ?? n.no,
      );
      next.notifications_guid = nGuid;
      next.notifications_version = num(snap.notifications_version, state.notifications_version);

      if (snap.deselect_chat === true) {
        return {
          ...next,
          context: '',
          logs: [],
          log_guid: '',
          log_version: 0,
          log_progress: 0,
          log_progress_active: false,
          deselected: true,
        };
      }
      const context = str(snap.context, '');
      // A snapshot for a chat the page left: keep the sidebar, skip the log (anchor PR #1636).
      if (context !== (model.selected ?? '')) return next;
      const guid = str(snap.log_guid, '');
      if (context === state.context && state.log_guid && guid !== state.log_guid) {
        ctx.requestResync('log_guid changed');
        return next;
      }
      const sameLog = context === state.context && guid === state.log_guid;
      const logs = upsert(sameLog ? state.logs : [], list<LogItem>(snap.logs), (l) => l.no);
      return {
        ...next,
        context,
        deselected: false,
        logs: sameLog ? logs : logs.sort((a, b) => a.no - b.no),
        log_guid: guid,
        log_version: num(snap.log_version, 0),
        log_progress:
          typeof snap.log_progress === 'string' || typeof snap.log_progress === 'number'
            ? snap.log_progress
            : 0,
        log_progress_active: snap.log_progress_active === true,
        paused: snap.paused === true,
      };
    },
  };
  // Not enumerable: `createSyncStore({ client, ...model })` takes the options, not the chat choice.
  let selected: string | null = null;
  Object.defineProperty(model, 'selected', {
    get: () => selected,
    set(value: string | null) {
      selected = value;
    },
    enumerable: false,
  });
  return model;
}
