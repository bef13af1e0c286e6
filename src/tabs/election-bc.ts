/**
 * @internal Leader election between the tabs of one origin over the tab channel alone, for
 * browsers without the Web Locks API (`navigator.locks`). It gives the same {@link Election} as
 * createElection, so a caller picks one or the other and the rest does not change.
 *
 * Without a lock the browser no longer says when a leader's tab is gone, so the tabs say it
 * themselves. The leader posts a heartbeat (`lead`) every heartbeatMs. A follower that hears
 * none for timeoutMs bids (`claim`), waits claimMs for an objection and leads. A leader that
 * leaves says goodbye (`resign`), and its followers bid at once instead of waiting timeoutMs.
 *
 * `term` orders leaderships as the mirror's `state.term` does: a bid takes a term above every
 * term heard of, and at least the wall clock, so terms keep rising across tabs that never heard
 * of each other. Two leaders can exist for a while (a frozen leader tab that thaws, messages
 * that were lost): each steps down on hearing a leader of higher rank (higher term, then the
 * greater tab id), so the newer leadership wins, the rule the mirror uses to order snapshots.
 */
import { createTimers, type Clock } from '../clock';
import { asError, invalid, type SyncwireError } from '../errors';
import { listen } from '../listeners';
import { noop } from '../util';
import { num, required } from '../validate';
import type { TabChannel } from './channel';
import type { Election, TabRole } from './election';
import type { TabMessage } from './messages';

/** Options of {@link createBroadcastElection}. */
export interface BroadcastElectionOptions {
  /** The channel name (the same as `channel.name`): tabs of one name elect one leader. */
  name: string;
  /** This tab's end of the channel, opened by the caller, who also closes it (after dispose). */
  channel: TabChannel;
  /** This tab's id (the same as `channel.tabId`): equal terms go to the greater id. */
  tabId: string;
  clock: Clock;
  /** Hears a role listener that throws, as `HANDLER_ERROR`. */
  onError?: (error: SyncwireError) => void;
  /** How often the leader says it is alive. @default 250 */
  heartbeatMs?: number;
  /**
   * How long a follower goes without a heartbeat before it bids: a leader that crashed (no
   * goodbye) is replaced within timeoutMs + claimMs. More than heartbeatMs. @default 600
   */
  timeoutMs?: number;
  /** How long a bid waits for an objection: a leader that left is replaced in about this. @default 150 */
  claimMs?: number;
}

/** The timing {@link createBroadcastElection} uses when not told otherwise. */
export const BROADCAST_ELECTION_DEFAULTS = Object.freeze({
  heartbeatMs: 250,
  // Two heartbeats are due before a follower bids, so one lost or late heartbeat costs nothing;
  // a crashed leader is replaced within 600 + 150 ms.
  timeoutMs: 600,
  claimMs: 150,
});

/** The kinds the election handles on the channel (and lets go of on dispose). */
const KINDS = ['lead', 'claim', 'resign', 'probe'] as const;

/**
 * Joins the election of `channel`. The tab starts as a follower and asks for the leader's
 * heartbeat (`probe`): with a leader it goes on following; with none it bids after
 * heartbeatMs and leads claimMs later.
 *
 * @example
 * ```ts
 * const channel = openTabChannel({ channel: new BroadcastChannel('app'), name: 'app', tabId })
 * const election = createBroadcastElection({ name: 'app', channel, tabId, clock: systemClock })
 * election.onRole((role) => (role === 'leader' ? startStore() : followLeader()))
 * addEventListener('pagehide', () => election.dispose())
 * ```
 */
export function createBroadcastElection(options: BroadcastElectionOptions): Election {
  const { name, tabId } = options;
  const channel = required(options.channel, 'channel', ['post', 'handle']);
  const clock = required(options.clock, 'clock', ['now', 'setTimeout', 'clearTimeout']);
  // Other tabs compare the ids they see on our messages, and the channel checks the name of
  // each: options that disagree with the channel are a wiring mistake, caught here.
  if (typeof name !== 'string' || name === '' || name !== channel.name)
    throw invalid('name', `the channel's name, ${JSON.stringify(channel.name)}`);
  if (tabId !== channel.tabId)
    throw invalid('tabId', `the channel's tab id, ${JSON.stringify(channel.tabId)}`);
  const d = BROADCAST_ELECTION_DEFAULTS;
  const heartbeatMs = num(options, 'heartbeatMs', d.heartbeatMs);
  const timeoutMs = num(options, 'timeoutMs', d.timeoutMs);
  const claimMs = num(options, 'claimMs', d.claimMs);
  // A follower would bid between two heartbeats of a leader that is alive and well.
  if (timeoutMs <= heartbeatMs)
    throw invalid('timeoutMs', `more than heartbeatMs (${heartbeatMs})`, timeoutMs);
  const report = options.onError ?? noop;
  const listeners = new Set<(role: TabRole) => void>();
  // One timer at a time, whatever the phase: a follower's watch (it bids when it fires), a
  // bid's wait (it leads when it fires), or the leader's next heartbeat.
  const timers = createTimers(clock);
  const after = (ms: number, fn: () => void) => timers.set('phase', ms, fn);
  let phase: 'follow' | 'claim' | 'lead' = 'follow';
  let role: TabRole = 'follower';
  let disposed = false;
  /** The highest term heard of or taken. */
  let seen = 0;
  /** This tab's term while it bids or leads. */
  let own = 0;

  const setRole = (next: TabRole) => {
    if (role === next) return;
    role = next;
    // Not `fire`: a listener that an earlier one removed (by dispose(), say) is not called, so
    // nothing is heard after dispose.
    for (const fn of [...listeners]) {
      if (!listeners.has(fn)) continue;
      try {
        fn(next);
      } catch (e) {
        report(asError(e, 'HANDLER_ERROR', 'onRole listener: '));
      }
    }
  };

  /** Does a bid or leadership of `term` by tab `from` outrank this tab's? */
  const outranks = (term: number, from: string) => term > own || (term === own && from > tabId);
  const hear = (term: number) => {
    if (term > seen) seen = term;
  };
  const beat = () => {
    channel.post('lead', { term: own });
    after(heartbeatMs, beat);
  };

  /** Follows, bidding if nothing is heard for `ms`. */
  const follow = (ms: number) => {
    const led = phase === 'lead';
    phase = 'follow';
    after(ms, claim);
    if (led) setRole('follower');
  };
  const claim = () => {
    phase = 'claim';
    own = seen = Math.max(seen + 1, Math.floor(clock.now()));
    after(claimMs, lead);
    channel.post('claim', { term: own });
  };
  const lead = () => {
    phase = 'lead';
    beat(); // at once: followers and other bidders learn of it now, not in heartbeatMs
    setRole('leader');
  };

  const onLead = ({ from, body }: TabMessage<'lead'>) => {
    hear(body.term);
    // A follower hears the leader is alive, and a bidder backs off: a leader that is alive
    // keeps the lead even when its term is lower (a follower that missed heartbeats bid), since
    // a new leader would cost a handover of the store for nothing.
    if (phase !== 'lead') follow(timeoutMs);
    // Two leaders: the lower one steps down; the higher one answers at once, so the lower one
    // steps down now rather than at our next beat. (Both answering would never end.)
    else if (outranks(body.term, from)) follow(timeoutMs);
    else channel.post('lead', { term: own });
  };
  const onClaim = ({ from, body }: TabMessage<'claim'>) => {
    hear(body.term);
    // Still here: the bidder backs off when it hears us.
    if (phase === 'lead') channel.post('lead', { term: own });
    // A follower gives the bidder time to lead (rather than outbid it when its own watch fires);
    // a bidder gives way to a higher bid, and a lower one gives way to it.
    else if (phase === 'follow' || outranks(body.term, from)) follow(timeoutMs);
  };
  const onResign = ({ body }: TabMessage<'resign'>) => {
    hear(body.term);
    // A leader or a bidder goes on; a follower bids at once (a leader that is still alive, if
    // the goodbye was another's, answers the bid).
    if (phase === 'follow') claim();
  };
  const onProbe = () => {
    if (phase === 'lead') channel.post('lead', { term: own });
  };

  channel.handle('lead', onLead);
  channel.handle('claim', onClaim);
  channel.handle('resign', onResign);
  channel.handle('probe', onProbe);
  // A leader answers the probe at once; its regular heartbeat comes within heartbeatMs anyway.
  channel.post('probe', {});
  after(heartbeatMs, claim);

  return {
    get role() {
      return role;
    },
    // A channel does not fail the way a lock manager can: a post that throws is the channel's
    // to report (its onError), and the next heartbeat or bid is posted all the same.
    error: null,
    onRole: listen(listeners),
    dispose() {
      if (disposed) return;
      disposed = true;
      listeners.clear();
      timers.clearAll();
      for (const kind of KINDS) channel.handle(kind, undefined);
      // Followers bid now rather than in timeoutMs; a bidder's goodbye lets those that gave
      // way to its bid bid again at once.
      if (phase !== 'follow') channel.post('resign', { term: own });
      phase = 'follow';
      role = 'follower';
    },
  };
}
