import { invalid } from './errors';
import { isNullish, isPlainObject, kindOf } from './util';

/**
 * @internal Option checks shared by the client and the store. A bad option is
 * a VALIDATION_ERROR at creation, never a TypeError later from a timer or a
 * socket listener, where nobody could catch it.
 */

/** What an option must be: a function, a plain object, or an object with these methods. */
export type OptionKind = 'function' | 'object' | readonly string[];

/**
 * `value`, checked: absent (undefined or null, which comes back as undefined), or of `kind`.
 * An option that must be given is checked with {@link required}.
 */
export function opt<T>(value: T, field: string, kind: OptionKind): T | undefined {
  if (isNullish(value)) return undefined;
  return required(value, field, kind);
}

/** `value`, checked to be of `kind` (see {@link opt}); absent is a VALIDATION_ERROR too. */
export function required<T>(value: T, field: string, kind: OptionKind): T {
  if (!isOfKind(value, kind)) throw invalid(field, describeKind(kind), kindOf(value));
  return value;
}

function isOfKind(value: unknown, kind: OptionKind): boolean {
  if (kind === 'object') return isPlainObject(value);
  if (kind === 'function') return typeof value === 'function';
  if (isNullish(value)) return false;
  const methods = value as Record<string, unknown>;
  return kind.every((method) => typeof methods[method] === 'function');
}

/** What a VALIDATION_ERROR says was expected: "a plain object", "an object with get(), set()". */
function describeKind(kind: OptionKind): string {
  if (kind === 'object') return 'a plain object';
  if (kind === 'function') return 'a function';
  return `an object with ${kind.join('(), ')}()`;
}

/**
 * 2^31 - 1: setTimeout fires at once for a longer delay (it overflows a 32-bit int), so no
 * numeric option (most are timeouts) may be larger.
 */
const MAX_NUMBER_OPTION = 2 ** 31 - 1;

/**
 * `from[key]`, or `fallback` when undefined (no fallback: required); anything but a number
 * above `min` (at least `min` when not `strict`) and at most 2^31 - 1 is a VALIDATION_ERROR
 * naming `prefix + key`.
 */
export function num(
  from: object,
  key: string,
  fallback?: number,
  prefix = '',
  min = 0,
  strict = true,
): number {
  const v = (from as Record<string, unknown>)[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !(strict ? v > min : v >= min) || v > MAX_NUMBER_OPTION) {
    throw invalid(
      prefix + key,
      `a number ${strict ? '>' : '>='} ${min}`,
      typeof v === 'number' ? v : kindOf(v),
    );
  }
  return v;
}

/**
 * Throws VALIDATION_ERROR for an own key of `options` that is not in `known`: a misspelled
 * option (`reqTimeout`, `pollurl`) would otherwise be ignored without a word.
 */
export function knownKeys(options: object, known: readonly string[], prefix = 'options.'): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k))
      throw invalid(
        prefix + k,
        `one of the known options (${known.join(', ')})`,
        'an unknown option',
      );
  }
}

/**
 * `value` as an absolute http(s) URL string, or a VALIDATION_ERROR naming `field`
 * ('not a url' and 'ftp://x' are refused when the client is created, not later).
 */
export function httpUrl(value: unknown, field: string): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw invalid(
      field,
      'an absolute http(s) URL',
      typeof value === 'string' ? JSON.stringify(value) : kindOf(value),
    );
  }
  return value as string;
}
