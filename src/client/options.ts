/**
 * The client's options: their defaults in one place, and the checks that turn what the user
 * passed into a {@link ResolvedOptions}. A bad option is a VALIDATION_ERROR when the client
 * is created, never a TypeError later inside a timer or a socket listener.
 */
import { isWallTime, systemClock, type Clock } from '../clock';
import { invalid } from '../errors';
import { loggerFrom, type Logger } from '../logger';
import { isNullish, isPlainObject, kindOf, type FetchLike } from '../util';
import { httpUrl, knownKeys, num, opt, required } from '../validate';
import type { AuthOption } from './auth';
import type { ClientOptions, EmitOptions, RequestOptions } from './api';
import { defaultSocketFactory, type SocketFactory, type SocketIoOptions } from './socket';
import type { ProbeTiming } from './transport';
import {
  createTransportMemo,
  noMemo,
  type MemoStorage,
  type TransportMemo,
} from './transport-memo';

/**
 * Every default of {@link ClientOptions} (and of the per-call `timeoutMs`, which is the
 * client's `requestTimeoutMs`). The TSDoc of each option names its entry here.
 */
export const DEFAULTS = {
  /** Where the default auth gets its CSRF token (Agent Zero's seed runtime serves it there). */
  csrfTokenUrl: '/csrf_token',
  /** Each request and emit settles within 30 s: no call waits for ever. */
  requestTimeoutMs: 30000,
  /** `connect()` rejects after 20 s without an answer (retries go on in the background). */
  connectTimeoutMs: 20000,
  /** An auth call that takes longer than 5 s holds no connect attempt back. */
  authTimeoutMs: 5000,
  /** 50 MiB: larger payloads are refused before anything is sent. */
  maxPayloadBytes: 52428800,
  /** Calls under way at once; one more rejects with OVERFLOW, so nothing piles up. */
  maxPending: 1000,
  /** Full-jitter backoff of the retries after the server rejects a connect. */
  retry: { baseMs: 250, maxMs: 10000 },
  /** A connection on long-polling probes WebSocket after 0.5-1 s, then backs off to 7.5-15 s. */
  websocketProbe: { baseMs: 1000, maxMs: 15000, timeoutMs: 10000 },
  /** A blocked WebSocket is remembered for 10 min: a reload within it starts on long-polling. */
  transportMemo: { ttlMs: 600000 },
} as const;

/** The options createNamespacedClient knows; any other name is a misspelling. */
const CLIENT_OPTIONS = [
  'url',
  'auth',
  'csrfTokenUrl',
  'requestTimeoutMs',
  'connectTimeoutMs',
  'authTimeoutMs',
  'maxPayloadBytes',
  'maxPending',
  'retry',
  'websocketProbe',
  'transportMemo',
  'socketOptions',
  'logger',
  'clock',
  'random',
  'fetch',
  'socketFactory',
];
/** The numeric options, in the order they are checked (the first bad one is reported). */
const LIMITS = [
  'connectTimeoutMs',
  'authTimeoutMs',
  'requestTimeoutMs',
  'maxPayloadBytes',
  'maxPending',
] as const;
type Limit = (typeof LIMITS)[number];

const CALL_OPTIONS = ['correlationId', 'confirm', 'timeoutMs', 'signal', 'onAck'];

/** @internal A client's options, checked, with every default filled in. */
export interface ResolvedOptions {
  /** The namespace, with its leading slash. */
  ns: string;
  /** The server's URL, without trailing slashes. */
  url: string;
  /** The absolute URL of the default auth's CSRF token. */
  tokenUrl: string;
  /** The user's auth option, when given. */
  auth: AuthOption | undefined;
  /** The user's fetch, when given (the default auth falls back to the global one). */
  fetch: FetchLike | undefined;
  retryBaseMs: number;
  retryMaxMs: number;
  /** The WebSocket probe's timing, or false: no probe. */
  probe: ProbeTiming | false;
  /** Where a blocked WebSocket is remembered (a memo that forgets at once when turned off). */
  memo: TransportMemo;
  /** See {@link DEFAULTS}. */
  connectTimeoutMs: number;
  authTimeoutMs: number;
  requestTimeoutMs: number;
  maxPayloadBytes: number;
  maxPending: number;
  clock: Clock;
  random: () => number;
  socketFactory: SocketFactory;
  socketOptions: SocketIoOptions;
  logger: Logger;
  /** Print errors nobody listens to (off with `logger: { warn: false }`). */
  warnUnheard: boolean;
}

/**
 * `path` resolved against `base` (like a link on its page), refused unless it stays on
 * `base`'s origin: the token must never be fetched from, or sent to, another site.
 */
function sameOriginUrl(path: unknown, base: string, field: string): string {
  if (typeof path !== 'string' || !path)
    throw invalid(
      field,
      "a path such as /api/csrf_token, or a URL on the server's origin",
      kindOf(path),
    );
  const resolved = new URL(path, base + '/');
  if (resolved.origin !== new URL(base).origin)
    throw invalid(
      field,
      `a URL on the server's origin (${new URL(base).origin})`,
      JSON.stringify(path),
    );
  return resolved.href;
}

/** `o[key]`: false, or a plain object of numbers (`names`), each defaulting to `defaults`. */
function numbersOrOff<K extends string>(
  o: Record<string, unknown>,
  key: string,
  defaults: Record<K, number>,
  extra: string[] = [],
): Record<K, number> | false {
  if (o[key] === false) return false;
  const given = opt(o[key] as Record<string, unknown>, key, 'object') ?? {};
  const names = Object.keys(defaults) as K[];
  knownKeys(given, [...names, ...extra], `${key}.`);
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = num(given, name, defaults[name], `${key}.`);
  return out;
}

/** The `transportMemo` option: a memo keyed by the server's origin and Engine.IO path, or none. */
function resolveMemo(o: Record<string, unknown>, url: string, clock: Clock): TransportMemo {
  const memo = numbersOrOff(o, 'transportMemo', DEFAULTS.transportMemo, ['storage']);
  if (!memo) return noMemo;
  const given = o.transportMemo as { storage?: MemoStorage } | undefined;
  const storage = opt(given?.storage, 'transportMemo.storage', [
    'getItem',
    'setItem',
    'removeItem',
  ]);
  const path = (o.socketOptions as SocketIoOptions | undefined)?.path ?? '/socket.io';
  return createTransportMemo(new URL(url).origin + path, memo.ttlMs, clock, storage);
}

/**
 * @internal Checks `namespace` and the user's `options` (in a fixed order, so the first bad
 * one is the one reported) and fills in the {@link DEFAULTS}.
 */
export function resolveOptions(namespace: string, options: ClientOptions): ResolvedOptions {
  if (typeof namespace !== 'string' || !namespace.trim())
    throw invalid('namespace', 'a non-empty string');
  const o = required(options, 'options', 'object');
  knownKeys(o, CLIENT_OPTIONS);
  const ns = namespace.trim().replace(/^\/?/, '/');
  // A page's origin by default; a host without `location` (Node) must name the server.
  const given = o.url ?? (globalThis as Partial<typeof globalThis>).location?.origin;
  if (given === undefined)
    throw invalid(
      'url',
      "the server's URL (a page gives its own origin; Node and workers must name it)",
    );
  // Without its trailing slashes: '//csrf_token' would be another path.
  const url = httpUrl(given, 'url').replace(/\/+$/, '');
  const tokenUrl = sameOriginUrl(o.csrfTokenUrl ?? DEFAULTS.csrfTokenUrl, url, 'csrfTokenUrl');
  const retry = opt(o.retry, 'retry', 'object') ?? {};
  knownKeys(retry, ['baseMs', 'maxMs'], 'retry.');
  const retryBaseMs = num(retry, 'baseMs', DEFAULTS.retry.baseMs, 'retry.');
  const retryMaxMs = num(retry, 'maxMs', DEFAULTS.retry.maxMs, 'retry.');
  const limits = {} as Record<Limit, number>;
  for (const key of LIMITS) limits[key] = num(o, key, DEFAULTS[key]);
  const clock = opt(o.clock, 'clock', ['now', 'setTimeout', 'clearTimeout']) ?? systemClock;
  const now = clock.now();
  if (!isWallTime(now))
    throw invalid(
      'clock.now()',
      'wall time in ms since 1970, like Date.now(), not a monotonic clock',
      typeof now === 'number' ? now : kindOf(now),
    );
  const random = opt(o.random, 'random', 'function') ?? Math.random;
  const socketFactory = opt(o.socketFactory, 'socketFactory', 'function') ?? defaultSocketFactory;
  const socketOptions = opt(o.socketOptions, 'socketOptions', 'object') ?? {};
  const record = o as Record<string, unknown>;
  const probe = numbersOrOff(record, 'websocketProbe', DEFAULTS.websocketProbe);
  const memo = resolveMemo(record, url, clock);
  if (typeof o.auth !== 'function') opt(o.auth, 'auth', 'object');
  const logger = loggerFrom(o.logger);
  // Checked last, as before: only the default auth uses it.
  const fetch = isNullish(o.auth) ? opt(o.fetch, 'fetch', 'function') : undefined;
  return {
    ns,
    url,
    tokenUrl,
    auth: o.auth ?? undefined,
    fetch,
    retryBaseMs,
    retryMaxMs,
    probe,
    memo,
    ...limits,
    clock,
    random,
    socketFactory,
    socketOptions,
    logger,
    warnUnheard: !(isPlainObject(o.logger) && o.logger.warn === false),
  };
}

/**
 * @internal Checks the options of one `emit()` or `request()` and returns its deadline
 * (`timeoutMs`, else the client's `requestTimeoutMs`). Absent is no options; `null`, like
 * any other non-object, is a VALIDATION_ERROR.
 */
export function checkCallOptions(options: unknown, requestTimeoutMs: number): number {
  const opts = required(
    (options === undefined ? {} : options) as EmitOptions & RequestOptions,
    'options',
    'object',
  );
  knownKeys(opts, CALL_OPTIONS);
  opt(opts.signal, 'signal', ['addEventListener', 'removeEventListener']);
  const timeoutMs = num(opts, 'timeoutMs', requestTimeoutMs);
  opt(opts.onAck, 'onAck', 'function');
  return timeoutMs;
}
