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

// The largest delay a browser timer honours (a 32-bit signed int of ms); longer ones fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a wrong option value is named in a message: a string quoted, anything else by its kind. */
function describe(got: unknown): string {
  if (typeof got === 'string') return JSON.stringify(got);
  if (got === null) return 'null';
  return typeof got;
}

const invalid = (field: string, what: string, got: unknown) =>
  new SyncwireError(
    'VALIDATION_ERROR',
    `persist.${field}: expected ${what}, got ${describe(got)}`,
    {
      details: { field: `persist.${field}` },
    },
  );

/** True for a number of milliseconds in `[min, MAX_TIMER_MS]` (`min` itself excluded if `strict`). */
function isDelay(value: unknown, strict: boolean): boolean {
  if (typeof value !== 'number' || value > MAX_TIMER_MS) return false;
  return strict ? value > 0 : value >= 0;
}

/** Bad options fail when persistence() is called, not at the first read or write. */
function checkOptions(o: PersistOptions): void {
  if (typeof o !== 'object' || Array.isArray(o)) {
    throw invalid('(options)', 'an options object', o);
  }
  const given = o as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.includes(key)) {
      throw invalid(key, `one of the known options (${KNOWN.join(', ')})`, 'an unknown option');
    }
  }
  for (const key of ['key', 'dbName', 'storeName']) {
    const value = given[key];
    if (value !== undefined && !(typeof value === 'string' && value !== '')) {
      throw invalid(key, 'a non-empty string', value);
    }
  }
  const { version, throttleMs, loadTimeoutMs } = given;
  if (version !== undefined && !Number.isInteger(version)) {
    throw invalid('version', 'an integer', version);
  }
  if (throttleMs !== undefined && !isDelay(throttleMs, false)) {
    throw invalid('throttleMs', 'a number >= 0', throttleMs);
  }
  if (loadTimeoutMs !== undefined && !isDelay(loadTimeoutMs, true)) {
    throw invalid('loadTimeoutMs', 'a number > 0', loadTimeoutMs);
  }
}

/** A record read back from storage, if it is one this version of the page wrote. */
function isRecord<S>(raw: unknown, version: number): raw is PersistedRecord<S> {
  if (raw === null || typeof raw !== 'object') return false;
  const record = raw as Partial<PersistedRecord<S>>;
  return (
    record.format === 1 &&
    record.version === version &&
    typeof record.savedAt === 'number' &&
    'state' in record &&
    (record.epoch === null || typeof record.epoch === 'string')
  );
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
  const isStorage = typeof given?.get === 'function' && typeof given.set === 'function';
  if (given !== undefined && !isStorage) {
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
    // Ends a load still waiting (the store stopped): it resolves with no cache.
    let endLoad = () => {};
    const storageError =
      (what: string) =>
      (e: unknown): undefined => {
        const message = `${what} the cached state failed: ${text(e)}`;
        report(new SyncwireError('STORAGE_ERROR', message, { cause: e }));
        return undefined;
      };
    const write = () => {
      timer = undefined;
      const record: PersistedRecord<S> = { format: 1, version, ...(latest as CachedState<S>) };
      // Inside the chain, a storage that throws synchronously (quota, a clone error) is
      // reported like a rejection.
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
          const deadline = clock.setTimeout(
            () => reject(new Error(`no answer within ${loadTimeoutMs} ms`)),
            loadTimeoutMs,
          );
          endLoad = () => {
            clock.clearTimeout(deadline);
            resolve(undefined);
          };
          const pending = early ?? read();
          early = undefined;
          pending.then(resolve, reject).finally(() => clock.clearTimeout(deadline));
        }).then((raw) => (isRecord<S>(raw, version) ? raw : undefined), storageError('reading')),
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
