// The liveness audit against the reference server: a push channel that goes silent while
// the socket stays up (faults.silencePushes: nothing pushed, seq stays put) and the state
// moves on. Short timing; the assertions check behaviour and order, never elapsed time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createAgentZeroModel, type AgentZeroState, type SnapshotV1 } from '../../src/agent-zero';
import {
  createNamespacedClient,
  createSyncStore,
  type NamespacedClient,
  type SyncMode,
  type SyncStore,
  type SyncwireError,
} from '../../src/index';
import { MODES, modeOptions } from '../helpers/server-mode';
import { fakeEnvironment } from '../helpers/store-harness';
import { waitFor } from '../helpers/wait';

interface RefServer {
  url: string;
  runtime: { id: string };
  stats: { polls: number };
  faults: { silencePushes(on: boolean): void };
  world: {
    notify(message: string): void;
    buildSnapshot(req: {
      context: null;
      log_from: number;
      notifications_from: number;
      timezone: string;
    }): Record<string, unknown>;
  };
  close(): Promise<void>;
}

const LIVENESS_MS = 300;
const TIMING = {
  handshakeTimeoutMs: 400,
  connectGraceMs: 500,
  pollIntervalMs: 100,
  backoffBaseMs: 100,
  backoffMaxMs: 400,
  livenessMs: LIVENESS_MS,
};

/** A mode change, with what the store showed and had applied at that moment. */
interface ModeChange {
  from: SyncMode;
  to: SyncMode;
  reason: string;
  source: string | null;
  notificationsVersion: number;
  serverNotificationsVersion: number;
  pushesApplied: number;
}

let server: RefServer;
let client: NamespacedClient;
let store: SyncStore<AgentZeroState>;
let errors: SyncwireError[];
let changes: ModeChange[];
/** Pushes the store reduced while its mode was DEGRADED (the README says: never). */
let pushesWhileDegraded: number;

const serverView = () =>
  server.world.buildSnapshot({
    context: null,
    log_from: 0,
    notifications_from: 0,
    timezone: 'UTC',
  });
/** The store shows the server's state now (notifications and chats). */
const converged = () => {
  const v = serverView();
  const s = store.state;
  return (
    s.notifications_version === v.notifications_version &&
    JSON.stringify(s.contexts) === JSON.stringify(v.contexts)
  );
};
const counters = () => store.health.counters;

for (const routes of MODES)
  describe(`liveness audit, ${routes} routes`, () => {
    beforeEach(async () => {
      server = await createReferenceServer({ routes });
      errors = [];
      changes = [];
      pushesWhileDegraded = 0;
      const options = modeOptions(routes, server.url, {
        ...(routes === 'api' ? {} : { transports: ['websocket'] }),
        reconnectionDelay: 50,
        reconnectionDelayMax: 300,
      });
      client = createNamespacedClient('/state_sync', { url: server.url, ...options.client });
      client.onError((e) => void errors.push(e));
      const model = createAgentZeroModel({ timezone: 'UTC' });
      store = createSyncStore({
        client,
        ...model,
        // The model tests' check: a push reduced while DEGRADED breaks the store's promise.
        reduce: (state, snapshot: SnapshotV1, ctx) => {
          if (ctx.source === 'push' && store.mode === 'DEGRADED') pushesWhileDegraded++;
          return model.reduce(state, snapshot, ctx);
        },
        ...options.store,
        environment: fakeEnvironment(),
        timing: TIMING,
      });
      store.subscribe((e) => {
        if (e.type !== 'mode') return;
        changes.push({
          from: e.from,
          to: e.to,
          reason: e.reason,
          source: store.health.source,
          notificationsVersion: store.state.notifications_version,
          serverNotificationsVersion: serverView().notifications_version as number,
          pushesApplied: counters().pushesApplied,
        });
      });
      await store.start();
      await waitFor(() => store.mode === 'HEALTHY');
    });
    afterEach(async () => {
      store.stop();
      client.dispose();
      await server.close();
    });

    /** Silences pushes while the state moves on; resolves once the store left HEALTHY. */
    async function silenceUntilNoticed() {
      const applied = counters().pushesApplied;
      const since = changes.length;
      server.faults.silencePushes(true);
      server.world.notify('nobody hears this push');
      await waitFor(() => changes.slice(since).some((c) => c.from === 'HEALTHY'));
      const left = changes.slice(since).find((c) => c.from === 'HEALTHY');
      return { applied, since, left: left! };
    }

    it('a silent channel while the state moves on is noticed: the store leaves HEALTHY, then polls keep the state fresh', async () => {
      const { applied, since, left } = await silenceUntilNoticed();
      // Noticed by the audit (a poll that shows the state moved on), not by a push or a poll
      // applied before: the store still showed its last pushed state, older than the server's.
      expect(left).toMatchObject({
        to: 'HANDSHAKE_PENDING',
        reason: 'push channel silent',
        source: 'push',
        pushesApplied: applied,
      });
      expect(left.notificationsVersion).toBeLessThan(left.serverNotificationsVersion);
      expect(errors.map((e) => [e.code, e.message])).toContainEqual([
        'TIMEOUT',
        `no push for ${LIVENESS_MS} ms while the server state moved on`,
      ]);

      // The handshake it starts gets no first push either: polling takes over.
      await waitFor(() => store.mode === 'DEGRADED');
      await waitFor(() => store.health.source === 'poll' && converged());
      for (const message of ['moved on while silent', 'and again']) {
        const polls = server.stats.polls;
        server.world.notify(message);
        await waitFor(() => converged());
        expect(store.health.source).toBe('poll');
        expect(server.stats.polls).toBeGreaterThan(polls);
      }
      // Never HEALTHY while silent, and nothing was pushed.
      expect(changes.slice(since).map((c) => c.to)).not.toContain('HEALTHY');
      expect(counters().pushesApplied).toBe(applied);
      expect(pushesWhileDegraded).toBe(0);
    });

    it('when pushes return, the store is HEALTHY with the server state and applies pushes again, none while DEGRADED', async () => {
      const { applied, since } = await silenceUntilNoticed();
      await waitFor(() => store.mode === 'DEGRADED');
      server.world.notify('while degraded');
      await waitFor(() => store.health.source === 'poll' && converged());
      const silentSpell = changes.length;

      server.faults.silencePushes(false);
      server.world.notify('pushes are back');
      await waitFor(() => store.mode === 'HEALTHY' && converged());
      // Back through a period's first push, not a poll, and the first push applied since
      // the silence began is that one.
      const back = changes.slice(silentSpell).find((c) => c.to === 'HEALTHY')!;
      expect(back).toMatchObject({
        reason: 'first snapshot of the period applied',
        source: 'push',
        pushesApplied: applied + 1,
      });
      expect(store.health).toMatchObject({ epoch: server.runtime.id, source: 'push' });

      // Pushes keep coming and are applied (an audit while HEALTHY only compares, never applies).
      const resumed = counters().pushesApplied;
      server.world.notify('pushed as usual');
      await waitFor(() => counters().pushesApplied > resumed && converged());
      expect(store.health).toMatchObject({ mode: 'HEALTHY', source: 'push' });
      expect(pushesWhileDegraded).toBe(0);
      // The whole spell, in order: noticed, DEGRADED, never HEALTHY until pushes returned.
      const spell = changes.slice(since, silentSpell).map((c) => c.reason);
      expect(spell[0]).toBe('push channel silent');
      expect(changes.slice(since, silentSpell).map((c) => c.to)).toContain('DEGRADED');
      expect(changes.slice(since, silentSpell).map((c) => c.to)).not.toContain('HEALTHY');
    });
  });
