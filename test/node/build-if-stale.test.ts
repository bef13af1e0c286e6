// `npm run demo` skips the build when dist/ is current: the decision from mtimes alone.
import { describe, expect, it } from 'vitest';
import { buildDecision, demoOutputs } from '../../scripts/build-if-stale.mjs';

describe('buildDecision (npm run demo)', () => {
  it('skips the build when every output is newer than every source', () => {
    expect(buildDecision([100, 200], [300, 310, 305])).toEqual({
      build: false,
      reason: 'dist/ is up to date',
    });
  });

  it('builds when one source is newer than the oldest output (a build started before the edit)', () => {
    expect(buildDecision([100, 306], [300, 310, 305]).build).toBe(true);
    // Newer than the oldest output only: still stale, the build that wrote it began earlier.
    expect(buildDecision([100, 301], [300, 310]).build).toBe(true);
  });

  it('an output as old as the newest source counts as current', () => {
    expect(buildDecision([300], [300]).build).toBe(false);
  });

  it('builds when an output is missing or there is no dist/ at all', () => {
    expect(buildDecision([100], [300, null])).toEqual({
      build: true,
      reason: '1 of dist/ missing',
    });
    expect(buildDecision([100], [])).toEqual({ build: true, reason: 'all of dist/ missing' });
  });

  it('checks every dist/ file the demo pages load, the IIFE builds included', () => {
    const names = demoOutputs().map((f) => f.replace(/^.*\/dist\//, ''));
    expect(names).toEqual(
      expect.arrayContaining([
        'index.js',
        'alpine.js',
        'agent-zero.js',
        'persist.js',
        'syncwire.iife.min.js',
        'syncwire-alpine.iife.min.js',
      ]),
    );
  });
});
