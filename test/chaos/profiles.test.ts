// The chaos run's timing profiles (chaos/core.mjs): the short one is the timing
// the run always had, and the default one derives its waits from the library's real defaults.
// The harness keeps a copy of those defaults (the store and clients get no option, but the
// run must know how long to wait); these checks fail if the library's defaults move.
import { describe, expect, it } from 'vitest';
import { resolveTiming } from '../../src/store/options';
import {
  CHAOS_PROFILES,
  CHAOS_TIMING,
  LIBRARY_TIMING,
  STORE_RECONNECTION_ATTEMPTS,
  resolveChaosProfile,
} from '../../chaos/core.mjs';
import { clientHarness } from '../helpers/client-harness';
import { createFakeClock, recordingClock } from '../helpers/fake-clock';

describe('chaos timing profiles', () => {
  it("the default profile's store timing is the library's default timing", () => {
    expect(LIBRARY_TIMING).toEqual(resolveTiming(undefined));
  });

  it("the default profile's client timeouts are the library's defaults", async () => {
    const recording = recordingClock(createFakeClock());
    const { client, factory } = clientHarness({ clock: recording });
    void client.request('x', {}).catch(() => {}); // a connect deadline, then the request's own
    await factory.last().runAuth(); // the auth deadline
    const { client: c } = resolveChaosProfile('default');
    expect(recording.delays).toEqual(
      expect.arrayContaining([c.connectTimeoutMs, c.requestTimeoutMs, c.authTimeoutMs]),
    );
    client.dispose();
  });

  it('the short profile keeps the timing the run always had', () => {
    const p = resolveChaosProfile('short');
    expect(p.profile.timing).toBe(CHAOS_TIMING);
    expect(p.settleTimeoutMs).toBe(15000);
    expect(p.drainMs).toBe(4000);
    expect(p.reconnectWaitMs).toBe(5000);
    expect(p.ping).toEqual({ interval: 500, timeout: 500 });
    expect(p.storeSocketOptions).toEqual({
      reconnectionDelay: 100,
      reconnectionDelayMax: 600,
      timeout: 2000,
      reconnectionAttempts: STORE_RECONNECTION_ATTEMPTS,
    });
  });

  it('the default profile passes no timing, client or socket option but the reconnection limit', () => {
    const p = resolveChaosProfile('default');
    expect(CHAOS_PROFILES.default.timing).toBeUndefined();
    expect(p.profile.clientOptions).toEqual({});
    expect(p.storeSocketOptions).toEqual({ reconnectionAttempts: STORE_RECONNECTION_ATTEMPTS });
    // socket.io's own defaults, read from its Manager
    expect(p.socket).toMatchObject({
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 20000,
      reconnectionAttempts: STORE_RECONNECTION_ATTEMPTS,
    });
  });

  it.each(['short', 'default'] as const)(
    '%s: the settle timeout covers a silent push channel, handshake retries and a half-open connection',
    (name) => {
      const p = resolveChaosProfile(name);
      const t = p.store;
      expect(p.settleTimeoutMs).toBeGreaterThan(
        2 * t.livenessMs +
          3 * t.handshakeTimeoutMs +
          t.backoffMaxMs +
          p.ping.interval +
          p.ping.timeout,
      );
      // manager-give-up holds past every reconnection delay at its worst (+50 % jitter, capped)
      const s = p.socket;
      let worst = 0;
      for (let i = 0; i < s.reconnectionAttempts; i++)
        worst += Math.min(s.reconnectionDelay * 2 ** i * 1.5, s.reconnectionDelayMax);
      expect(p.giveUpMs).toBeGreaterThan(worst);
    },
  );

  it('rejects an unknown profile', () => {
    expect(() => resolveChaosProfile('fast' as never)).toThrow(/unknown chaos timing/);
  });
});
