/**
 * What a Socket.IO `connect_error` means, in words a developer can act on: which server and
 * namespace, and why (the HTTP status of the handshake, the server's own message and data,
 * or a server that cannot be reached).
 */
import { fail, type SyncwireError } from '../errors';
import { isPlainObject } from '../util';

/** The fields socket.io-client and engine.io-client put on a connect_error. */
interface ConnectErrorLike extends Error {
  /** engine.io-client's TransportError: 'TransportError'. */
  type?: string;
  /** The HTTP status of a failed long-polling request (0: no answer), or the WebSocket error event. */
  description?: unknown;
  /** The server's data, for a rejection at the namespace level. */
  data?: unknown;
}

/** An error code hidden in a transport error's description (Node: ECONNREFUSED, ENOTFOUND, ...). */
function systemCode(description: unknown): string | undefined {
  const d = description as { code?: unknown; error?: { code?: unknown } } | undefined;
  const code = d?.error?.code ?? d?.code;
  return typeof code === 'string' ? code : undefined;
}

/** HTTP statuses start at 100; below that a description is no answer at all (0). */
const LOWEST_HTTP_STATUS = 100;
/** The server's data in a message is cut here: enough to see what it said, not a dump. */
const MAX_DATA_CHARS = 200;

/** Socket.IO's own default path, for a client whose `socketOptions.path` does not say. */
const SOCKET_IO_PATH = '/socket.io';

/**
 * @internal The SyncwireError for one connect_error of namespace `ns` on the server at `url`
 * (Socket.IO's endpoint: `url` + `path`, the client's `socketOptions.path`, by default
 * /socket.io). `rejected`: Socket.IO will not retry by itself.
 */
export function describeConnectError(
  raw: unknown,
  ns: string,
  url: string,
  path: unknown,
  rejected: boolean,
): SyncwireError {
  const e: ConnectErrorLike = raw instanceof Error ? raw : new Error(String(raw));
  const data = e.data;
  const where = `${ns} at ${url}`;
  if (
    e.message === 'UNKNOWN_NAMESPACE' ||
    (isPlainObject(data) && data.code === 'UNKNOWN_NAMESPACE')
  ) {
    return fail(
      'UNKNOWN_NAMESPACE',
      `the server at ${url} does not know namespace ${ns}`,
      data ?? { code: 'UNKNOWN_NAMESPACE', namespace: ns },
      e,
    );
  }
  const endpoint = url + (typeof path === 'string' ? path : SOCKET_IO_PATH).replace(/\/?$/, '/');
  const details: Record<string, unknown> = {
    url,
    namespace: ns,
    reason: e.message,
    rejected,
    data,
  };
  let why: string;
  if (e.type === 'TransportError') {
    const status =
      typeof e.description === 'number' && e.description >= LOWEST_HTTP_STATUS
        ? e.description
        : undefined;
    const code = systemCode(e.description);
    if (status) {
      details.status = status;
      why = `the Socket.IO handshake (${endpoint}) answered HTTP ${status} (${e.message})`;
    } else why = `server unreachable at ${endpoint} (${e.message}${code ? `: ${code}` : ''})`;
  } else if (e.message === 'timeout') {
    why = `no answer from ${endpoint} within socketOptions.timeout`;
  } else {
    const said = data === undefined ? '' : ` (${safeJson(data)})`;
    // Agent Zero rejects a stale CSRF token, a missing cookie or a foreign Origin with this
    // text and no data; the reason is only in the server's log.
    const hint =
      data === undefined && e.message === 'Connection rejected by server'
        ? '; the server gives no reason (Agent Zero: a stale CSRF token, a cookie it did not get, or the Origin)'
        : '';
    why = `the server rejected it: ${e.message}${said}${hint}`;
  }
  return fail('CONNECT_ERROR', `connect to ${where} failed: ${why}`, details, e);
}

/** JSON of server data for a message, never throwing and never long. */
function safeJson(v: unknown): string {
  try {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > MAX_DATA_CHARS ? text.slice(0, MAX_DATA_CHARS) + '…' : text;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * @internal socket.io-client's Manager reached `reconnectionAttempts` and stopped: the error
 * for whoever waits, saying how to start again.
 */
export const gaveUpError = (ns: string, url: string): SyncwireError =>
  fail(
    'CONNECT_ERROR',
    `gave up reconnecting to ${ns} at ${url} (socketOptions.reconnectionAttempts reached); the next connect(), emit() or request() tries again`,
    { url, namespace: ns, reason: 'reconnect_failed' },
  );

/** @internal `connect()` got no answer within `ms` (its `connectTimeoutMs`); retries go on. */
export const connectTimeoutError = (ns: string, url: string, ms: number): SyncwireError =>
  fail('CONNECT_ERROR', `no answer from ${ns} at ${url} within ${ms} ms (connectTimeoutMs)`, {
    url,
    namespace: ns,
    reason: 'timeout',
  });

/** HTTP answers to the Engine.IO handshake that mean "your cookies are stale". */
const AUTH_REFUSED = [401, 403];

/** @internal The Engine.IO handshake was refused with an HTTP status that means stale cookies. */
export const staleCookies = (err: SyncwireError): boolean =>
  AUTH_REFUSED.includes((err.details as { status?: number } | undefined)?.status as number);
