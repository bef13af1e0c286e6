// createCorrelationId where crypto.randomUUID is missing (an http page on a LAN address is not a
// secure context): the v4 template filled from getRandomValues. That path had no test at all.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCorrelationId } from '../../src/index';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

afterEach(() => vi.unstubAllGlobals());

describe('createCorrelationId without randomUUID', () => {
  it('still gives prefixed, distinct v4 UUIDs', () => {
    const real = globalThis.crypto;
    let draws = 0;
    vi.stubGlobal('crypto', {
      getRandomValues: <T extends ArrayBufferView>(a: T) => (draws++, real.getRandomValues(a)),
    });
    const ids = Array.from({ length: 200 }, () => createCorrelationId('request'));
    for (const id of ids) {
      expect(id.startsWith('request-')).toBe(true);
      expect(id.slice('request-'.length)).toMatch(V4);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(draws).toBeGreaterThan(0); // the fallback ran, not randomUUID
    expect(createCorrelationId()).toMatch(V4);
  });
});
