// Well-formed state_push envelopes injected from the server side, on a
// connection that completed a real state_request handshake: same correlationId
// as the handshake (push_correlation), consecutive seq, the server's epoch.
import { randomUUID } from 'node:crypto';
import { STATE_NS, STATE_SYNC_ID } from '../../demo/server/state-sync.mjs';

/** @param {import('../../demo/server/reference-server.mjs').ReferenceServer} server */
export function pushInjector(server) {
  const sockets = server.io.of(STATE_NS).sockets;
  const target = (sid) => {
    const p = server.stateSync.projections.get(sid);
    const socket = sockets.get(sid);
    if (!p || !socket) throw new Error(`no handshaken connection ${sid}`);
    return { p, socket };
  };
  /** The world's full snapshot (about 1.5 KB on the seeded world). */
  const baseSnapshot = () =>
    server.world.buildSnapshot({
      context: null,
      log_from: 0,
      notifications_from: 0,
      timezone: 'UTC',
    });
  /** The next push of the projection's period; `bench_seq` lets a subscriber see which push a state came from. */
  const nextPush = (p, snapshot) => {
    p.seq += 1;
    return {
      handlerId: STATE_SYNC_ID,
      eventId: randomUUID(),
      correlationId: p.correlationId,
      ts: new Date().toISOString(),
      data: {
        runtime_epoch: server.runtime.id,
        seq: p.seq,
        snapshot: { ...snapshot, bench_seq: p.seq },
      },
    };
  };

  return {
    /** Handshaken connections: `{ sid, correlationId, seq }`. */
    projections: () =>
      [...server.stateSync.projections.values()].map((p) => ({
        sid: p.sid,
        correlationId: p.correlationId,
        seq: p.seq,
      })),
    /** The sid whose handshake correlationId starts with `prefix`. */
    sidOf(prefix) {
      const p = [...server.stateSync.projections.values()].find((x) =>
        x.correlationId.startsWith(prefix),
      );
      if (!p) throw new Error(`no handshake with correlationId ${prefix}*`);
      return p.sid;
    },
    seqOf: (sid) => target(sid).p.seq,
    /**
     * n pushes emitted back to back (all built first). A marker event goes first:
     * engine.io writes it at once and queues everything emitted before that write
     * completes, so the whole burst leaves in one flush.
     */
    burst(sid, n) {
      const { p, socket } = target(sid);
      const snapshot = baseSnapshot();
      const pushes = Array.from({ length: n }, () => nextPush(p, snapshot));
      socket.emit('bench_marker', {});
      for (const push of pushes) socket.emit('state_push', push);
      return {
        firstSeq: pushes[0].data.seq,
        lastSeq: p.seq,
        bytes: JSON.stringify(pushes[0]).length,
      };
    },
    /** `rate` pushes per second for `durationMs`, on a 1 ms timer that catches up when late. */
    stream(sid, rate, durationMs, onSent = () => {}) {
      const { p, socket } = target(sid);
      const snapshot = baseSnapshot();
      const total = Math.round((rate * durationMs) / 1000);
      const start = performance.now();
      let sent = 0;
      return new Promise((resolve) => {
        const tick = () => {
          const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
          while (sent < due) {
            const push = nextPush(p, snapshot);
            socket.emit('state_push', push);
            onSent(push.data.seq);
            sent += 1;
          }
          if (sent >= total)
            resolve({ sent, elapsedMs: performance.now() - start, lastSeq: p.seq });
          else setTimeout(tick, 1);
        };
        tick();
      });
    },
  };
}
