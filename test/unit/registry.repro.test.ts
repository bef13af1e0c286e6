// Found by a review of the client; each test failed before its fix (kept as regression tests).
import { describe, expect, it } from 'vitest';
import { createClientRegistry } from '../../src/index';
import { createFakeClock } from '../helpers/fake-clock';
import { fakeSocketFactory } from '../helpers/fake-socket';

describe('client registry', () => {
  it('disposing an already disposed client again does not evict the live client that replaced it', () => {
    const reg = createClientRegistry();
    const opts = { url: 'http://h', auth: { t: 1 }, socketFactory: fakeSocketFactory(), clock: createFakeClock() };
    const first = reg.get('/a', opts);
    first.dispose();
    const second = reg.get('/a', opts);
    expect(second).not.toBe(first);
    first.dispose(); // dispose() is idempotent: a no-op on a disposed client
    expect(second.disposed).toBe(false);
    // The shared client for '/a' must still be `second`, not a new, third one beside it.
    expect(reg.get('/a', opts)).toBe(second);
    reg.dispose();
  });

  it('asking again with options, after a first get() without options, throws rather than silently ignoring them', () => {
    const reg = createClientRegistry();
    reg.get('/b');
    expect(() => reg.get('/b', { requestTimeoutMs: 5 })).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    reg.dispose();
  });

  it('the default url and the same url given explicitly name one shared client', () => {
    const reg = createClientRegistry();
    const a = reg.get('/c');
    const b = reg.get('/c', { url: location.origin });
    expect(b).toBe(a);
    reg.dispose();
  });
});
