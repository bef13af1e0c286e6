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

/** @internal Copies `value` with secret-looking keys replaced, to a small depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** Creates a {@link Logger}. Details pass through {@link redact} before the sink sees them. */
export function createLogger(options: LoggerOptions = {}): Logger {
  let on: boolean | LogCategory[] = false;
  const sink: LogSink = options.sink ?? ((c, m, d) => console.debug(`[syncwire:${c}]`, m, d ?? ''));
  const logger: Logger = {
    enable: (categories) =>
      void (on = categories === true || (Array.isArray(categories) && [...categories])),
    isEnabled: (c) => on === true || (!!on && on.includes(c)),
    log(c, m, d) {
      if (logger.isEnabled(c)) sink(c, m, d === undefined ? d : redact(d));
    },
  };
  logger.enable(options.enabled ?? false);
  return logger;
}

/** @internal The `logger` option checked: a Logger as given, or one made from LoggerOptions. */
export function loggerFrom(value: Logger | LoggerOptions | undefined): Logger {
  // A Logger of the caller's own needs all three methods: the client calls each of them.
  if (typeof (value as Partial<Logger> | undefined)?.log == 'function')
    return opt(value as Logger, 'logger', ['log', 'isEnabled', 'enable'])!;
  const opts: LoggerOptions = opt(value as LoggerOptions, 'logger', 'object') ?? {};
  knownKeys(opts, ['enabled', 'sink', 'warn'], 'logger.');
  if (opts.warn !== undefined && typeof opts.warn != 'boolean')
    throw invalid('logger.warn', 'a boolean', kindOf(opts.warn));
  const on: unknown = opts.enabled;
  if (!(
    on === undefined ||
    typeof on == 'boolean' ||
    (Array.isArray(on) && on.every((c) => typeof c == 'string'))
  )) {
    throw invalid('logger.enabled', 'a boolean or a list of categories');
  }
  opt(opts.sink, 'logger.sink', 'function');
  return createLogger(opts);
}
