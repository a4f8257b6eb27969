/**
 * Encoder for the amdkfd CRIU `priv_data` blob, in the order `criu_checkpoint` writes it
 * (spec §3, §5.2): [process][device × n][bo × n][objects in order].
 */
import {
  checkMaxGpuInstance,
  DEFAULT_MAX_GPU_INSTANCE,
  type EventPriv,
  KFD_CRIU_OBJECT_TYPE,
  KFD_CRIU_SVM_COMMON_ATTRS,
  type MaxGpuInstance,
  type ObjectPriv,
  PRIV_EVENT_TYPE,
  PRIV_OFFSETS,
  PRIV_SIZES,
  type PrivData,
  QUEUE_U32,
  QUEUE_U64,
  type QueuePriv,
  type SvmRangePriv,
} from './kfd-priv-layout.js';

const U64_MAX = (1n << 64n) - 1n;

function checkU32(v: unknown, path: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new Error(`encodePrivData: ${path} must be a u32 integer, got ${String(v)}`);
  }
}

function checkU64(v: unknown, path: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new Error(`encodePrivData: ${path} must be a u64 bigint, got ${String(v)}`);
  }
}

function checkBytes(v: unknown, len: number, path: string, lenField: string): void {
  if (!(v instanceof Uint8Array)) {
    throw new Error(`encodePrivData: ${path} must be a Uint8Array`);
  }
  if (v.length !== len) {
    throw new Error(`encodePrivData: ${path} has ${v.length} bytes but ${lenField} is ${len}`);
  }
}

function validateQueue(q: QueuePriv, path: string): number {
  for (const k of QUEUE_U64) checkU64(q[k], `${path}.${k}`);
  for (const k of QUEUE_U32) checkU32(q[k], `${path}.${k}`);
  checkBytes(q.mqd, q.mqd_size, `${path}.mqd`, 'mqd_size');
  checkBytes(q.ctl_stack, q.ctl_stack_size, `${path}.ctl_stack`, 'ctl_stack_size');
  return PRIV_SIZES.queueHeader + q.mqd_size + q.ctl_stack_size;
}

function validateEvent(e: EventPriv, path: string): number {
  checkU64(e.user_handle, `${path}.user_handle`);
  for (const k of ['event_id', 'auto_reset', 'type', 'signaled'] as const) {
    checkU32(e[k], `${path}.${k}`);
  }
  if (e.type === PRIV_EVENT_TYPE.MEMORY && e.memory_exception_data) {
    const m = e.memory_exception_data;
    const p = `${path}.memory_exception_data`;
    for (const k of ['NotPresent', 'ReadOnly', 'NoExecute', 'imprecise'] as const) {
      checkU32(m.failure?.[k], `${p}.failure.${k}`);
    }
    checkU64(m.va, `${p}.va`);
    checkU32(m.gpu_id, `${p}.gpu_id`);
    checkU32(m.ErrorType, `${p}.ErrorType`);
  }
  if (e.type === PRIV_EVENT_TYPE.HW_EXCEPTION && e.hw_exception_data) {
    const h = e.hw_exception_data;
    for (const k of ['reset_type', 'reset_cause', 'memory_lost', 'gpu_id'] as const) {
      checkU32(h[k], `${path}.hw_exception_data.${k}`);
    }
  }
  return PRIV_SIZES.event;
}

function validateSvm(s: SvmRangePriv, path: string, nPdds: number): number {
  checkU64(s.start_addr, `${path}.start_addr`);
  checkU64(s.size, `${path}.size`);
  if (!Array.isArray(s.attrs)) throw new Error(`encodePrivData: ${path}.attrs must be an array`);
  const want = KFD_CRIU_SVM_COMMON_ATTRS + nPdds;
  if (s.attrs.length !== want) {
    throw new Error(
      `encodePrivData: ${path}.attrs has ${s.attrs.length} entries; the kernel saves exactly ` +
        `4 + n_pdds = ${want} (n_pdds = devices.length = ${nPdds}) and restore derives the count ` +
        'from n_pdds (spec §5.2.3)',
    );
  }
  s.attrs.forEach((a, i) => {
    checkU32(a.type, `${path}.attrs[${i}].type`);
    checkU32(a.value, `${path}.attrs[${i}].value`);
  });
  return PRIV_SIZES.svmHeader + PRIV_SIZES.svmAttr * want;
}

function validateObject(o: ObjectPriv, path: string, nPdds: number): number {
  switch (o.object_type) {
    case KFD_CRIU_OBJECT_TYPE.QUEUE:
      return validateQueue(o, path);
    case KFD_CRIU_OBJECT_TYPE.EVENT:
      return validateEvent(o, path);
    case KFD_CRIU_OBJECT_TYPE.SVM_RANGE:
      return validateSvm(o, path, nPdds);
    default:
      throw new Error(
        `encodePrivData: ${path}.object_type must be 0 (QUEUE), 1 (EVENT) or 2 (SVM_RANGE), got ` +
          String((o as { object_type: unknown }).object_type),
      );
  }
}

/**
 * Validates `d` and returns the byte size of its blob. Throws a plain Error naming the offending
 * field for anything the kernel could never have written (out-of-range integers, payload lengths
 * that disagree with mqd_size/ctl_stack_size, too many or zero mapped_gpuids, SVM attr counts
 * other than 4 + devices.length).
 */
export function privDataSize(d: PrivData, max: MaxGpuInstance = DEFAULT_MAX_GPU_INSTANCE): number {
  checkMaxGpuInstance(max);
  checkU32(d.process.version, 'process.version');
  checkU32(d.process.xnack_mode, 'process.xnack_mode');
  d.devices.forEach((dev, i) => {
    checkU64(dev.reserved, `devices[${i}].reserved`);
  });
  d.bos.forEach((bo, i) => {
    const p = `bos[${i}]`;
    checkU64(bo.user_addr, `${p}.user_addr`);
    checkU32(bo.idr_handle, `${p}.idr_handle`);
    if (!Array.isArray(bo.mapped_gpuids)) {
      throw new Error(`encodePrivData: ${p}.mapped_gpuids must be an array`);
    }
    if (bo.mapped_gpuids.length > max) {
      throw new Error(
        `encodePrivData: ${p}.mapped_gpuids has ${bo.mapped_gpuids.length} entries but ` +
          `MAX_GPU_INSTANCE is ${max} (kfd_criu_bo_priv_data.mapped_gpuids[${max}])`,
      );
    }
    bo.mapped_gpuids.forEach((g, j) => {
      checkU32(g, `${p}.mapped_gpuids[${j}]`);
      if (g === 0) {
        throw new Error(
          `encodePrivData: ${p}.mapped_gpuids[${j}] is 0, which is the list terminator ` +
            '(gpu_id 0 is never a valid user gpu_id)',
        );
      }
    });
  });
  let size = PRIV_SIZES.process + PRIV_SIZES.device * d.devices.length;
  size += PRIV_SIZES.bo(max) * d.bos.length;
  d.objects.forEach((o, i) => {
    size += validateObject(o, `objects[${i}]`, d.devices.length);
  });
  return size;
}

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }
  u64(at: number, v: bigint): void {
    this.view.setBigUint64(at, v, true);
  }
}

function writeQueue(w: Writer, base: number, q: QueuePriv): number {
  const O = PRIV_OFFSETS.queue;
  w.u32(base + O.object_type, KFD_CRIU_OBJECT_TYPE.QUEUE);
  for (const k of QUEUE_U64) w.u64(base + O[k], q[k]);
  for (const k of QUEUE_U32) w.u32(base + O[k], q[k]);
  let at = base + PRIV_SIZES.queueHeader;
  w.bytes.set(q.mqd, at);
  at += q.mqd_size;
  w.bytes.set(q.ctl_stack, at);
  return at + q.ctl_stack_size;
}

function writeEvent(w: Writer, base: number, e: EventPriv): number {
  const O = PRIV_OFFSETS.event;
  w.u32(base + O.object_type, KFD_CRIU_OBJECT_TYPE.EVENT);
  w.u64(base + O.user_handle, e.user_handle);
  w.u32(base + O.event_id, e.event_id);
  w.u32(base + O.auto_reset, e.auto_reset);
  w.u32(base + O.type, e.type);
  w.u32(base + O.signaled, e.signaled);
  const m = e.memory_exception_data;
  if (e.type === PRIV_EVENT_TYPE.MEMORY && m) {
    const at = base + O.memory_exception_data;
    const M = PRIV_OFFSETS.memoryException;
    w.u32(at + M['failure.NotPresent'], m.failure.NotPresent);
    w.u32(at + M['failure.ReadOnly'], m.failure.ReadOnly);
    w.u32(at + M['failure.NoExecute'], m.failure.NoExecute);
    w.u32(at + M['failure.imprecise'], m.failure.imprecise);
    w.u64(at + M.va, m.va);
    w.u32(at + M.gpu_id, m.gpu_id);
    w.u32(at + M.ErrorType, m.ErrorType);
  }
  const h = e.hw_exception_data;
  if (e.type === PRIV_EVENT_TYPE.HW_EXCEPTION && h) {
    const at = base + O.hw_exception_data;
    const H = PRIV_OFFSETS.hwException;
    for (const k of ['reset_type', 'reset_cause', 'memory_lost', 'gpu_id'] as const) {
      w.u32(at + H[k], h[k]);
    }
  }
  return base + PRIV_SIZES.event;
}

function writeSvm(w: Writer, base: number, s: SvmRangePriv): number {
  const O = PRIV_OFFSETS.svmRange;
  w.u32(base + O.object_type, KFD_CRIU_OBJECT_TYPE.SVM_RANGE);
  w.u64(base + O.start_addr, s.start_addr);
  w.u64(base + O.size, s.size);
  let at = base + O.attrs;
  for (const a of s.attrs) {
    w.u32(at + PRIV_OFFSETS.svmAttr.type, a.type);
    w.u32(at + PRIV_OFFSETS.svmAttr.value, a.value);
    at += PRIV_SIZES.svmAttr;
  }
  return at;
}

/**
 * Encodes `d` exactly as `criu_checkpoint` lays out `priv_data` on x86-64 (little endian,
 * padding zeroed like the kernel's kzalloc'ed buffers). `max` is MAX_GPU_INSTANCE (default 64).
 */
export function encodePrivData(d: PrivData, max: MaxGpuInstance = DEFAULT_MAX_GPU_INSTANCE): Uint8Array {
  const size = privDataSize(d, max);
  const w = new Writer(size);
  w.u32(PRIV_OFFSETS.process.version, d.process.version);
  w.u32(PRIV_OFFSETS.process.xnack_mode, d.process.xnack_mode);
  let at: number = PRIV_SIZES.process;
  for (const dev of d.devices) {
    w.u64(at + PRIV_OFFSETS.device.reserved, dev.reserved);
    at += PRIV_SIZES.device;
  }
  const boSize = PRIV_SIZES.bo(max);
  for (const bo of d.bos) {
    w.u64(at + PRIV_OFFSETS.bo.user_addr, bo.user_addr);
    w.u32(at + PRIV_OFFSETS.bo.idr_handle, bo.idr_handle);
    bo.mapped_gpuids.forEach((g, j) => {
      w.u32(at + PRIV_OFFSETS.bo.mapped_gpuids + 4 * j, g);
    });
    at += boSize;
  }
  for (const o of d.objects) {
    if (o.object_type === KFD_CRIU_OBJECT_TYPE.QUEUE) at = writeQueue(w, at, o);
    else if (o.object_type === KFD_CRIU_OBJECT_TYPE.EVENT) at = writeEvent(w, at, o);
    else at = writeSvm(w, at, o);
  }
  if (at !== size) throw new Error(`encodePrivData: internal size mismatch ${at} != ${size}`);
  return w.bytes;
}
