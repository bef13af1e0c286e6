import { createStore, get, set, type UseStore } from 'idb-keyval';

/** Where cached state goes. Async, like IndexedDB; a Map-backed one works for tests. */
export interface PersistStorage {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/** `persist` option of the sync store. */
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
export interface PersistedRecord<S = unknown> {
  format: 1;
  version: number;
  epoch: string | null;
  savedAt: number;
  state: S;
}

/**
 * @internal IndexedDB through idb-keyval. The database is opened on first use,
 * never at import: `createStore` opens it immediately.
 */
export function idbStorage(dbName: string, storeName: string): PersistStorage {
  let store: UseStore | undefined;
  const use = () => {
    if (typeof indexedDB == 'undefined') throw new Error('IndexedDB is not available');
    return (store ??= createStore(dbName, storeName));
  };
  return {
    get: async (key): Promise<unknown> => get(key, use()),
    set: async (key, value) => set(key, value, use()),
  };
}

/** @internal a record we wrote, of the expected version, or undefined. */
export function readRecord<S>(raw: unknown, version: number): PersistedRecord<S> | undefined {
  const r = raw as Partial<PersistedRecord<S>> | null;
  return r && typeof r == 'object' && r.format === 1 && r.version === version && typeof r.savedAt == 'number' && 'state' in r && (r.epoch === null || typeof r.epoch == 'string')
    ? (r as PersistedRecord<S>)
    : undefined;
}
