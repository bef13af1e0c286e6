import { invalid } from './errors';
import { isPlainObject, kindOf } from './protocol';

/**
 * @internal Option checks shared by the client and the store. A bad option is
 * a VALIDATION_ERROR at creation, never a TypeError later from a timer or a
 * socket listener, where nobody could catch it.
 */

const expected = (field: string, what: string, got: string | number) => invalid(field, `${field} expects ${what}, but got ${got}`);

/** `value` if it is undefined or a function. */
export function optFn<T>(value: T, field: string): T {
  if (value !== undefined && typeof value !== 'function') throw expected(field, 'a function', kindOf(value));
  return value;
}

/** `value` if it is undefined or a plain object (null counts as absent). */
export function optObj<T>(value: T, field: string): T | undefined {
  if (value != null && !isPlainObject(value)) throw expected(field, 'a plain object', kindOf(value));
  return value ?? undefined;
}

/** `value` if it is undefined or an object whose `methods` are all functions. */
export function optShape<T>(value: T, field: string, methods: string[]): T {
  const bad = value === undefined ? 0 : methods.find((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (bad) throw expected(field, `an object with a ${bad}() method`, kindOf(value));
  return value;
}

/**
 * `from[key]`, or `fallback` when undefined (no fallback: required); anything but a finite number above `min`
 * (at least `min` when not `strict`) and at most 2^31 - 1 is a VALIDATION_ERROR naming `prefix + key`.
 */
export function num(from: object, key: string, fallback: number | undefined, prefix = '', min = 0, strict = true): number {
  const v = (from as Record<string, unknown>)[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !(strict ? v > min : v >= min) || v > 2 ** 31 - 1) {
    throw expected(prefix + key, `a finite number ${strict ? '>' : '>='} ${min}`, typeof v === 'number' ? v : kindOf(v));
  }
  return v;
}
