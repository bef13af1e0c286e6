/**
 * The state-sync wire format, read: a `state_request` handshake's answer (the machine's
 * `ack` or `nack`), a `state_push` envelope, and the handshake tag a push carries.
 */
import { messageOf } from '../errors';
import { assertServerEnvelope, type RequestResponse } from '../protocol';
import { isPlainObject, kindOf } from '../util';
import type { MachineEvent, PushIn } from './types';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** @internal The machine event for handshake `gen`'s answer. */
export function handshakeAnswer(gen: number, res: RequestResponse): MachineEvent {
  const { results } = res;
  // The handshake's own result: the one carrying runtime_epoch, else the first error (anchor §4.2-S).
  const item =
    results.find((r) => r.ok && isPlainObject(r.data) && 'runtime_epoch' in r.data) ??
    results.find((r) => !r.ok) ??
    results[0];
  const d = isPlainObject(item?.data) ? item.data : {};
  const seqBase = d.seq_base as number;
  if (
    item?.ok &&
    typeof d.runtime_epoch === 'string' &&
    Number.isInteger(seqBase) &&
    seqBase >= 0
  ) {
    return {
      type: 'ack',
      gen,
      epoch: d.runtime_epoch,
      seqBase,
      tagged: d.push_correlation === true,
    };
  }
  if (!item)
    return {
      type: 'nack',
      gen,
      code: 'HANDSHAKE_FAILED',
      message: 'state_request ack has no results',
    };
  // An ok:true item carrying { code, message } is Agent Zero's wrapped INVALID_REQUEST (anchor §4.2-B).
  // The error item is server data: only string code/message are trusted.
  const e = isPlainObject(item.error) ? item.error : d;
  const message =
    typeof e.error === 'string' ? e.error : typeof e.message === 'string' ? e.message : undefined;
  const serverCode = str(e.code);
  // The server's own code is no code of ours: HANDSHAKE_FAILED, saying which in details.serverCode.
  if (serverCode)
    return {
      type: 'nack',
      gen,
      code: 'HANDSHAKE_FAILED',
      serverCode,
      message: `the server refused state_request (${serverCode})${message === undefined ? '' : `: ${message}`}`,
    };
  return {
    type: 'nack',
    gen,
    code: 'INVALID_ENVELOPE',
    message: message ?? 'state_request ack lacks runtime_epoch/seq_base',
  };
}

/**
 * @internal A `state_push` payload as the machine takes it, or the message saying which field
 * is malformed: the envelope and its data checked in one pass, with no copy of either (the
 * store never shows the envelope). `tagOf` reads the envelope's correlationId (see
 * {@link createTagReader}); `at` is when it arrived.
 */
export function readPush(
  payload: unknown,
  tagOf: (correlationId: string) => number | null,
  at: number,
): PushIn | string {
  try {
    assertServerEnvelope(payload);
  } catch (e) {
    return `'state_push': ${messageOf(e)}`;
  }
  const d = payload.data ?? {};
  const seq = d.seq as number;
  let bad = '';
  if (typeof d.runtime_epoch !== 'string') bad = 'runtime_epoch';
  else if (!Number.isInteger(seq) || seq < 0) bad = 'seq';
  else if (!isPlainObject(d.snapshot)) bad = 'snapshot';
  if (bad) return `state_push field '${bad}' is invalid (${kindOf(d[bad])})`;
  return {
    epoch: d.runtime_epoch as string,
    seq,
    snapshot: d.snapshot as object,
    gen: tagOf(payload.correlationId),
    at,
  };
}

/**
 * @internal Reads the handshake a push was tagged with: its correlationId is
 * `<prefix><gen>` (`push_correlation`), else null. A period's pushes all carry the same
 * correlationId, so the last one is remembered.
 */
export function createTagReader(prefix: string): (correlationId: string) => number | null {
  let lastId: string | undefined;
  let lastTag: number | null = null;
  return (id) => {
    if (id !== lastId) {
      const tag = id.startsWith(prefix) ? Number(id.slice(prefix.length)) : NaN;
      lastId = id;
      lastTag = Number.isInteger(tag) ? tag : null;
    }
    return lastTag;
  };
}
