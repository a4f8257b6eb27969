/**
 * The objects section of a `priv_data` blob as `criu_restore_objects` parses it (spec §5.4
 * step 5): one record per object, dispatched on its first u32 — a queue (header, then MQD and
 * control stack), an event (fixed size, exception data by event type) or an SVM range (header
 * and 4 + n_pdds attrs). Any other type is "Invalid object type" (-EINVAL).
 */
import {
  EINVAL,
  type EventPriv,
  type HwExceptionData,
  KFD_CRIU_OBJECT_TYPE,
  KFD_CRIU_SVM_COMMON_ATTRS,
  type MemoryExceptionData,
  type ObjectPriv,
  PRIV_EVENT_TYPE,
  PRIV_OFFSETS,
  PRIV_SIZES,
  PrivDataError,
  QUEUE_U32,
  QUEUE_U64,
  type QueuePriv,
  type SvmAttr,
  type SvmRangePriv,
} from './kfd-priv-layout.js';
import type { Reader } from './kfd-priv-reader.js';

/** Object `i` at the cursor: its type's reader, or "Invalid object type" for an unknown type. */
export function readObject(r: Reader, i: number, nPdds: number): ObjectPriv {
  const field = `objects[${i}]`;
  r.need(4, `${field}.object_type`);
  const type = r.u32(r.pos);
  switch (type) {
    case KFD_CRIU_OBJECT_TYPE.QUEUE:
      return readQueue(r, field);
    case KFD_CRIU_OBJECT_TYPE.EVENT:
      return readEvent(r, field);
    case KFD_CRIU_OBJECT_TYPE.SVM_RANGE:
      return readSvm(r, field, nPdds);
    default:
      throw new PrivDataError(`Invalid object type:${type} at index:${i}`, r.pos, `${field}.object_type`, EINVAL);
  }
}

export function readQueue(r: Reader, field: string): QueuePriv {
  const base = r.pos;
  r.need(PRIV_SIZES.queueHeader, field);
  const O = PRIV_OFFSETS.queue;
  const q = { object_type: KFD_CRIU_OBJECT_TYPE.QUEUE } as Record<string, unknown>;
  for (const k of QUEUE_U64) q[k] = r.u64(base + O[k]);
  for (const k of QUEUE_U32) q[k] = r.u32(base + O[k]);
  r.pos += PRIV_SIZES.queueHeader;
  const mqdSize = q.mqd_size as number;
  const ctlSize = q.ctl_stack_size as number;
  // Kernel: q_extra_data_size = ctl_stack_size + mqd_size, checked before kmalloc.
  r.need(mqdSize + ctlSize, `${field}.mqd+ctl_stack`);
  q.mqd = r.blob.slice(r.pos, r.pos + mqdSize);
  r.pos += mqdSize;
  q.ctl_stack = r.blob.slice(r.pos, r.pos + ctlSize);
  r.pos += ctlSize;
  return q as unknown as QueuePriv;
}

export function readEvent(r: Reader, field: string): EventPriv {
  const base = r.pos;
  r.need(PRIV_SIZES.event, field);
  const O = PRIV_OFFSETS.event;
  const e: EventPriv = {
    object_type: KFD_CRIU_OBJECT_TYPE.EVENT,
    user_handle: r.u64(base + O.user_handle),
    event_id: r.u32(base + O.event_id),
    auto_reset: r.u32(base + O.auto_reset),
    type: r.u32(base + O.type),
    signaled: r.u32(base + O.signaled),
  };
  if (e.type === PRIV_EVENT_TYPE.MEMORY)
    e.memory_exception_data = readMemoryException(r, base + O.memory_exception_data);
  else if (e.type === PRIV_EVENT_TYPE.HW_EXCEPTION)
    e.hw_exception_data = readHwException(r, base + O.hw_exception_data);
  r.pos += PRIV_SIZES.event;
  return e;
}

/** The memory exception data of a MEMORY event, at `at` (inside the already checked event). */
function readMemoryException(r: Reader, at: number): MemoryExceptionData {
  const M = PRIV_OFFSETS.memoryException;
  return {
    failure: {
      NotPresent: r.u32(at + M['failure.NotPresent']),
      ReadOnly: r.u32(at + M['failure.ReadOnly']),
      NoExecute: r.u32(at + M['failure.NoExecute']),
      imprecise: r.u32(at + M['failure.imprecise']),
    },
    va: r.u64(at + M.va),
    gpu_id: r.u32(at + M.gpu_id),
    ErrorType: r.u32(at + M.ErrorType),
  };
}

/** The hardware exception data of a HW_EXCEPTION event, at `at` (inside the already checked event). */
function readHwException(r: Reader, at: number): HwExceptionData {
  const H = PRIV_OFFSETS.hwException;
  return {
    reset_type: r.u32(at + H.reset_type),
    reset_cause: r.u32(at + H.reset_cause),
    memory_lost: r.u32(at + H.memory_lost),
    gpu_id: r.u32(at + H.gpu_id),
  };
}

export function readSvm(r: Reader, field: string, nPdds: number): SvmRangePriv {
  const base = r.pos;
  const nattr = KFD_CRIU_SVM_COMMON_ATTRS + nPdds;
  // Kernel: svm_priv_data_size = sizeof(header) + sizeof(attr) * (4 + n_pdds), checked up front.
  r.need(PRIV_SIZES.svmHeader + PRIV_SIZES.svmAttr * nattr, field);
  const O = PRIV_OFFSETS.svmRange;
  const attrs: SvmAttr[] = [];
  for (let i = 0; i < nattr; i++) {
    const at = base + O.attrs + i * PRIV_SIZES.svmAttr;
    attrs.push({
      type: r.u32(at + PRIV_OFFSETS.svmAttr.type),
      value: r.u32(at + PRIV_OFFSETS.svmAttr.value),
    });
  }
  r.pos += PRIV_SIZES.svmHeader + PRIV_SIZES.svmAttr * nattr;
  return {
    object_type: KFD_CRIU_OBJECT_TYPE.SVM_RANGE,
    start_addr: r.u64(base + O.start_addr),
    size: r.u64(base + O.size),
    attrs,
  };
}
