import { invalid } from './errors';
import { isPlainObject, kindOf } from './protocol';

/**
 * @internal Option checks shared by the client and the store. A bad option is
 * a VALIDATION_ERROR at creation, never a TypeError later from a timer or a
 * socket listener, where nobody could catch it.
 */

/** `value` if it is undefined or a function. */
export function optFn<T>(value: T, field: string): T {
  if (value !== undefined && typeof value !== 'function') throw invalid(field, `${field} expects a function, but got ${kindOf(value)}`);
  return value;
}

/** `value` if it is undefined or a plain object (null counts as absent). */
export function optObj<T>(value: T, field: string): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalid(field, `${field} expects a plain object, but got ${kindOf(value)}`);
  return value;
}

/** `value` if it is undefined or an object whose `methods` are all functions. */
export function optShape<T>(value: T, field: string, methods: string[]): T {
  if (value === undefined) return value;
  const bad = methods.find((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (bad) throw invalid(field, `${field} expects an object with a ${bad}() method`);
  return value;
}
