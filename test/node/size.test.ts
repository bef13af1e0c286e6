import { describe, expect, it } from 'vitest';
import { LIMITS, measure, overLimit } from '../../scripts/size.mjs';

// Sizes are part of the product: `npm test` builds dist/ first, and fails here
// when an entry outgrows its limit (see scripts/size.mjs for goals vs limits).
describe('bundle size budgets (min+gzip)', () => {
  it.each(Object.entries(LIMITS))('%s stays within %d bytes', async (name, limit) => {
    const sizes: Record<string, number> = await measure();
    expect(sizes[name], `${name} was not measured: is dist/ built?`).toBeTypeOf('number');
    expect(sizes[name]).toBeLessThanOrEqual(limit);
  });

  it('reports an entry over its limit, and a missing measurement', () => {
    expect(overLimit({ size_core_gz: 100, size_alpine_gz: 2000, size_iife_gz: 100 }, { size_core_gz: 100, size_alpine_gz: 1024, size_iife_gz: 100 })).toEqual([
      ['size_alpine_gz', 2000, 1024],
    ]);
    expect(overLimit({}, { size_core_gz: 1 })).toEqual([['size_core_gz', undefined, 1]]);
  });
});
