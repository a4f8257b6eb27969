/**
 * Kernel-private CRIU data (`priv_data`) of amdkfd: types, constants and the x86-64 byte layout.
 *
 * Layout source: spec §3 (`kfd_priv.h` structs) plus the uapi sub-structs of `kfd_ioctl.h`
 * (`kfd_ioctl_svm_attribute`, `kfd_hsa_memory_exception_data`, `kfd_hsa_hw_exception_data`).
 * Every offset below is checked against gcc's `offsetof`/`sizeof` in test/unit/kfd-priv.test.ts.
 * All multi-byte fields are little endian.
 */

/** `KFD_CRIU_PRIV_VERSION` (spec §3): written by CHECKPOINT, checked by RESTORE (§5.4 step 2). */
export const KFD_CRIU_PRIV_VERSION = 1;

/** `MAX_GPU_INSTANCE` (amdgpu.h): 64 on recent kernels (the default here), 16 on older ones. */
export type MaxGpuInstance = 16 | 64;
export const DEFAULT_MAX_GPU_INSTANCE: MaxGpuInstance = 64;

/** `enum kfd_criu_object_type` (spec §3): the first u32 of every object record. */
export const KFD_CRIU_OBJECT_TYPE = { QUEUE: 0, EVENT: 1, SVM_RANGE: 2 } as const;

/** Event types whose union member is meaningful (`KFD_IOC_EVENT_*`, kfd_ioctl.h). */
export const PRIV_EVENT_TYPE = { HW_EXCEPTION: 3, MEMORY: 8 } as const;

/** `enum kfd_ioctl_svm_attr_type` (kfd_ioctl.h). */
export const KFD_SVM_ATTR = {
  PREFERRED_LOC: 0,
  PREFETCH_LOC: 1,
  ACCESS: 2,
  ACCESS_IN_PLACE: 3,
  NO_ACCESS: 4,
  SET_FLAGS: 5,
  CLR_FLAGS: 6,
  GRANULARITY: 7,
} as const;

/**
 * Attrs saved per SVM range besides the per-pdd access attrs (spec §5.2.3):
 * PREFERRED_LOC, PREFETCH_LOC, SET_FLAGS, GRANULARITY. A range carries `4 + n_pdds` attrs.
 */
export const KFD_CRIU_SVM_COMMON_ATTRS = 4;

/** `struct kfd_criu_process_priv_data`. */
export interface ProcessPriv {
  version: number;
  xnack_mode: number;
}

/** `struct kfd_criu_device_priv_data` (content ignored by the kernel on restore). */
export interface DevicePriv {
  reserved: bigint;
}

/** `struct kfd_criu_bo_priv_data`. */
export interface BoPriv {
  user_addr: bigint;
  idr_handle: number;
  /** User gpu_ids the BO is mapped on, without the 0 terminator; at most MAX_GPU_INSTANCE entries. */
  mapped_gpuids: number[];
}

/** `struct kfd_criu_queue_priv_data` plus the MQD and control-stack payload that follows it. */
export interface QueuePriv {
  object_type: 0;
  q_address: bigint;
  q_size: bigint;
  read_ptr_addr: bigint;
  write_ptr_addr: bigint;
  doorbell_off: bigint;
  eop_ring_buffer_address: bigint;
  ctx_save_restore_area_address: bigint;
  gpu_id: number;
  type: number;
  format: number;
  q_id: number;
  priority: number;
  q_percent: number;
  doorbell_id: number;
  gws: number;
  sdma_id: number;
  eop_ring_buffer_size: number;
  ctx_save_restore_area_size: number;
  ctl_stack_size: number;
  mqd_size: number;
  /** mqd_size bytes (the MQDs of all XCCs concatenated, spec §5.2.1). */
  mqd: Uint8Array;
  /** ctl_stack_size bytes (the control stacks of all XCCs concatenated). */
  ctl_stack: Uint8Array;
}

/** `struct kfd_memory_exception_failure` (kfd_ioctl.h). */
export interface MemoryExceptionFailure {
  NotPresent: number;
  ReadOnly: number;
  NoExecute: number;
  imprecise: number;
}

/** `struct kfd_hsa_memory_exception_data` (kfd_ioctl.h). */
export interface MemoryExceptionData {
  failure: MemoryExceptionFailure;
  va: bigint;
  gpu_id: number;
  ErrorType: number;
}

/** `struct kfd_hsa_hw_exception_data` (kfd_ioctl.h). */
export interface HwExceptionData {
  reset_type: number;
  reset_cause: number;
  memory_lost: number;
  gpu_id: number;
}

/** `struct kfd_criu_event_priv_data`. */
export interface EventPriv {
  object_type: 1;
  user_handle: bigint;
  event_id: number;
  auto_reset: number;
  type: number;
  signaled: number;
  /** Union member used when type === MEMORY (8); the union is encoded as zeros otherwise. */
  memory_exception_data?: MemoryExceptionData;
  /** Union member used when type === HW_EXCEPTION (3). */
  hw_exception_data?: HwExceptionData;
}

/** `struct kfd_ioctl_svm_attribute`. */
export interface SvmAttr {
  type: number;
  value: number;
}

/** `struct kfd_criu_svm_range_priv_data` (header + flexible attrs[]). */
export interface SvmRangePriv {
  object_type: 2;
  start_addr: bigint;
  /** In pages (`prange->npages`, spec §5.2.3). */
  size: bigint;
  /** Exactly `4 + n_pdds` attrs; the count is not stored in the blob. */
  attrs: SvmAttr[];
}

export type ObjectPriv = QueuePriv | EventPriv | SvmRangePriv;

export interface PrivData {
  process: ProcessPriv;
  devices: DevicePriv[];
  bos: BoPriv[];
  objects: ObjectPriv[];
}

/** u64 fields of the queue header, in struct order. */
export const QUEUE_U64 = [
  'q_address',
  'q_size',
  'read_ptr_addr',
  'write_ptr_addr',
  'doorbell_off',
  'eop_ring_buffer_address',
  'ctx_save_restore_area_address',
] as const;

/** u32 fields of the queue header after object_type, in struct order. */
export const QUEUE_U32 = [
  'gpu_id',
  'type',
  'format',
  'q_id',
  'priority',
  'q_percent',
  'doorbell_id',
  'gws',
  'sdma_id',
  'eop_ring_buffer_size',
  'ctx_save_restore_area_size',
  'ctl_stack_size',
  'mqd_size',
] as const;

/** Field offsets inside each record (x86-64, natural alignment). */
export const PRIV_OFFSETS = {
  process: { version: 0, xnack_mode: 4 },
  device: { reserved: 0 },
  bo: { user_addr: 0, idr_handle: 8, mapped_gpuids: 12 },
  queue: {
    object_type: 0,
    // 4 bytes of padding
    q_address: 8,
    q_size: 16,
    read_ptr_addr: 24,
    write_ptr_addr: 32,
    doorbell_off: 40,
    eop_ring_buffer_address: 48,
    ctx_save_restore_area_address: 56,
    gpu_id: 64,
    type: 68,
    format: 72,
    q_id: 76,
    priority: 80,
    q_percent: 84,
    doorbell_id: 88,
    gws: 92,
    sdma_id: 96,
    eop_ring_buffer_size: 100,
    ctx_save_restore_area_size: 104,
    ctl_stack_size: 108,
    mqd_size: 112,
    // 4 bytes of tail padding
  },
  event: {
    object_type: 0,
    // 4 bytes of padding
    user_handle: 8,
    event_id: 16,
    auto_reset: 20,
    type: 24,
    signaled: 28,
    memory_exception_data: 32,
    hw_exception_data: 32,
  },
  memoryException: {
    'failure.NotPresent': 0,
    'failure.ReadOnly': 4,
    'failure.NoExecute': 8,
    'failure.imprecise': 12,
    va: 16,
    gpu_id: 24,
    ErrorType: 28,
  },
  hwException: { reset_type: 0, reset_cause: 4, memory_lost: 8, gpu_id: 12 },
  svmRange: { object_type: 0, start_addr: 8, size: 16, attrs: 24 },
  svmAttr: { type: 0, value: 4 },
} as const;

/** Size of `kfd_criu_bo_priv_data`: 8 + 4 + 4·MAX rounded up to the u64 alignment. */
function boPrivSize(max: MaxGpuInstance): number {
  const raw = 8 + 4 + 4 * max;
  return Math.ceil(raw / 8) * 8;
}

/** `sizeof` of every record (x86-64). */
export const PRIV_SIZES: {
  readonly process: 8;
  readonly device: 8;
  readonly queueHeader: number;
  readonly event: number;
  readonly svmHeader: number;
  readonly svmAttr: 8;
  readonly memoryException: number;
  readonly hwException: number;
  bo(max: MaxGpuInstance): number;
} = Object.freeze({
  process: 8,
  device: 8,
  queueHeader: 120,
  event: 64,
  svmHeader: 24,
  svmAttr: 8,
  memoryException: 32,
  hwException: 16,
  bo: boPrivSize,
});

/** Throws a plain Error when `max` is not a MAX_GPU_INSTANCE value this module knows. */
export function checkMaxGpuInstance(max: unknown): MaxGpuInstance {
  if (max !== 16 && max !== 64) {
    throw new Error(`MAX_GPU_INSTANCE must be 16 or 64, got ${String(max)}`);
  }
  return max;
}

/** Negative kernel errno values used by the decoder. */
export const EINVAL = -22;

/**
 * A blob the kernel restore path (spec §5.4) would reject.
 * `offset` is the blob offset (`priv_offset`) at which the problem was found, `field` names the
 * record/field being read, `errno` is the negative errno `criu_restore` would return.
 */
export class PrivDataError extends Error {
  readonly offset: number;
  readonly field: string;
  readonly errno: number;

  constructor(message: string, offset: number, field: string, errno: number = EINVAL) {
    super(`${message} (field ${field}, offset ${offset}, errno ${errno})`);
    this.name = 'PrivDataError';
    this.offset = offset;
    this.field = field;
    this.errno = errno;
  }
}
