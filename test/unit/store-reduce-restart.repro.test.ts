// Found while fixing "only a full snapshot applies after a reduce failure": that rule must not
// outlive the run. A store stopped and started again resumes from its last good state (its
// cursors come from it), so the resumed period's pushes apply; before the fix they were all
// skipped, forever, while the store reported HEALTHY.
import { describe, expect, it } from 'vitest';
import type { CachedState, PersistSession } from '../../src/index';
import { flush } from '../helpers/fake-clock';
import { storeHarness } from '../helpers/store-harness';

type S = { v: number };

describe('a reduce failure, then stop() and start() with a cache', () => {
  it('the resumed period applies its pushes', async () => {
    const cache: PersistSession<S> = {
      load: () => Promise.resolve<CachedState<S>>({ epoch: 'E1', savedAt: 0, state: { v: 1 } }),
      save: () => {},
      flush: () => {},
    };
    const h = storeHarness<S>({
      initialState: { v: 0 },
      persist: () => cache,
      reduce: (_s, snap) => {
        if ((snap as { bad?: boolean }).bad) throw new Error('malformed snapshot');
        return snap as S;
      },
    });
    void h.store.start();
    await flush();
    await h.connect();
    await h.ack();
    await h.push(2, { v: 2 });
    expect(h.store.state).toEqual({ v: 2 });
    await h.push(3, { bad: true }); // REDUCE_ERROR: a full resync is asked for
    expect(h.errors.map((e) => e.code)).toContain('REDUCE_ERROR');
    h.store.stop(); // before the full snapshot came
    void h.store.start();
    await flush();
    await h.ack(); // a resume (the cache has an epoch), not a full sync
    await h.push(2, { v: 5 });
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ v: 5 }); // before the fix: still { v: 2 }, every push skipped
    await h.push(3, { v: 6 });
    expect(h.store.state).toEqual({ v: 6 });
  });
});
