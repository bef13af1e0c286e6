import { invalid } from './errors';
import { kindOf } from './util';
import { knownKeys, opt } from './validate';

/** What a log line is about. */
export type LogCategory = 'connect' | 'push' | 'request';

/** Where log lines go. */
export type LogSink = (category: LogCategory, message: string, details?: unknown) => void;

/** Logger options: off by default. */
export interface LoggerOptions {
  /** `true` for every category, or the list to enable. @default false */
  enabled?: boolean | LogCategory[];
  /** @default console.debug with a `[syncwire:<category>]` prefix */
  sink?: LogSink;
  /**
   * Print an error that no `onError` listener hears with `console.warn`, once per code per
   * client (a client option: `logger: { warn: false }` silences it). @default true
   */
  warn?: boolean;
}

/** A logger whose categories can be switched at run time. */
export interface Logger {
  /** Switches categories on or off while the page runs. */
  enable(categories: boolean | LogCategory[]): void;
  isEnabled(category: LogCategory): boolean;
  log(category: LogCategory, message: string, details?: unknown): void;
}

// Keys whose values must never reach a console or a bug report.
const SECRET = /token|auth|secret|passw|cookie|api_?key|credential/i;

// A log line is for a person reading a console: deeper levels and longer arrays than these
// are shown as they are (not copied), which keeps logging cheap for large payloads.
const REDACT_MAX_DEPTH = 4;
const REDACT_MAX_ITEMS = 20;

/** @internal Copies `value` with secret-looking keys replaced, to a small depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > REDACT_MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    return value.slice(0, REDACT_MAX_ITEMS).map((item) => redact(item, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET.test(key) ? '[redacted]' : redact(item, depth + 1);
  }
  return out;
}

/**
 * Creates a {@link Logger}. Details are copied with secret-looking keys (token, auth, cookie,
 * password, API key...) replaced by `[redacted]` before the sink sees them.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  // `true`: every category; `false`: none; a list: those categories (a copy, so the caller's
  // array can change without changing what is logged).
  let enabled: boolean | LogCategory[] = false;
  const defaultSink: LogSink = (category, message, details) =>
    console.debug(`[syncwire:${category}]`, message, details ?? '');
  const sink = options.sink ?? defaultSink;
  const logger: Logger = {
    enable(categories) {
      if (typeof categories === 'boolean') {
        enabled = categories;
      } else {
        enabled = Array.isArray(categories) ? [...categories] : false;
      }
    },
    isEnabled(category) {
      if (typeof enabled === 'boolean') return enabled;
      return enabled.includes(category);
    },
    log(category, message, details) {
      if (!logger.isEnabled(category)) return;
      sink(category, message, details === undefined ? undefined : redact(details));
    },
  };
  logger.enable(options.enabled ?? false);
  return logger;
}

/** @internal The `logger` option checked: a Logger as given, or one made from LoggerOptions. */
export function loggerFrom(value: Logger | LoggerOptions | undefined): Logger {
  // A Logger of the caller's own needs all three methods: the client calls each of them.
  if (typeof (value as Partial<Logger> | undefined)?.log === 'function') {
    return opt(value as Logger, 'logger', ['log', 'isEnabled', 'enable'])!;
  }
  const opts: LoggerOptions = opt(value as LoggerOptions, 'logger', 'object') ?? {};
  knownKeys(opts, ['enabled', 'sink', 'warn'], 'logger.');
  if (opts.warn !== undefined && typeof opts.warn !== 'boolean') {
    throw invalid('logger.warn', 'a boolean', kindOf(opts.warn));
  }
  const enabled: unknown = opts.enabled;
  const isCategoryList =
    Array.isArray(enabled) && enabled.every((category) => typeof category === 'string');
  if (enabled !== undefined && typeof enabled !== 'boolean' && !isCategoryList) {
    throw invalid('logger.enabled', 'a boolean or a list of categories');
  }
  opt(opts.sink, 'logger.sink', 'function');
  return createLogger(opts);
}
