/**
 * Decoder for the amdkfd CRIU `priv_data` blob that rejects exactly what the kernel restore path
 * (`criu_restore`, spec §5.4) rejects while *parsing* the blob:
 *  - any read past the end ("blob overflow") → -EINVAL,
 *  - an object whose first u32 is not QUEUE/EVENT/SVM_RANGE ("Invalid object type") → -EINVAL,
 *  - bytes left after num_objects objects ("Invalid private data size", step 6) → -EINVAL.
 * Semantic checks that need process state (version, n_pdds, gpu ids, queue types, ...) belong to
 * the restore handler, not here.
 */
import {
  type BoPriv,
  checkMaxGpuInstance,
  DEFAULT_MAX_GPU_INSTANCE,
  type DevicePriv,
  EINVAL,
  type EventPriv,
  KFD_CRIU_OBJECT_TYPE,
  KFD_CRIU_SVM_COMMON_ATTRS,
  type MaxGpuInstance,
  type ObjectPriv,
  PRIV_EVENT_TYPE,
  PRIV_OFFSETS,
  PRIV_SIZES,
  type PrivData,
  PrivDataError,
  QUEUE_U32,
  QUEUE_U64,
  type QueuePriv,
  type SvmAttr,
  type SvmRangePriv,
} from './kfd-priv-layout.js';

export interface PrivDataCounts {
  num_devices: number;
  num_bos: number;
  num_objects: number;
}

/** Bounds-checked little-endian reader; every read is preceded by `need()`. */
/** A bounds-checked cursor over a blob; `need` throws PrivDataError (-EINVAL) on overflow. */
export class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly blob: Uint8Array) {
    this.view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  }
  get remaining(): number {
    return this.blob.byteLength - this.pos;
  }
  /** Mirrors `if (*priv_offset + size > max_priv_data_size) return -EINVAL;`. */
  need(n: number, field: string): void {
    if (n > this.remaining) {
      throw new PrivDataError(
        `blob overflow: ${field} needs ${n} bytes at offset ${this.pos} but only ` +
          `${this.remaining} of ${this.blob.byteLength} remain`,
        this.pos,
        field,
        EINVAL,
      );
    }
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  u64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
}

function checkCount(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new PrivDataError(`${name} must be a u32, got ${String(v)}`, 0, name, EINVAL);
  }
  return v;
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
  if (e.type === PRIV_EVENT_TYPE.MEMORY) {
    const at = base + O.memory_exception_data;
    const M = PRIV_OFFSETS.memoryException;
    e.memory_exception_data = {
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
  } else if (e.type === PRIV_EVENT_TYPE.HW_EXCEPTION) {
    const at = base + O.hw_exception_data;
    const H = PRIV_OFFSETS.hwException;
    e.hw_exception_data = {
      reset_type: r.u32(at + H.reset_type),
      reset_cause: r.u32(at + H.reset_cause),
      memory_lost: r.u32(at + H.memory_lost),
      gpu_id: r.u32(at + H.gpu_id),
    };
  }
  r.pos += PRIV_SIZES.event;
  return e;
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

/** One kfd_criu_bo_priv_data record at the cursor (mapped_gpuids read up to the 0 terminator). */
export function readBoPriv(r: Reader, max: MaxGpuInstance, field: string | number): BoPriv {
  const boSize = PRIV_SIZES.bo(max);
  // a number i names the record bos[i] (the name is made only for an error)
  if (boSize > r.remaining) r.need(boSize, typeof field === 'number' ? `bos[${field}]` : field);
  const base = r.pos;
  const mapped: number[] = [];
  for (let j = 0; j < max; j++) {
    const g = r.u32(base + PRIV_OFFSETS.bo.mapped_gpuids + 4 * j);
    if (g === 0) break;
    mapped.push(g);
  }
  r.pos += boSize;
  return {
    user_addr: r.u64(base + PRIV_OFFSETS.bo.user_addr),
    idr_handle: r.u32(base + PRIV_OFFSETS.bo.idr_handle),
    mapped_gpuids: mapped,
  };
}

/**
 * Decodes a `priv_data` blob as `criu_restore` consumes it (spec §5.4 steps 2–6).
 *
 * `counts` are the RESTORE args `num_devices`, `num_bos`, `num_objects`. The number of attrs of an
 * SVM range is not stored in the blob: the kernel derives it as `4 + n_pdds`, and since RESTORE
 * requires `num_devices == n_pdds` (§5.4 step 3) this decoder uses `counts.num_devices` as n_pdds.
 * `max` is MAX_GPU_INSTANCE of the restoring kernel (default 64); it fixes the BO record size.
 *
 * The process version is returned, not checked (that is the restore handler's job).
 * Throws PrivDataError (errno -22) for every rejection; never allocates in proportion to a count
 * before checking it against the remaining bytes.
 */
export function decodePrivData(
  blob: Uint8Array,
  counts: PrivDataCounts,
  max: MaxGpuInstance = DEFAULT_MAX_GPU_INSTANCE,
): PrivData {
  if (!(blob instanceof Uint8Array)) throw new TypeError('decodePrivData: blob must be a Uint8Array');
  checkMaxGpuInstance(max);
  const numDevices = checkCount(counts.num_devices, 'num_devices');
  const numBos = checkCount(counts.num_bos, 'num_bos');
  const numObjects = checkCount(counts.num_objects, 'num_objects');
  const r = new Reader(blob);

  // Step 2: criu_restore_process.
  r.need(PRIV_SIZES.process, 'process');
  const process = {
    version: r.u32(PRIV_OFFSETS.process.version),
    xnack_mode: r.u32(PRIV_OFFSETS.process.xnack_mode),
  };
  r.pos += PRIV_SIZES.process;

  // Step 3: criu_restore_devices (content ignored by the kernel; decoded for round trips).
  r.need(numDevices * PRIV_SIZES.device, 'devices');
  const devices: DevicePriv[] = [];
  for (let i = 0; i < numDevices; i++) {
    devices.push({ reserved: r.u64(r.pos + PRIV_OFFSETS.device.reserved) });
    r.pos += PRIV_SIZES.device;
  }

  // Step 4: criu_restore_bos.
  const boSize = PRIV_SIZES.bo(max);
  r.need(numBos * boSize, 'bos');
  const bos = [];
  for (let i = 0; i < numBos; i++) {
    const base = r.pos;
    const mapped: number[] = [];
    // Kernel maps while mapped_gpuids[j] != 0 (0-terminated, at most MAX entries).
    for (let j = 0; j < max; j++) {
      const g = r.u32(base + PRIV_OFFSETS.bo.mapped_gpuids + 4 * j);
      if (g === 0) break;
      mapped.push(g);
    }
    bos.push({
      user_addr: r.u64(base + PRIV_OFFSETS.bo.user_addr),
      idr_handle: r.u32(base + PRIV_OFFSETS.bo.idr_handle),
      mapped_gpuids: mapped,
    });
    r.pos += boSize;
  }

  // Step 5: criu_restore_objects — dispatch on the first u32 of each record.
  const objects: ObjectPriv[] = [];
  for (let i = 0; i < numObjects; i++) {
    const field = `objects[${i}]`;
    r.need(4, `${field}.object_type`);
    const type = r.u32(r.pos);
    switch (type) {
      case KFD_CRIU_OBJECT_TYPE.QUEUE:
        objects.push(readQueue(r, field));
        break;
      case KFD_CRIU_OBJECT_TYPE.EVENT:
        objects.push(readEvent(r, field));
        break;
      case KFD_CRIU_OBJECT_TYPE.SVM_RANGE:
        objects.push(readSvm(r, field, numDevices));
        break;
      default:
        throw new PrivDataError(`Invalid object type:${type} at index:${i}`, r.pos, `${field}.object_type`, EINVAL);
    }
  }

  // Step 6: priv_offset != priv_data_size.
  if (r.remaining !== 0) {
    throw new PrivDataError(
      `Invalid private data size: consumed ${r.pos} of ${blob.byteLength} bytes`,
      r.pos,
      'priv_data_size',
      EINVAL,
    );
  }
  return { process, devices, bos, objects };
}
