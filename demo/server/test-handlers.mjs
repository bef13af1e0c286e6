// Harness handlers on /dev_websocket_test: each one exercises one client code
// path (request/ack, fire-and-forget, fan-out, server → client request, streams).
import { isPlainObject } from './manager.mjs';

export const TEST_NS = '/dev_websocket_test';
const ID = 'syncwire.reference.TestHandlers';

/**
 * @typedef {import('./manager.mjs').Manager} Manager
 * @typedef {{ state: string, seq?: number, text?: string, error?: string }} StreamEvent
 */

/** @param {unknown} v @param {number} min @param {number} max @param {number} fallback */
function clamp(v, min, max, fallback) {
  const n = typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  return Math.min(max, Math.max(min, n));
}

/** The handler's payload without the correlationId the manager added. @param {unknown} data */
function strip(data) {
  if (!isPlainObject(data)) return data;
  const { correlationId: _ignored, ...rest } = data;
  return rest;
}

/**
 * The ordered list of stream_event payloads that stream_start sends ("Pattern D").
 * @param {Record<string, unknown>} d
 * @returns {StreamEvent[]}
 */
export function streamPlan(d) {
  const count = Math.floor(clamp(d.count, 0, 1000, 5));
  const failAt = typeof d.failAt === 'number' ? d.failAt : 0;
  const abortAt = typeof d.abort === 'number' ? d.abort : d.abort ? count + 1 : 0;
  const order = Array.from({ length: count }, (_, i) => i + 1);
  if (d.outOfOrder && count >= 3) order.splice(1, 2, 3, 2); // delta 2 goes after delta 3
  /** @type {StreamEvent[]} */
  const plan = [];
  for (const seq of [...order, count + 1]) {
    if (seq === failAt) return [...plan, { state: 'error', seq, error: 'boom' }];
    if (seq === abortAt) return [...plan, { state: 'aborted', seq }];
    if (seq > count) break;
    plan.push({ state: 'delta', seq, text: `chunk ${seq} ` });
    if (d.duplicate) plan.push({ state: 'delta', seq, text: `chunk ${seq} ` });
  }
  let text = '';
  for (let seq = 1; seq <= count; seq += 1) text += `chunk ${seq} `;
  plan.push({ state: 'final', seq: count + 1, text });
  if (d.lateAfterFinal) plan.push({ state: 'delta', seq: count + 2, text: 'late ' });
  return plan;
}

/**
 * Registers the harness handlers. Returns dispose(), which cancels their timers.
 * @param {Manager} manager
 * @param {string[]} [alsoOn] other namespaces where the main handler (echo, delayed, fail, ...)
 *   answers too: a shared store's tabs call it on the store's own namespace
 */
export function registerTestHandlers(manager, alsoOn = []) {
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  const timers = new Set();
  /** @param {() => void} fn @param {number} ms */
  const later = (fn, ms) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const main = {
    handlerId: ID,
    events: [
      'echo',
      'echo_emit',
      'delayed',
      'fail',
      'fanout',
      'server_request',
      'stream_start',
      'disconnect_me',
      'record',
    ],
    async handle(event, data, ctx) {
      const d = isPlainObject(data) ? data : {};
      switch (event) {
        case 'echo':
          return { echo: strip(data) };
        case 'echo_emit':
          ctx.emitToSender('echo_reply', { echo: strip(data) }, ctx.correlationId);
          return undefined;
        case 'delayed': {
          const delayedMs = clamp(d.delayMs, 0, 10000, 0);
          await new Promise((resolve) => later(() => resolve(undefined), delayedMs));
          return { delayedMs };
        }
        case 'fail':
          throw new Error(typeof d.message === 'string' ? d.message : 'fail handler always throws');
        case 'fanout':
          return { delivered: ctx.broadcast('fanout_event', strip(data)) };
        case 'server_request': {
          // On timeout request() resolves with the TIMEOUT aggregate, which becomes the answer.
          const answer = await ctx.request(
            'client_question',
            { question: d.question ?? null },
            clamp(d.timeoutMs, 0, 60000, 2000),
          );
          return { answer };
        }
        case 'stream_start': {
          const plan = streamPlan(d);
          const interval = clamp(d.intervalMs, 0, 1000, 10);
          // Each event is scheduled after the ack has gone out, on the caller's correlationId.
          const step = (/** @type {number} */ i) => {
            const item = plan[i];
            if (!item || !ctx.socket.connected) return;
            ctx.emitToSender('stream_event', item, ctx.correlationId);
            later(() => step(i + 1), interval);
          };
          later(() => step(0), interval);
          return { accepted: true };
        }
        case 'disconnect_me':
          // Let the ack leave first; engine.io flushes its write buffer before closing.
          later(() => ctx.socket.conn.close(), 0);
          return { closing: true };
        default: // 'record': only counted in stats.received
          return undefined;
      }
    },
  };
  for (const ns of [TEST_NS, ...alsoOn]) manager.register(ns, main);
  manager.register(TEST_NS, {
    handlerId: 'syncwire.reference.MultiA',
    events: ['multi'],
    handle: () => ({ from: 'A' }),
  });
  manager.register(TEST_NS, {
    handlerId: 'syncwire.reference.MultiB',
    events: ['multi'],
    handle: () => ({ from: 'B' }),
  });

  return {
    dispose() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
