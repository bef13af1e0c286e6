/**
 * @internal What followers show: the leader's state, mode and health, mirrored over the tab
 * channel. The leader posts a snapshot with each of its store's (already coalesced)
 * notifications; a follower applies it unless it is older than what it shows, and notifies its
 * own subscribers the way a store does (state coalesced, mode at once).
 *
 * Order between tabs comes from two numbers in each snapshot: `term`, taken by each leader
 * higher than any it has seen, and `n`, counting one leader's snapshots. Between leaders the
 * state is ordered by when it was applied: a follower never goes back to a state applied
 * earlier than the one it shows, nor to nothing at all.
 */
import { createTimers } from '../clock';
import { createView } from '../store/view';
import { noop } from '../util';
import type { TabRole } from './election';
import type { TabBodies, TabMessage, WireHealth } from './messages';
import type { Mirror, MirrorOptions, SharedHealth } from './mirror-api';
import { sharedHealth, NOTHING, sameWire, toWireHealth } from './wire-health';

export type { Mirror, MirrorOptions, MirrorSource, SharedHealth } from './mirror-api';

/**
 * Least time between two of a leader's re-takes of a term (see `relead`): two live leaders (of
 * the channel election, before one steps down) would otherwise outbid each other back and
 * forth as fast as the channel carries their snapshots.
 */
export const RELEAD_MS = 250;

/**
 * Creates a tab's mirror, following (silently, until {@link Mirror.follow} says hello).
 *
 * @example
 * ```ts
 * const mirror = createMirror({ channel, clock: systemClock, initialState: {}, notifyIntervalMs: 0 })
 * election.onRole((role) => (role === 'leader' ? mirror.lead(store) : mirror.follow()))
 * ```
 */
export function createMirror<S>(options: MirrorOptions<S>): Mirror<S> {
  const { channel, clock } = options;
  const report = options.onError ?? noop;
  const onLeader = options.onLeader ?? noop;
  const timers = createTimers(clock);
  const view = createView(clock, timers, options.notifyIntervalMs, options.initialState, report);
  let role: TabRole = 'follower';
  let wire = NOTHING;
  let health: SharedHealth | undefined;
  // The newest leadership heard of (or this tab's own while leading): its term and tab
  // (`leader`), and its last snapshot applied.
  let term = 0;
  let n = 0;
  // The leadership whose snapshot is shown (term 0: none yet).
  let shownTerm = 0;
  let shownFrom: string | null = null;
  // This tab's own term while it leads (0 otherwise).
  let own = 0;
  // The `sn` of the state shown: which of that leader's snapshots brought it.
  let shownSn = 0;
  let leader: string | null = null;
  let unsubscribe = noop;
  // While leading: takes a term above every leadership heard of, and posts the snapshot again.
  let relead = noop;
  // While leading: posts the source's state if it moved on since the last snapshot (its
  // notification still pending), so a leader that steps down shows no older state.
  let catchUp = noop;
  let last: TabBodies['state'] | undefined;
  let disposed = false;

  /** Shows tab `by`'s snapshot; `notify`: tell subscribers (a follower's apply, not a leader's own). */
  const show = (body: TabBodies['state'], by: string, notify: boolean) => {
    const from = wire.mode;
    if (!sameWire(wire, body.health)) {
      wire = body.health;
      health = undefined;
    }
    // The same state as shown (a mode or health change of the same leader): the same object.
    const same = body.term === shownTerm && by === shownFrom && body.sn === shownSn;
    shownTerm = body.term;
    shownFrom = by;
    shownSn = body.sn;
    const state = same ? view.state : (body.state as S);
    view.show(state, wire.epoch, wire.source, wire.lastAppliedAt ?? clock.now());
    if (!notify) return;
    if (from !== wire.mode) view.emit({ type: 'mode', from, to: wire.mode, reason: 'leader' });
    if (!same) view.scheduleNotify(true);
    else if (from === wire.mode) view.scheduleHealth();
  };

  /** Takes the leader's mode, connection, counters and error, keeping the state shown. */
  const showHealth = (h: WireHealth) => {
    const { epoch, lastSeq, lastAppliedAt, source } = wire;
    const next = { ...h, epoch, lastSeq, lastAppliedAt, source };
    if (sameWire(wire, next)) return;
    const from = wire.mode;
    wire = next;
    health = undefined;
    if (from !== wire.mode) view.emit({ type: 'mode', from, to: wire.mode, reason: 'leader' });
    else view.scheduleHealth();
  };

  // Would `h` show older state than what is shown? Nothing is older than something. One
  // leader's snapshots come in its own order (`n`), and its store never shows older state over
  // newer: they are taken as they come (its seq starts again at each handshake, so seqs say
  // nothing across periods). A new leader starts from the state it mirrored, which may be
  // behind ours (it missed the last snapshot): its state is taken once it was applied later
  // than ours (tabs share the wall clock; its store's next apply from the server is
  // later, and the server's answer to its cursors is the server's current state).
  const isOlder = (h: WireHealth, sameLeader: boolean) => {
    if (wire.source === null) return false;
    if (h.source === null) return true;
    // Applied in the same millisecond by two leaders (two channel-election leaders for a
    // moment): no way to tell which is newer, so the one shown stays.
    return !sameLeader && (h.lastAppliedAt ?? -Infinity) <= (wire.lastAppliedAt ?? -Infinity);
  };

  /** The leadership this tab follows, as a `hello` says it. */
  const followed = () => (leader === null ? {} : { term, leader });

  const newLeader = (tabId: string) => {
    leader = tabId;
    onLeader(tabId);
  };

  // Leaderships are ordered by term, then by tab id: two tabs can take the same term (in the
  // same millisecond, neither having heard of the other), and every tab must order them alike.
  const outranks = (t: number, from: string) =>
    t > term || (t === term && from !== leader && (leader === null || from > leader));

  /** While leading: does the leadership of `t` by tab `from` rank above this tab's own? */
  const aboveOwn = (t: number, from: string) => t > own || (t === own && from > channel.tabId);

  const onState = (m: TabMessage<'state'>) => {
    const { body, from } = m;
    if (role === 'leader') {
      if (body.term > term) term = body.term;
      // A leadership above this tab's own: a late snapshot of a leader before it that it
      // never heard of (the same term, or a clock set back), or a second leader of the channel
      // election that has not stepped down yet. Followers that heard it would drop this tab's
      // snapshots for good: it takes a term above it, and posts again.
      if (aboveOwn(body.term, from)) relead();
      return;
    }
    if (outranks(body.term, from)) {
      term = body.term;
      n = 0;
      if (from !== leader) newLeader(from);
    }
    // A lower leadership's: a late message of a tab that led before, or a leader that never
    // heard of the one this tab follows (it lost the message, or took the same term). Saying
    // which one this tab follows makes a live one take a term above it (see lead's `hello`).
    else if (from !== leader) return void channel.post('hello', followed());
    // The leader's own earlier leadership (before it took a term above), or already applied.
    if (body.term !== term || body.n <= n) return;
    n = body.n;
    // A new leader behind us keeps its term (its next snapshots catch up), not its state.
    if (isOlder(body.health, body.term === shownTerm && from === shownFrom)) {
      // The state stays, but what the leader says of its mode and connection is current.
      if (from === leader) showHealth(body.health);
      return;
    }
    show(body, from, true);
  };

  const stopLeading = () => {
    unsubscribe();
    unsubscribe = noop;
    relead = noop;
    catchUp = noop;
    own = 0;
    timers.clear('relead');
    channel.handle('hello', undefined);
  };

  channel.handle('state', onState);
  const mirror: Mirror<S> = {
    get role() {
      return role;
    },
    get state() {
      return view.state;
    },
    get mode() {
      return wire.mode;
    },
    get health() {
      health ??= sharedHealth(wire, role, clock);
      return health;
    },
    get leader() {
      return leader;
    },
    get cursor() {
      return { term, epoch: wire.epoch, lastSeq: wire.lastSeq };
    },
    subscribe: (fn) => {
      view.listeners.add(fn);
      return () => void view.listeners.delete(fn);
    },

    lead(source) {
      if (disposed) return;
      stopLeading();
      role = 'leader';
      health = undefined;
      timers.clearAll(); // a follower's pending notification is not the leader's to give
      // Above every term heard of; the wall clock keeps terms rising across leaders that never
      // heard of each other (a tab that opened as the previous leader closed).
      // `term` goes on recording the highest term other tabs post.
      const take = () => {
        own = term = Math.max(term + 1, Math.floor(clock.now()));
        if (leader !== channel.tabId) newLeader(channel.tabId);
        n = 0;
      };
      take();
      let count = 0;
      let sn = 0;
      let posted: unknown;
      const publish = () => {
        count++;
        if (sn === 0 || source.state !== posted) sn = count;
        posted = source.state;
        last = {
          term: own,
          n: count,
          sn,
          state: source.state,
          health: toWireHealth(source.health, clock.now()),
        };
        show(last, channel.tabId, false);
        channel.post('state', last);
      };
      catchUp = () => {
        if (source.state !== posted) publish();
      };
      let releadAt = -Infinity;
      relead = () => {
        const wait = releadAt + RELEAD_MS - clock.now();
        if (wait > 0) {
          if (!timers.has('relead')) timers.set('relead', wait, () => relead());
          return;
        }
        releadAt = clock.now();
        take();
        publish();
      };
      // A hello gets the last snapshot again as it was (same n): followers that have it drop
      // it. One naming a leadership above this one's makes it take a term above that; one
      // naming this one's is a follower that heard a lower one: nothing to send.
      channel.handle('hello', ({ body: b }) => {
        const { term: t, leader: l } = b;
        if (t !== undefined && l !== undefined && aboveOwn(t, l)) {
          if (t > term) term = t;
          return relead();
        }
        if (t !== own || l !== channel.tabId) return last && channel.post('state', last);
      });
      unsubscribe = source.subscribe(publish);
      publish();
    },

    follow() {
      if (disposed) return;
      catchUp();
      stopLeading();
      if (role !== 'follower') health = undefined;
      role = 'follower';
      // A plain hello, which every leader answers with its snapshot: one naming the leader
      // followed would get none from that leader (it means "I heard a lower one"), and a tab
      // that rejoins after a stop missed that leader's latest snapshots.
      channel.post('hello', {});
    },

    pause() {
      catchUp(); // as follow(): the last state goes out before the store stops
      stopLeading();
      timers.clearAll();
      if (role !== 'follower') health = undefined;
      role = 'follower';
    },

    dispose() {
      disposed = true;
      stopLeading();
      channel.handle('state', undefined);
      timers.clearAll();
      view.listeners.clear();
    },
  };
  return mirror;
}
