// Small helpers shared by the bench modules: time, waiting, statistics, entries.
import { mulberry32 } from '../../demo/server/world.mjs';

/** Monotonic milliseconds in this process. */
export const now = () => performance.now();

/** Wall-clock milliseconds with sub-ms precision, comparable across processes on one machine. */
export const wallNow = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it is truthy; rejects after `timeoutMs`. */
export async function waitFor(
  predicate,
  { timeoutMs = 5000, intervalMs = 2, what = 'condition' } = {},
) {
  const end = now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves with `promise`, or rejects after `ms` (the timer never keeps the process alive). */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);

export function median(xs) {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs, p) {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Rounds to `digits` significant digits (keeps integers >= 10^digits whole). */
export function round(value, digits = 3) {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return Number(value.toFixed(Math.min(decimals, 6)));
}

/** A seeded PRNG (the demo world's mulberry32), so "random" hold times are the same on every run. */
export const seededRandom = (seed = 1) => mulberry32(seed);

/** Full garbage collection when node runs with --expose-gc (a few passes, so weak refs settle). */
export async function fullGc() {
  if (typeof globalThis.gc !== 'function') return false;
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(10);
  }
  return true;
}

/**
 * One result entry: `{ name, value, unit, baseline?, ratio?, goal, met, ... }`.
 * `goal` is `['<=', 100]`, `['>=', 0.85]` or null (reported, no goal).
 */
export function entry(name, value, unit, goal, extra = {}) {
  const g = goal ? { op: goal[0], value: goal[1] } : null;
  const ok = Number.isFinite(value);
  const met = !g || !ok ? (g ? false : null) : g.op === '<=' ? value <= g.value : value >= g.value;
  const r = (v) => (typeof v === 'number' ? round(v, 4) : v);
  const { baseline, ratio, ...rest } = extra;
  const b = baseline === undefined ? {} : { baseline: r(baseline) };
  const q = ratio === undefined ? {} : { ratio: r(ratio) };
  return { name, value: ok ? round(value, 4) : null, unit, ...b, ...rest, ...q, goal: g, met };
}
