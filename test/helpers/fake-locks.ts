import type { LocksLike } from '../../src/tabs/election';

interface Entry {
  tab: string;
  callback: (lock: unknown) => Promise<void>;
  resolve: (value: unknown) => void;
  reject: (reason: Error) => void;
  signal: AbortSignal;
}

/**
 * Web Locks as the spec has them, for many tabs in one test: exclusive locks granted in request
 * order, held until the callback's promise settles, released by the browser when a tab closes
 * or crashes (its queued requests vanish with it, their promises never settle), a queued
 * request leaving the queue when its signal aborts, and `steal`.
 */
export function createFakeLocks() {
  const holders = new Map<string, Entry>();
  const queues = new Map<string, Entry[]>();
  const closed = new Set<string>();
  const queueOf = (name: string) => queues.get(name) ?? queues.set(name, []).get(name)!;
  const abortError = () => new DOMException('The request was aborted.', 'AbortError');
  // An abort rejects with the signal's reason, whatever it is (the spec's behaviour).
  const reasonOf = (signal: AbortSignal) => (signal.reason ?? abortError()) as Error;

  // Granted from a microtask, as a browser grants from a task: never inside request().
  const grant = (name: string) =>
    queueMicrotask(() => {
      if (holders.has(name)) return;
      const entry = queueOf(name).shift();
      if (!entry) return;
      holders.set(name, entry);
      let held: Promise<void>;
      try {
        held = Promise.resolve(entry.callback({ name, mode: 'exclusive' }));
      } catch (e) {
        held = Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
      held.then(
        (v) => settle(name, entry, () => entry.resolve(v)),
        (e: unknown) => settle(name, entry, () => entry.reject(e as Error)),
      );
    });
  const settle = (name: string, entry: Entry, done: () => void) => {
    if (holders.get(name) !== entry) return; // stolen or its tab closed: already gone
    holders.delete(name);
    done();
    grant(name);
  };

  return {
    /** The lock manager of tab `tab`. */
    forTab(tab: string): LocksLike {
      return {
        request(name, options, callback) {
          return new Promise((resolve, reject) => {
            if (closed.has(tab)) return; // a closed page runs nothing
            const { signal } = options;
            if (signal.aborted) return reject(reasonOf(signal));
            const entry: Entry = { tab, callback, resolve, reject, signal };
            queueOf(name).push(entry);
            signal.addEventListener('abort', () => {
              const queue = queueOf(name);
              const i = queue.indexOf(entry);
              if (i < 0) return; // granted: an abort no longer applies
              queue.splice(i, 1);
              reject(reasonOf(signal));
            });
            grant(name);
          });
        },
      };
    },
    /** The tab holding `name`, if any. */
    holder: (name: string) => holders.get(name)?.tab,
    /** Requests of `name` waiting in the queue. */
    queued: (name: string) => queueOf(name).map((e) => e.tab),
    /** The tab is closed or crashed: its locks are released, its requests dropped. */
    close(tab: string) {
      closed.add(tab);
      for (const [name, queue] of queues)
        queues.set(
          name,
          queue.filter((e) => e.tab !== tab),
        );
      for (const [name, entry] of holders) {
        if (entry.tab !== tab) continue;
        holders.delete(name);
        grant(name);
      }
    },
    /** Tab `tab` requests `name` with `steal: true`: the holder loses it, `tab` holds it at once. */
    steal(name: string, tab: string) {
      const current = holders.get(name);
      holders.delete(name);
      current?.reject(abortError());
      const entry: Entry = {
        tab,
        callback: () => new Promise<void>(() => {}),
        resolve: () => {},
        reject: () => {},
        signal: new AbortController().signal,
      };
      holders.set(name, entry);
    },
    /** Tab `tab` (holding `name` through steal) lets go of it. */
    releaseStolen(name: string, tab: string) {
      if (holders.get(name)?.tab !== tab) return;
      holders.delete(name);
      grant(name);
    },
  };
}

export type FakeLocks = ReturnType<typeof createFakeLocks>;
