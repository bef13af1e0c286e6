/**
 * Reading the server's answer to a `state_request` handshake: the machine's `ack`
 * (a new period: epoch, seq base, tagging) or `nack` (why not).
 */
import type { RequestResponse } from '../protocol';
import { isPlainObject } from '../util';
import type { MachineEvent } from './types';

const str = (v: unknown) => typeof v == 'string' && v;

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
  if (item?.ok && typeof d.runtime_epoch == 'string' && Number.isInteger(seqBase) && seqBase >= 0) {
    return {
      type: 'ack',
      gen,
      epoch: d.runtime_epoch,
      seqBase,
      tagged: d.push_correlation === true,
    };
  }
  // An ok:true item carrying { code, message } is Agent Zero's wrapped INVALID_REQUEST (anchor §4.2-B).
  // The error item is server data: only string code/message are trusted.
  const e = isPlainObject(item?.error) ? item.error : d;
  return {
    type: 'nack',
    gen,
    code: str(e.code) || (item ? 'INVALID_ENVELOPE' : 'HANDSHAKE_FAILED'),
    message:
      typeof e.error == 'string'
        ? e.error
        : typeof e.message == 'string'
          ? e.message
          : `state_request ack ${item ? 'lacks runtime_epoch/seq_base' : 'has no results'}`,
  };
}
