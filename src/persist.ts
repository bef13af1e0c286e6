/**
 * `syncwire/persist`: a warm-start cache for the sync store, in IndexedDB (through
 * idb-keyval) or any async key-value storage. A page that restores its last state from
 * here renders before the network answers, then the store resumes from the cached epoch.
 *
 * @example
 * ```ts
 * import { persistence } from 'syncwire/persist'
 * const store = createSyncStore({ client, persist: persistence({ key: 'a0' }) })
 * ```
 */
import { createStore, get, set, type UseStore } from 'idb-keyval';
import { SyncwireError, type CachedState, type PersistPlugin } from './index';

/** Where cached state goes. Async, like IndexedDB; a Map-backed one works for tests. */
export interface PersistStorage {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/** Options of {@link persistence}. */
export interface PersistOptions {
  /** Record key. @default 'syncwire:state' */
  key?: string;
  /** IndexedDB database and object store (idb-keyval `createStore`). @default 'syncwire', 'state' */
  dbName?: string;
  storeName?: string;
  /** Your state's schema version; a cached record of another version is ignored. @default 1 */
  version?: number;
  /** Minimum time between two writes. @default 1000 */
  throttleMs?: number;
  /** Longest wait for the cache on start before syncing without it. @default 1000 */
  loadTimeoutMs?: number;
  /** Storage to use instead of IndexedDB. */
  storage?: PersistStorage;
}

/** What is written: versioned, with the epoch the state belongs to. */
export interface PersistedRecord<S = unknown> extends CachedState<S> {
  format: 1;
  version: number;
}

/** The message of anything thrown; String() itself throws for some values. */
const text = (e: unknown): string => {
  try {
    return String(e instanceof Error ? e.message : e);
  } catch {
    return 'unknown error';
  }
};

const KNOWN = ['key', 'dbName', 'storeName', 'version', 'throttleMs', 'loadTimeoutMs', 'storage'];

const invalid = (field: string, what: string, got: unknown) =>
  new SyncwireError(
    'VALIDATION_ERROR',
    `persist.${field}: expected ${what}, got ${typeof got === 'string' ? JSON.stringify(got) : got === null ? 'null' : typeof got}`,
    {
      details: { field: `persist.${field}` },
    },
  );

/** Bad options fail when persistence() is called, not at the first read or write. */
function checkOptions(o: PersistOptions): void {
  if (typeof o !== 'object' || Array.isArray(o)) throw invalid('(options)', 'an options object', o);
  const given = o as Record<string, unknown>;
  for (const k of Object.keys(given))
    if (!KNOWN.includes(k))
      throw invalid(k, `one of the known options (${KNOWN.join(', ')})`, 'an unknown option');
  for (const k of ['key', 'dbName', 'storeName']) {
    const v = given[k];
    if (v !== undefined && !(typeof v === 'string' && v)) throw invalid(k, 'a non-empty string', v);
  }
  const v = given.version;
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v)))
    throw invalid('version', 'an integer', v);
  const t = given.throttleMs;
  if (t !== undefined && !(typeof t === 'number' && t >= 0 && t <= 2 ** 31 - 1))
    throw invalid('throttleMs', 'a number >= 0', t);
  const l = given.loadTimeoutMs;
  if (l !== undefined && !(typeof l === 'number' && l > 0 && l <= 2 ** 31 - 1))
    throw invalid('loadTimeoutMs', 'a number > 0', l);
}

/**
 * @internal IndexedDB through idb-keyval. The database is opened on first use,
 * never at import: `createStore` opens it immediately.
 */
function idbStorage(dbName: string, storeName: string): PersistStorage {
  let store: UseStore | undefined;
  const use = () => {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
    return (store ??= createStore(dbName, storeName));
  };
  return {
    get: async (key): Promise<unknown> => get(key, use()),
    set: async (key, value) => set(key, value, use()),
  };
}

/**
 * A warm-start cache for `createSyncStore({ persist })`: the state is written at most
 * once per `throttleMs` (the raw state, never a framework proxy), flushed when the page
 * is hidden or left and when the store stops, and read once on start. A missing, full or
 * broken storage is reported as `STORAGE_ERROR` (once per failure streak) and never stops
 * syncing.
 */
export function persistence<S = unknown>(options: PersistOptions = {}): PersistPlugin<S> {
  const o = options ?? {};
  checkOptions(o);
  const given = o.storage;
  if (
    given !== undefined &&
    !(typeof given?.get == 'function' && typeof given.set === 'function')
  ) {
    throw new SyncwireError(
      'VALIDATION_ERROR',
      'persist.storage: expected an object with get() and set()',
      { details: { field: 'persist.storage' } },
    );
  }
  const storage = given ?? idbStorage(o.dbName ?? 'syncwire', o.storeName ?? 'state');
  const { key = 'syncwire:state', version = 1, throttleMs = 1000, loadTimeoutMs = 1000 } = o;
  // Through the chain: a get() that throws synchronously is a rejection too.
  const read = () => Promise.resolve(key).then((k) => storage.get(k));
  // The first read starts now, not when the store starts: a page that creates its
  // persistence early overlaps opening IndexedDB with loading and starting everything else.
  let early: Promise<unknown> | undefined = read();
  early.catch(() => {}); // its failure is reported by the load() that takes it
  return ({ clock, report }) => {
    let latest: CachedState<S> | undefined;
    let timer: unknown;
    let failing = false;
    let endLoad = () => {};
    const storageError =
      (what: string) =>
      (e: unknown): undefined =>
        void report(
          new SyncwireError('STORAGE_ERROR', `${what} the cached state failed: ${text(e)}`, {
            cause: e,
          }),
        );
    const write = () => {
      timer = undefined;
      const record: PersistedRecord<S> = { format: 1, version, ...(latest as CachedState<S>) };
      // Inside the chain, a storage that throws synchronously (quota, a clone error) is reported like a rejection.
      Promise.resolve(record)
        .then((r) => storage.set(key, r))
        .then(
          () => {
            failing = false;
          },
          (e: unknown) => {
            if (!failing) storageError('saving')(e);
            failing = true;
          },
        );
    };
    return {
      load: () =>
        new Promise<unknown>((resolve, reject) => {
          const t = clock.setTimeout(
            () => reject(new Error(`no answer within ${loadTimeoutMs} ms`)),
            loadTimeoutMs,
          );
          endLoad = () => (clock.clearTimeout(t), resolve(undefined));
          const pending = early ?? read();
          early = undefined;
          pending.then(resolve, reject).finally(() => clock.clearTimeout(t));
        }).then((raw) => {
          const r = raw as Partial<PersistedRecord<S>>;
          return r &&
            typeof r === 'object' &&
            r.format === 1 &&
            r.version === version &&
            typeof r.savedAt === 'number' &&
            'state' in r &&
            (r.epoch === null || typeof r.epoch === 'string')
            ? (r as PersistedRecord<S>)
            : undefined;
        }, storageError('reading')),
      save(record) {
        latest = record;
        timer ??= clock.setTimeout(write, throttleMs);
      },
      flush() {
        endLoad();
        if (timer === undefined) return;
        clock.clearTimeout(timer);
        write();
      },
    };
  };
}
