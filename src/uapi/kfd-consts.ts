/**
 * Constant families of include/uapi/linux/kfd_ioctl.h: `#define`s and enum
 * constants, grouped by their common prefix and stored WITHOUT it
 * (`KFD_IOC_ALLOC_MEM_FLAGS.VRAM` is `KFD_IOC_ALLOC_MEM_FLAGS_VRAM`). Values are
 * unsigned (bit 31 flags are 0x80000000, never negative). Members newer than
 * KFD 1.11 are listed in each family's `since` map (spec §2.1–§2.4).
 */

const bit = (n: number): number => (1 << n) >>> 0;

/** Queue types of kfd_ioctl_create_queue_args.queue_type (`KFD_IOC_QUEUE_TYPE_*`, include/uapi/linux/kfd_ioctl.h; spec §2.4). */
export const KFD_IOC_QUEUE_TYPE = {
  COMPUTE: 0x0,
  SDMA: 0x1,
  COMPUTE_AQL: 0x2,
  SDMA_XGMI: 0x3,
  SDMA_BY_ENG_ID: 0x4,
} as const;

/** Highest queue_percentage (`KFD_MAX_QUEUE_PERCENTAGE`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_MAX_QUEUE_PERCENTAGE = 100;
/** Highest queue_priority (`KFD_MAX_QUEUE_PRIORITY`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_MAX_QUEUE_PRIORITY = 15;
/** Smallest ring size; smaller rings are clamped (`KFD_MIN_QUEUE_RING_SIZE`, kfd_ioctl.h ≤6.1, later kfd_priv.h; spec §7.2). */
export const KFD_MIN_QUEUE_RING_SIZE = 1024;

/** Cache policies of set_memory_policy_args (`KFD_IOC_CACHE_POLICY_*`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOC_CACHE_POLICY = { COHERENT: 0, NONCOHERENT: 1 } as const;

/** Apertures array length of the deprecated GET_PROCESS_APERTURES (`NUM_OF_SUPPORTED_GPUS`, include/uapi/linux/kfd_ioctl.h). */
export const NUM_OF_SUPPORTED_GPUS = 7;
/** Legacy debugger limit (`MAX_ALLOWED_NUM_POINTS`, include/uapi/linux/kfd_ioctl.h). */
export const MAX_ALLOWED_NUM_POINTS = 100;
/** Legacy debugger limit (`MAX_ALLOWED_AW_BUFF_SIZE`, include/uapi/linux/kfd_ioctl.h). */
export const MAX_ALLOWED_AW_BUFF_SIZE = 4096;
/** Legacy debugger limit (`MAX_ALLOWED_WAC_BUFF_SIZE`, include/uapi/linux/kfd_ioctl.h). */
export const MAX_ALLOWED_WAC_BUFF_SIZE = 128;

/** "No file descriptor" in dmabuf_fd fields (`KFD_INVALID_FD`, include/uapi/linux/kfd_ioctl.h; spec §2.4). */
export const KFD_INVALID_FD = 0xffffffff;

/** Event types (`KFD_IOC_EVENT_*`, matching HSA_EVENTTYPE, include/uapi/linux/kfd_ioctl.h; spec §2.4). */
export const KFD_IOC_EVENT = {
  SIGNAL: 0,
  NODECHANGE: 1,
  DEVICESTATECHANGE: 2,
  HW_EXCEPTION: 3,
  SYSTEM_EVENT: 4,
  DEBUG_EVENT: 5,
  PROFILE_EVENT: 6,
  QUEUE_EVENT: 7,
  MEMORY: 8,
} as const;

/** wait_events_args.wait_result values (`KFD_IOC_WAIT_RESULT_*`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOC_WAIT_RESULT = { COMPLETE: 0, TIMEOUT: 1, FAIL: 2 } as const;

/** Maximum number of signal events per process (`KFD_SIGNAL_EVENT_LIMIT`, include/uapi/linux/kfd_ioctl.h; spec §2.4). */
export const KFD_SIGNAL_EVENT_LIMIT = 4096;

/** hw_exception_data.reset_type (`KFD_HW_EXCEPTION_*`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_HW_EXCEPTION_RESET_TYPE = { WHOLE_GPU_RESET: 0, PER_ENGINE_RESET: 1 } as const;
/** hw_exception_data.reset_cause (`KFD_HW_EXCEPTION_*`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_HW_EXCEPTION_RESET_CAUSE = { GPU_HANG: 0, ECC: 1 } as const;

/** kfd_hsa_memory_exception_data.ErrorType (`KFD_MEM_ERR_*`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_MEM_ERR = { NO_RAS: 0, SRAM_ECC: 1, POISON_CONSUMED: 2, GPU_HANG: 3 } as const;

/** Allocation flags (`KFD_IOC_ALLOC_MEM_FLAGS_*`, include/uapi/linux/kfd_ioctl.h; spec §2.3). */
export const KFD_IOC_ALLOC_MEM_FLAGS = {
  VRAM: bit(0),
  GTT: bit(1),
  USERPTR: bit(2),
  DOORBELL: bit(3),
  MMIO_REMAP: bit(4),
  CONTIGUOUS: bit(23),
  EXT_COHERENT: bit(24),
  UNCACHED: bit(25),
  COHERENT: bit(26),
  AQL_QUEUE_MEM: bit(27),
  NO_SUBSTITUTE: bit(28),
  PUBLIC: bit(29),
  EXECUTABLE: bit(30),
  WRITABLE: bit(31),
} as const;

/** SMI event ids (`enum kfd_smi_event`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_SMI_EVENT = {
  NONE: 0,
  VMFAULT: 1,
  THERMAL_THROTTLE: 2,
  GPU_PRE_RESET: 3,
  GPU_POST_RESET: 4,
  MIGRATE_START: 5,
  MIGRATE_END: 6,
  PAGE_FAULT_START: 7,
  PAGE_FAULT_END: 8,
  QUEUE_EVICTION: 9,
  QUEUE_RESTORE: 10,
  UNMAP_FROM_GPU: 11,
  ALL_PROCESS: 64,
} as const;

/** Size of one SMI event message (`KFD_SMI_EVENT_MSG_SIZE`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_SMI_EVENT_MSG_SIZE = 96;

/** SMI event-mask bit of event `i` (`KFD_SMI_EVENT_MASK_FROM_INDEX(i)` = 1ULL << (i-1), include/uapi/linux/kfd_ioctl.h). */
export function KFD_SMI_EVENT_MASK_FROM_INDEX(i: number): bigint {
  if (!Number.isInteger(i) || i < 1 || i > 64) throw new RangeError(`SMI event index ${i} outside 1..64`);
  return 1n << BigInt(i - 1);
}

/** Migration triggers (`enum KFD_MIGRATE_TRIGGERS`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_MIGRATE_TRIGGER = {
  PREFETCH: 0,
  PAGEFAULT_GPU: 1,
  PAGEFAULT_CPU: 2,
  TTM_EVICTION: 3,
} as const;

/** Queue eviction triggers, prefix `KFD_QUEUE_EVICTION_` (`enum KFD_QUEUE_EVICTION_TRIGGERS`, include/uapi/linux/kfd_ioctl.h; spec §6.3). */
export const KFD_QUEUE_EVICTION = {
  TRIGGER_SVM: 0,
  TRIGGER_USERPTR: 1,
  TRIGGER_TTM: 2,
  TRIGGER_SUSPEND: 3,
  CRIU_CHECKPOINT: 4,
  CRIU_RESTORE: 5,
} as const;

/** SVM unmap triggers (`enum KFD_SVM_UNMAP_TRIGGERS`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_SVM_UNMAP_TRIGGER = {
  MMU_NOTIFY: 0,
  MMU_NOTIFY_MIGRATE: 1,
  UNMAP_FROM_CPU: 2,
} as const;

/** CRIU operations of kfd_ioctl_criu_args.op (`enum kfd_criu_op`, include/uapi/linux/kfd_ioctl.h; spec §2.5). */
export const KFD_CRIU_OP = {
  PROCESS_INFO: 0,
  CHECKPOINT: 1,
  UNPAUSE: 2,
  RESTORE: 3,
  RESUME: 4,
} as const;

/** Register offsets in the remapped MMIO page (`enum kfd_mmio_remap`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_MMIO_REMAP = { HDP_MEM_FLUSH_CNTL: 0, HDP_REG_FLUSH_CNTL: 4 } as const;

/** SVM range flags (`KFD_IOCTL_SVM_FLAG_*`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_SVM_FLAG = {
  HOST_ACCESS: 0x1,
  COHERENT: 0x2,
  HIVE_LOCAL: 0x4,
  GPU_RO: 0x8,
  GPU_EXEC: 0x10,
  GPU_READ_MOSTLY: 0x20,
  GPU_ALWAYS_MAPPED: 0x40,
  EXT_COHERENT: 0x80,
} as const;

/** SVM ioctl operations (`enum kfd_ioctl_svm_op`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_SVM_OP = { SET_ATTR: 0, GET_ATTR: 1 } as const;

/** Special preferred/prefetch locations (`enum kfd_ioctl_svm_location`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_SVM_LOCATION = { SYSMEM: 0, UNDEFINED: 0xffffffff } as const;
/** System memory as an SVM location (`KFD_IOCTL_SVM_LOCATION_SYSMEM`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_SVM_LOCATION_SYSMEM = KFD_IOCTL_SVM_LOCATION.SYSMEM;
/** Unspecified/mixed SVM location (`KFD_IOCTL_SVM_LOCATION_UNDEFINED`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_SVM_LOCATION_UNDEFINED = KFD_IOCTL_SVM_LOCATION.UNDEFINED;

/** SVM attribute types (`enum kfd_ioctl_svm_attr_type`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_SVM_ATTR = {
  PREFERRED_LOC: 0,
  PREFETCH_LOC: 1,
  ACCESS: 2,
  ACCESS_IN_PLACE: 3,
  NO_ACCESS: 4,
  SET_FLAGS: 5,
  CLR_FLAGS: 6,
  GRANULARITY: 7,
} as const;

/** A family of kfd_ioctl.h constants sharing a name prefix (include/uapi/linux/kfd_ioctl.h). */
export interface KfdConstFamily {
  /** Common prefix of the C names ('' for stand-alone macros). */
  prefix: string;
  values: Readonly<Record<string, number>>;
  /** C enum tag, or null for `#define`s. */
  enumTag: string | null;
  /** Member → first KFD minor version that has it (spec §2.1). */
  since?: Readonly<Record<string, number>>;
}

/** Every constant family of kfd_ioctl.h except the ioctl numbers and version macros (include/uapi/linux/kfd_ioctl.h). */
export const KFD_CONSTANT_FAMILIES: readonly KfdConstFamily[] = [
  {
    prefix: '',
    enumTag: null,
    values: {
      KFD_MAX_QUEUE_PERCENTAGE,
      KFD_MAX_QUEUE_PRIORITY,
      KFD_MIN_QUEUE_RING_SIZE,
      NUM_OF_SUPPORTED_GPUS,
      MAX_ALLOWED_NUM_POINTS,
      MAX_ALLOWED_AW_BUFF_SIZE,
      MAX_ALLOWED_WAC_BUFF_SIZE,
      KFD_INVALID_FD,
      KFD_SIGNAL_EVENT_LIMIT,
      KFD_SMI_EVENT_MSG_SIZE,
    },
  },
  {
    prefix: 'KFD_IOC_QUEUE_TYPE_',
    enumTag: null,
    values: KFD_IOC_QUEUE_TYPE,
    since: { SDMA_BY_ENG_ID: 17 },
  },
  { prefix: 'KFD_IOC_CACHE_POLICY_', enumTag: null, values: KFD_IOC_CACHE_POLICY },
  { prefix: 'KFD_IOC_EVENT_', enumTag: null, values: KFD_IOC_EVENT },
  { prefix: 'KFD_IOC_WAIT_RESULT_', enumTag: null, values: KFD_IOC_WAIT_RESULT },
  { prefix: 'KFD_HW_EXCEPTION_', enumTag: null, values: KFD_HW_EXCEPTION_RESET_TYPE },
  { prefix: 'KFD_HW_EXCEPTION_', enumTag: null, values: KFD_HW_EXCEPTION_RESET_CAUSE },
  { prefix: 'KFD_MEM_ERR_', enumTag: null, values: KFD_MEM_ERR },
  {
    prefix: 'KFD_IOC_ALLOC_MEM_FLAGS_',
    enumTag: null,
    values: KFD_IOC_ALLOC_MEM_FLAGS,
    // CONTIGUOUS: spec §2.3 (1.16). EXT_COHERENT: absent from the 1.14 header, present at 1.15.
    since: { CONTIGUOUS: 16, EXT_COHERENT: 15 },
  },
  { prefix: 'KFD_SMI_EVENT_', enumTag: 'kfd_smi_event', values: KFD_SMI_EVENT },
  { prefix: 'KFD_MIGRATE_TRIGGER_', enumTag: 'KFD_MIGRATE_TRIGGERS', values: KFD_MIGRATE_TRIGGER },
  {
    prefix: 'KFD_QUEUE_EVICTION_',
    enumTag: 'KFD_QUEUE_EVICTION_TRIGGERS',
    values: KFD_QUEUE_EVICTION,
  },
  {
    prefix: 'KFD_SVM_UNMAP_TRIGGER_',
    enumTag: 'KFD_SVM_UNMAP_TRIGGERS',
    values: KFD_SVM_UNMAP_TRIGGER,
  },
  { prefix: 'KFD_CRIU_OP_', enumTag: 'kfd_criu_op', values: KFD_CRIU_OP },
  { prefix: 'KFD_MMIO_REMAP_', enumTag: 'kfd_mmio_remap', values: KFD_MMIO_REMAP },
  // EXT_COHERENT: absent from the 1.14 header, present at 1.15 (with the alloc flag of the same name).
  {
    prefix: 'KFD_IOCTL_SVM_FLAG_',
    enumTag: null,
    values: KFD_IOCTL_SVM_FLAG,
    since: { EXT_COHERENT: 15 },
  },
  { prefix: 'KFD_IOCTL_SVM_OP_', enumTag: 'kfd_ioctl_svm_op', values: KFD_IOCTL_SVM_OP },
  {
    prefix: 'KFD_IOCTL_SVM_LOCATION_',
    enumTag: 'kfd_ioctl_svm_location',
    values: KFD_IOCTL_SVM_LOCATION,
  },
  { prefix: 'KFD_IOCTL_SVM_ATTR_', enumTag: 'kfd_ioctl_svm_attr_type', values: KFD_IOCTL_SVM_ATTR },
];
