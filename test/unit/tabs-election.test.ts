import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { isSyncwireError, type SyncwireError } from '../../src/index';
import { openTabChannel } from '../../src/tabs/channel';
import { createElection, LOCK_PREFIX, type Election, type TabRole } from '../../src/tabs/election';
import { createBroadcastElection } from '../../src/tabs/election-bc';
import { createFakeBus } from '../helpers/fake-bus';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { createFakeLocks } from '../helpers/fake-locks';

const LOCK = LOCK_PREFIX + 'app';

/** Tab `tab` joins the election of 'app', recording its roles. */
const join = (locks: ReturnType<typeof createFakeLocks>, tab: string) => {
  const roles: TabRole[] = [];
  const errors: SyncwireError[] = [];
  const election = createElection({
    name: 'app',
    locks: locks.forTab(tab),
    onError: (e) => errors.push(e),
  });
  election.onRole((r) => roles.push(r));
  return { election, roles, errors };
};

describe('createElection', () => {
  it('leads when no other tab holds the lock, and not before the grant', async () => {
    const locks = createFakeLocks();
    const a = join(locks, 'a');
    expect(a.election.role).toBe('follower');
    await flush();
    expect(a.election.role).toBe('leader');
    expect(a.roles).toEqual(['leader']);
    expect(locks.holder(LOCK)).toBe('a');
  });

  it('a second tab waits in the queue and leads when the leader tab closes or crashes', async () => {
    const locks = createFakeLocks();
    join(locks, 'a');
    await flush();
    const b = join(locks, 'b');
    await flush();
    expect(b.election.role).toBe('follower');
    expect(locks.queued(LOCK)).toEqual(['b']);
    locks.close('a'); // the browser releases a closed or crashed tab's locks
    await flush();
    expect(b.election.role).toBe('leader');
    expect(b.roles).toEqual(['leader']);
    expect(locks.holder(LOCK)).toBe('b');
  });

  it('dispose() of the leader releases the lock to the next waiter, and is not announced', async () => {
    const locks = createFakeLocks();
    const a = join(locks, 'a');
    await flush();
    const b = join(locks, 'b');
    await flush();
    a.election.dispose();
    expect(a.election.role).toBe('follower');
    await flush();
    expect(b.election.role).toBe('leader');
    expect(a.roles).toEqual(['leader']);
    expect(a.errors).toEqual([]);
    a.election.dispose(); // idempotent
  });

  it('dispose() of a follower leaves the queue: no request is left behind', async () => {
    const locks = createFakeLocks();
    const a = join(locks, 'a');
    await flush();
    const b = join(locks, 'b');
    await flush();
    b.election.dispose();
    expect(locks.queued(LOCK)).toEqual([]);
    a.election.dispose();
    await flush();
    expect(locks.holder(LOCK)).toBeUndefined();
    expect(b.roles).toEqual([]);
    expect(b.errors).toEqual([]); // the abort is ours, not a failure
  });

  it('disposed before the grant, it never leads and the lock is free', async () => {
    const locks = createFakeLocks();
    const a = join(locks, 'a');
    a.election.dispose();
    await flush();
    expect(a.roles).toEqual([]);
    expect(locks.holder(LOCK)).toBeUndefined();
    expect(locks.queued(LOCK)).toEqual([]);
  });

  it('a grant that races the abort is handed straight on', async () => {
    let grant!: (lock: unknown) => Promise<void>;
    // A lock manager that grants after the abort (the abort arrived too late to dequeue).
    const election = createElection({
      name: 'app',
      locks: {
        request: (_name, _options, callback) => {
          grant = callback;
          return new Promise(() => {});
        },
      },
    });
    const roles: TabRole[] = [];
    election.onRole((r) => roles.push(r));
    election.dispose();
    await expect(grant({})).resolves.toBeUndefined();
    expect(roles).toEqual([]);
    expect(election.role).toBe('follower');
  });

  it('a role listener may dispose the election: the lock is released', async () => {
    const locks = createFakeLocks();
    const election = createElection({ name: 'app', locks: locks.forTab('a') });
    election.onRole(() => election.dispose());
    await flush();
    await flush();
    expect(locks.holder(LOCK)).toBeUndefined();
  });

  it('a stolen lock makes the leader a follower that queues again, and leads again later', async () => {
    const locks = createFakeLocks();
    const a = join(locks, 'a');
    await flush();
    locks.steal(LOCK, 'x');
    await flush();
    expect(a.roles).toEqual(['leader', 'follower']);
    expect(locks.queued(LOCK)).toEqual(['a']);
    locks.releaseStolen(LOCK, 'x');
    await flush();
    expect(a.roles).toEqual(['leader', 'follower', 'leader']);
    expect(a.errors).toEqual([]);
  });

  it('a lock manager that fails is reported (HANDLER_ERROR) and leaves a follower', async () => {
    const onError = vi.fn();
    const election = createElection({
      name: 'app',
      locks: { request: () => Promise.reject(new DOMException('opaque origin', 'SecurityError')) },
      onError,
    });
    await flush();
    expect(election.role).toBe('follower');
    expect(isSyncwireError(election.error, 'HANDLER_ERROR')).toBe(true);
    expect(election.error?.message).toContain('opaque origin');
    expect(onError).toHaveBeenCalledWith(election.error);
  });

  it('a role listener that throws is reported, and the others still hear', async () => {
    const locks = createFakeLocks();
    const errors: SyncwireError[] = [];
    const election = createElection({
      name: 'app',
      locks: locks.forTab('a'),
      onError: (e) => errors.push(e),
    });
    const heard: TabRole[] = [];
    election.onRole(() => {
      throw new Error('boom');
    });
    election.onRole((r) => heard.push(r));
    await flush();
    expect(heard).toEqual(['leader']);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['HANDLER_ERROR', 'onRole listener: boom'],
    ]);
  });

  it('checks its options', () => {
    const locks = createFakeLocks().forTab('a');
    expect(() => createElection({ name: '', locks })).toThrow(/name: expected a non-empty string/);
    expect(() => createElection({ name: 'a', locks: {} as never })).toThrow(/locks: expected/);
    const saved = Object.getOwnPropertyDescriptor(globalThis.navigator, 'locks');
    Object.defineProperty(globalThis.navigator, 'locks', { value: undefined, configurable: true });
    try {
      expect(() => createElection({ name: 'a' })).toThrow(/navigator\.locks/);
    } finally {
      if (saved) Object.defineProperty(globalThis.navigator, 'locks', saved);
      else delete (globalThis.navigator as { locks?: unknown }).locks;
    }
  });
});

describe('createElection, model: tabs open, close, crash and leave in any order', () => {
  type Op = { op: 'open' } | { op: 'close' | 'dispose'; which: number } | { op: 'settle' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.constant({ op: 'open' as const }), weight: 3 },
    {
      arbitrary: fc.record({
        op: fc.constantFrom('close' as const, 'dispose' as const),
        which: fc.nat(20),
      }),
      weight: 2,
    },
    { arbitrary: fc.constant({ op: 'settle' as const }), weight: 2 },
  );

  it('never two leaders; once settled, exactly one live tab leads when any is open', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40, size: 'max' }), async (ops) => {
        const locks = createFakeLocks();
        const live: { id: string; election: Election }[] = [];
        let next = 0;
        const leaders = () => live.filter((t) => t.election.role === 'leader');
        for (const o of ops) {
          if (o.op === 'open') {
            const id = `t${next++}`;
            live.push({ id, election: createElection({ name: 'app', locks: locks.forTab(id) }) });
          } else if (o.op === 'settle') {
            await flush();
          } else if (live.length) {
            const [tab] = live.splice(o.which % live.length, 1);
            if (o.op === 'close') locks.close(tab!.id);
            else tab!.election.dispose();
          }
          // Safety at every step: at most one tab believes it leads, and it holds the lock.
          expect(leaders().length).toBeLessThanOrEqual(1);
          for (const t of leaders()) expect(locks.holder(LOCK)).toBe(t.id);
        }
        await flush();
        await flush();
        // Liveness: a lock that is free while tabs wait would be a channel with no leader.
        expect(leaders().length).toBe(live.length ? 1 : 0);
        expect(locks.queued(LOCK).length).toBe(Math.max(0, live.length - 1));
      }),
      { numRuns: 200 },
    );
  });
});

describe('createBroadcastElection', () => {
  it('two leaders that hear each other at last: the lower one steps down, and the heartbeats stop there', async () => {
    // Found by the tabs model: both answered every heartbeat of the other with their own, for
    // ever, and neither stepped down.
    const clock = createFakeClock();
    const bus = createFakeBus({ manual: true });
    const tabs = ['A', 'B'].map((id) => {
      const channel = openTabChannel({ channel: bus.open('app'), name: 'app', tabId: id });
      const election = createBroadcastElection({ name: 'app', channel, tabId: id, clock });
      return { id, election };
    });
    // Nothing gets through: each bids and leads.
    for (let i = 0; i < 10; i++) {
      await clock.advance(100);
      bus.inFlight.length = 0;
    }
    expect(tabs.map((t) => t.election.role)).toEqual(['leader', 'leader']);
    await clock.advance(250); // a heartbeat of each, now delivered
    expect(bus.inFlight.length).toBeGreaterThan(0);
    let delivered = 0;
    while (bus.inFlight.length && delivered < 1000) {
      bus.deliver(0);
      delivered++;
    }
    expect(delivered).toBeLessThan(10);
    expect(tabs.filter((t) => t.election.role === 'leader')).toHaveLength(1);
    await clock.advance(2000);
    while (bus.inFlight.length) bus.deliver(0);
    expect(tabs.filter((t) => t.election.role === 'leader')).toHaveLength(1);
    for (const t of tabs) t.election.dispose();
    expect(clock.pending()).toBe(0);
  });
});
