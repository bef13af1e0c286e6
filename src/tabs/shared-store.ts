/**
 * `createSharedSyncStore`: one sync store for all the tabs of an origin that name the same
 * channel. The tabs elect a leader (election.ts); only the leader's store connects, handshakes,
 * polls and writes the cache, and its state, mode and health are mirrored to the followers
 * (mirror.ts), whose client calls and subscriptions it carries out (relay.ts). When the leader
 * goes, the next one resumes from the state and cursors it mirrored, as a store resumes from its
 * warm-start cache: the same epoch resumes incrementally, a new one resyncs in full.
 */
import { DEFAULTS } from '../client/options';
import { invalid, type SyncwireError } from '../errors';
import { fire, listen } from '../listeners';
import { browserEnvironment } from '../store/env';
import { noop } from '../util';
// The core entry's own: the add-on build takes them from it rather than bundling copies.
import {
  createCorrelationId,
  createSyncStore,
  type EventMap,
  type NamespacedClient,
} from '../index';
import type { CachedState, PersistPlugin, SyncHealth, SyncStoreEvent } from '../store/api';
import { knownKeys, opt, required } from '../validate';
import { createSwitchChannel, type ChannelLike } from './channel';
import { createElection, type Election, type LocksLike, type TabRole } from './election';
import { createBroadcastElection } from './election-bc';
import { createMirror, type SharedHealth } from './mirror';
import { sharedHealth, toWireHealth } from './wire-health';
import { createRelay } from './relay';
import type { SharedClient, SharedSyncStore, SharedSyncStoreOptions } from './shared-api';

/** How tabs find each other: what the browser has, unless a test or another runtime says. */
const browserTabs = () => ({
  broadcast:
    typeof BroadcastChannel === 'function'
      ? // The DOM's MessageEvent is more than ChannelLike's listeners read (`data` only).
        (name: string) => new BroadcastChannel(name) as unknown as ChannelLike
      : null,
  locks: (globalThis.navigator as { locks?: LocksLike } | undefined)?.locks ?? null,
});

/**
 * Creates a store shared by every tab of this origin that passes the same `channel` name. It
 * takes `createSyncStore`'s options, and is a `SyncStore` with `role` and a `client` whose
 * calls and subscriptions work in every tab. Nothing happens until `start()`.
 *
 * Election: Web Locks where the browser has them, else an election over BroadcastChannel
 * (heartbeats: a crashed leader is replaced within a second); without BroadcastChannel each
 * tab runs its own store, as `createSyncStore` does (`sharing: 'none'`).
 *
 * @example
 * ```ts
 * const store = createSharedSyncStore({ channel: 'app', client: getNamespacedClient('/state_sync') })
 * store.subscribe(() => render(store.state, store.health.role))
 * await store.start()
 * ```
 */
export function createSharedSyncStore<
  S = Record<string, unknown>,
  Snap extends object = object,
  P extends object = object,
  E extends EventMap = EventMap,
>(options: SharedSyncStoreOptions<S, Snap, P, E>): SharedSyncStore<S, E> {
  const { channel: name, tabs, ...storeOptions } = required(options, 'options', 'object');
  if (typeof name !== 'string' || !name.trim() || name.length > 100)
    throw invalid('channel', 'a non-empty name of at most 100 characters');
  const env = { ...browserTabs(), ...opt(tabs, 'tabs', 'object') };
  knownKeys(env, ['broadcast', 'locks'], 'options.tabs.');
  // The store and the relay need the client's runtime, not its event map.
  const client: NamespacedClient = storeOptions.client;
  const { clock } = client ?? {};
  const report = (e: SyncwireError) => client.reportError(e);

  // The leader's store, made now so the options are checked now: a follower never starts it.
  // Its cache is the mirror first: a tab that takes over shows what it mirrored and resumes
  // from it (its epoch and the cursors `payload` reads in it), with no empty flash; only a tab
  // that mirrored nothing yet reads the real cache.
  const userCache = opt(storeOptions.persist || undefined, 'persist', 'function');
  let seed: CachedState<S> | undefined;
  const persist: PersistPlugin<S> = (host) => {
    const real = userCache?.(host);
    return {
      load: async () => {
        const taken = seed;
        seed = undefined;
        return taken ?? real?.load();
      },
      save: (c) => real?.save(c),
      flush: () => real?.flush(),
    };
  };
  const store = createSyncStore<S, Snap, P>({ ...storeOptions, client, persist });
  const tabId = createCorrelationId('tab');
  let role: TabRole = 'follower';
  let started = false;
  const channel = createSwitchChannel({ name, tabId, onError: report });
  const mirror = createMirror<S>({
    channel,
    clock,
    initialState: store.state,
    notifyIntervalMs: store.timing.notifyIntervalMs,
    onError: client.reportError,
    onLeader: (id) => role === 'follower' && started && relay.follow(id),
  });
  const relay = createRelay({
    channel,
    clock,
    requestTimeoutMs: DEFAULTS.requestTimeoutMs,
    onError: report,
  });
  const mirrored = (): CachedState<S> | undefined => {
    const h = mirror.health;
    if (h.source === null) return undefined;
    return { state: mirror.state, epoch: h.epoch, savedAt: h.lastAppliedAt ?? clock.now() };
  };

  const listeners = new Set<(e: SyncStoreEvent<S>) => void>();
  // The state subscribers were last told of (a switch to the store's tells them if it differs).
  let told: S | undefined;
  const forward = (e: SyncStoreEvent<S>) => {
    if (e.type === 'state') told = e.state;
    fire(listeners, e, client.reportError);
  };
  let election: Election | undefined;
  // Leaderships so far, and whether this one's store shows its state yet (see become).
  let leads = 0;
  let live = false;
  const page =
    opt(storeOptions.environment, 'environment', ['read', 'subscribe']) ?? browserEnvironment;
  let unleave = noop;
  let unforward = mirror.subscribe(forward);
  let sharing: SharedSyncStore<S, E>['sharing'] = env.broadcast ? 'locks' : 'none';
  if (sharing === 'locks' && !env.locks) sharing = 'broadcast';
  // The leader's health with its role, and the store health it was made from.
  let roleOf: SharedHealth | undefined;
  let roleHealth: SyncHealth | undefined;

  // A follower's resync runs on the leader's store.
  const onResync = ({ body }: { body: { reason: string } }) => {
    if (role === 'leader') store.resync(body.reason);
  };

  const become = (next: TabRole) => {
    if (next === role || !started) return;
    role = next;
    roleOf = undefined;
    const run = ++leads;
    live = false;
    if (next === 'leader') {
      // The store starts from what the mirror shows; until it does (its cache read is async),
      // reads and events stay on the mirror (a last snapshot of the leader that went still
      // comes), so the page never sees the store's older state; the store's events after that.
      seed = mirrored();
      const offMirror = unforward;
      const offStore = store.subscribe((e) => live && forward(e));
      unforward = () => {
        offMirror();
        offStore();
      };
      relay.lead(client);
      channel.handle('resync', onResync);
      void store.start().then(() => {
        if (run !== leads) return; // stepped down or stopped meanwhile
        // From the mirror's mode and state to the store's: as events, as a store moves.
        const from = mirror.mode;
        offMirror();
        unforward = offStore;
        live = true;
        mirror.lead(store);
        const to = store.mode;
        if (from !== to) forward({ type: 'mode', from, to, reason: 'leader' });
        if (told !== store.state) forward({ type: 'state', state: store.state });
        else if (from === to) forward({ type: 'health' });
      });
    } else {
      unforward();
      channel.handle('resync', undefined);
      // The mirror stops posting first: the stopped store's DISCONNECTED is not a leader's
      // snapshot (followers, and this tab, would show it until the next leader's state is
      // newer than it).
      mirror.follow();
      store.stop();
      client.disconnect();
      unforward = mirror.subscribe(forward);
      relay.follow(mirror.leader === tabId ? null : mirror.leader);
    }
    forward({ type: 'health' }); // the role is part of health
  };

  // Web Locks when the browser has them; a lock manager that fails (an opaque origin) falls
  // back to the election over the channel, like a browser without them.
  const elect = () => {
    let next: Election;
    if (sharing === 'locks') {
      next = createElection({
        name,
        locks: env.locks!,
        onError: (e) => {
          report(e);
          if (!election?.error || !started) return;
          election.dispose();
          sharing = 'broadcast';
          elect();
        },
      });
    } else next = createBroadcastElection({ name, channel, tabId, clock, onError: report });
    election = next;
    next.onRole(become);
    become(next.role);
  };

  const shared: SharedSyncStore<S, E> = {
    get role() {
      return role;
    },
    get sharing() {
      return sharing;
    },
    get mode() {
      return live ? store.mode : mirror.mode;
    },
    get state() {
      return live ? store.state : mirror.state;
    },
    get health() {
      if (role === 'follower') return mirror.health;
      return withRole(live ? store.health : mirror.health);
    },
    timing: store.timing,
    // The relay's calls have the client's untyped signatures; the map types them for callers.
    client: relay as unknown as SharedClient<E>,

    async start() {
      if (started) {
        if (role === 'leader') await store.start(); // a restart after FAILED retries
        return;
      }
      started = true;
      if (sharing === 'none') return become('leader');
      channel.attach(env.broadcast!(`syncwire:${name}`));
      mirror.follow();
      relay.follow(mirror.leader);
      elect();
      // The browser hands a Web Lock on by itself when the page goes; a channel election is
      // told: leaving, the tab says goodbye (the next leader takes over at once) and joins
      // again as a follower, in case the page comes back from the back/forward cache.
      unleave = page.subscribe((e) => {
        if (!e.leaving || sharing !== 'broadcast' || !election) return;
        election.dispose();
        elect();
      });
    },

    stop() {
      if (!started) return;
      started = false;
      unleave();
      unleave = noop;
      election?.dispose();
      election = undefined;
      // The mirror stops posting first: a stopped store's DISCONNECTED is no leader's snapshot.
      mirror.pause();
      if (role === 'leader') {
        store.stop();
        client.disconnect();
      }
      leads++;
      live = false;
      channel.handle('resync', undefined);
      unforward();
      unforward = mirror.subscribe(forward);
      relay.follow(null);
      channel.detach();
      role = 'follower';
      roleOf = undefined;
    },

    resync(reason = 'resync() called') {
      if (role === 'leader') store.resync(reason);
      else channel.post('resync', { reason });
    },
    subscribe: listen(listeners),
    dispose() {
      shared.stop();
      unforward();
      relay.dispose();
      mirror.dispose();
      listeners.clear();
    },
  };

  // One object while the store's is (built as a follower's is, from the health as it travels).
  const withRole = (h: SyncHealth): SharedHealth => {
    if (!roleOf || roleHealth !== h)
      roleOf = sharedHealth(toWireHealth(h, clock.now()), role, clock);
    roleHealth = h;
    return roleOf;
  };
  return shared;
}
