// Runtime identity, CSRF tokens and the Origin check, modelled on Agent Zero's
// run_ui.py / helpers/websocket.py so the client meets the same failure modes.
import { randomBytes } from 'node:crypto';
import { URL } from 'node:url';

/**
 * @typedef {object} Runtime
 * @property {string} id 16 hex chars; changes on restart() and bumpEpoch().
 */

/** @returns {string} a fresh runtime id (same format as Python's secrets.token_hex(8)). */
export function newRuntimeId() {
  return randomBytes(8).toString('hex');
}

/**
 * CSRF tokens valid for the current runtime. A restart forgets all of them,
 * just as a restarted Agent Zero forgets its sessions.
 */
export class CsrfStore {
  /** @param {Runtime} runtime */
  constructor(runtime) {
    this.runtime = runtime;
    /** @type {Set<string>} */
    this.tokens = new Set();
    // Runtime ids seen since the last restart. bumpEpoch() keeps tokens valid,
    // so a cookie named after an earlier epoch of this process must still count.
    /** @type {Set<string>} */
    this.epochIds = new Set([runtime.id]);
    /** Sessions of the /api/ mode: session id → its CSRF token. @type {Map<string, string>} */
    this.sessions = new Map();
  }

  /** @returns {string} a new url-safe token remembered for this runtime. */
  issue() {
    const token = randomBytes(32).toString('base64url');
    this.tokens.add(token);
    return token;
  }

  /** @param {unknown} token */
  isValid(token) {
    return typeof token === 'string' && this.tokens.has(token);
  }

  /**
   * True when a `csrf_token_<runtimeId>` cookie of this process carries `token`.
   * @param {Record<string, string>} cookies
   * @param {string} token
   */
  cookieMatches(cookies, token) {
    for (const id of this.epochIds) if (cookies[`csrf_token_${id}`] === token) return true;
    return false;
  }

  /**
   * A valid token taken from any `csrf_token_<id>` cookie of this process, or null.
   * @param {Record<string, string>} cookies
   */
  tokenFromCookies(cookies) {
    for (const id of this.epochIds) {
      const value = cookies[`csrf_token_${id}`];
      if (this.isValid(value)) return /** @type {string} */ (value);
    }
    return null;
  }

  /** Called after bumpEpoch(): tokens stay valid, the new cookie name joins the old ones. */
  noteEpoch() {
    this.epochIds.add(this.runtime.id);
  }

  /** Called after restart(): every token, session and old cookie name becomes invalid. */
  invalidateAll() {
    this.tokens.clear();
    this.sessions.clear();
    this.epochIds = new Set([this.runtime.id]);
  }

  /**
   * The session behind a `session_<runtimeId>` cookie (as current Agent Zero names it), or a new
   * one: its id, its CSRF token, and whether it was just made (then the answer sets the cookie).
   * @param {Record<string, string>} cookies
   * @returns {{ id: string, token: string, created: boolean }}
   */
  session(cookies) {
    for (const epoch of this.epochIds) {
      const id = cookies[`session_${epoch}`];
      const token = id === undefined ? undefined : this.sessions.get(id);
      if (token !== undefined && this.isValid(token)) return { id, token, created: false };
    }
    const id = randomBytes(16).toString('hex');
    const token = this.issue();
    this.sessions.set(id, token);
    return { id, token, created: true };
  }

  /**
   * Why an Engine.IO handshake is refused in the /api/ mode (current Agent Zero): no session
   * cookie of this process, or no csrf_token_<runtimeId> cookie carrying that session's token.
   * @param {Record<string, string>} cookies
   * @returns {string | null}
   */
  handshakeProblem(cookies) {
    let token;
    for (const epoch of this.epochIds) {
      const id = cookies[`session_${epoch}`];
      if (id !== undefined && this.sessions.has(id)) token = this.sessions.get(id);
    }
    if (token === undefined) return 'session_missing';
    return this.cookieMatches(cookies, token) ? null : 'csrf_cookie';
  }
}

/**
 * @param {string | undefined} header
 * @returns {Record<string, string>}
 */
export function parseCookies(header) {
  /** @type {Record<string, string>} */
  const out = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      /* keep the raw value */
    }
    if (name) out[name] = value;
  }
  return out;
}

/**
 * Origin check for a Socket.IO handshake, like validate_ws_origin(): Origin, else
 * the origin of Referer, must be http://<Host> or an explicitly allowed origin.
 * @param {Record<string, string | string[] | undefined>} headers
 * @param {{ allowedOrigins: string[], allowMissingOrigin: boolean }} opts
 * @returns {string | null} a rejection reason, or null when the origin is fine
 */
export function checkOrigin(headers, opts) {
  let origin = typeof headers.origin === 'string' ? headers.origin : '';
  if (!origin && typeof headers.referer === 'string' && headers.referer) {
    try {
      origin = new URL(headers.referer).origin;
    } catch {
      return 'invalid_origin';
    }
  }
  if (!origin) return opts.allowMissingOrigin ? null : 'missing_origin';
  if (origin === 'null') return 'invalid_origin';
  if (opts.allowedOrigins.includes(origin)) return null;
  const host = typeof headers.host === 'string' ? headers.host : '';
  if (!host) return 'missing_host';
  return origin === `http://${host}` ? null : 'origin_host_mismatch';
}
