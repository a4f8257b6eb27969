/**
 * Constant families of include/uapi/drm/amdgpu_drm.h, grouped by their common
 * prefix and stored WITHOUT it (`AMDGPU_GEM_DOMAIN.VRAM` is
 * `AMDGPU_GEM_DOMAIN_VRAM`), so that log arguments can name flags
 * (`["VRAM"]`, `["READABLE","WRITEABLE"]`). Members that the CI header
 * (libdrm-dev 2.4.114) lacks are listed in each family's `newer` map with their
 * source (spec §8.2).
 */
import type { DrmConstFamily } from './drm-consts.js';
import type { UapiNewer } from './drm-layout.js';

const bit = (n: number): number => 2 ** n;

/** Spec §8.2 item whose first kernel release the spec does not give. */
const SPEC_8_2: UapiNewer = { source: 'spec §8.2' };
/** Spec §8.2 item that landed in Linux 6.18 (the amdgpu CRIU support). */
const SPEC_8_2_6_18: UapiNewer = { source: 'spec §8.2', sinceKernel: '6.18' };

/** amdgpu command numbers, added to DRM_COMMAND_BASE (`DRM_AMDGPU_*`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const DRM_AMDGPU = {
  GEM_CREATE: 0x00,
  GEM_MMAP: 0x01,
  CTX: 0x02,
  BO_LIST: 0x03,
  CS: 0x04,
  INFO: 0x05,
  GEM_METADATA: 0x06,
  GEM_WAIT_IDLE: 0x07,
  GEM_VA: 0x08,
  WAIT_CS: 0x09,
  GEM_OP: 0x10,
  GEM_USERPTR: 0x11,
  WAIT_FENCES: 0x12,
  VM: 0x13,
  FENCE_TO_HANDLE: 0x14,
  SCHED: 0x15,
  GEM_LIST_HANDLES: 0x19,
} as const;

/** Memory domains of GEM_CREATE `domains` / LIST_HANDLES `preferred_domains` (`AMDGPU_GEM_DOMAIN_*`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_GEM_DOMAIN = {
  CPU: 0x1,
  GTT: 0x2,
  VRAM: 0x4,
  GDS: 0x8,
  GWS: 0x10,
  OA: 0x20,
  DOORBELL: 0x40,
  MMIO_REMAP: 0x80,
} as const;

/**
 * CPU | GTT | VRAM | GDS | GWS | OA, as the CI header defines it
 * (`AMDGPU_GEM_DOMAIN_MASK`, include/uapi/drm/amdgpu_drm.h of libdrm 2.4.114;
 * the spec does not say whether later kernels add DOORBELL/MMIO_REMAP to it).
 */
export const AMDGPU_GEM_DOMAIN_MASK =
  AMDGPU_GEM_DOMAIN.CPU |
  AMDGPU_GEM_DOMAIN.GTT |
  AMDGPU_GEM_DOMAIN.VRAM |
  AMDGPU_GEM_DOMAIN.GDS |
  AMDGPU_GEM_DOMAIN.GWS |
  AMDGPU_GEM_DOMAIN.OA;

/** GEM_CREATE `domain_flags`, LIST_HANDLES `alloc_flags` (`AMDGPU_GEM_CREATE_*`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_GEM_CREATE = {
  CPU_ACCESS_REQUIRED: bit(0),
  NO_CPU_ACCESS: bit(1),
  CPU_GTT_USWC: bit(2),
  VRAM_CLEARED: bit(3),
  VRAM_CONTIGUOUS: bit(5),
  VM_ALWAYS_VALID: bit(6),
  EXPLICIT_SYNC: bit(7),
  CP_MQD_GFX9: bit(8),
  VRAM_WIPE_ON_RELEASE: bit(9),
  ENCRYPTED: bit(10),
  PREEMPTIBLE: bit(11),
  DISCARDABLE: bit(12),
  COHERENT: bit(13),
  UNCACHED: bit(14),
  EXT_COHERENT: bit(15),
  GFX12_DCC: bit(16),
} as const;

/** BO_LIST operations (`AMDGPU_BO_LIST_OP_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_BO_LIST_OP = { CREATE: 0, DESTROY: 1, UPDATE: 2 } as const;

/** CTX operations (`AMDGPU_CTX_OP_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CTX_OP = {
  ALLOC_CTX: 1,
  FREE_CTX: 2,
  QUERY_STATE: 3,
  QUERY_STATE2: 4,
  GET_STABLE_PSTATE: 5,
  SET_STABLE_PSTATE: 6,
} as const;

/** GPU reset status of CTX QUERY_STATE, prefix `AMDGPU_CTX_` (`AMDGPU_CTX_*_RESET`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CTX_RESET_STATUS = {
  NO_RESET: 0,
  GUILTY_RESET: 1,
  INNOCENT_RESET: 2,
  UNKNOWN_RESET: 3,
} as const;

/** CTX QUERY_STATE2 flags (`AMDGPU_CTX_QUERY2_FLAGS_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CTX_QUERY2_FLAGS = {
  RESET: bit(0),
  VRAMLOST: bit(1),
  GUILTY: bit(2),
  RAS_CE: bit(3),
  RAS_UE: bit(4),
} as const;

/** Context priorities, signed (`AMDGPU_CTX_PRIORITY_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CTX_PRIORITY = {
  UNSET: -2048,
  VERY_LOW: -1023,
  LOW: -512,
  NORMAL: 0,
  HIGH: 512,
  VERY_HIGH: 1023,
} as const;

/** Stable profiling pstates (`AMDGPU_CTX_STABLE_PSTATE_*` except FLAGS_MASK, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CTX_STABLE_PSTATE = { NONE: 0, STANDARD: 1, MIN_SCLK: 2, MIN_MCLK: 3, PEAK: 4 } as const;
/** Mask of the pstate in CTX flags (`AMDGPU_CTX_STABLE_PSTATE_FLAGS_MASK`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CTX_STABLE_PSTATE_FLAGS_MASK = 0xf;

/** VM ioctl operations (`AMDGPU_VM_OP_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_VM_OP = { RESERVE_VMID: 1, UNRESERVE_VMID: 2 } as const;

/** SCHED ioctl operations (`AMDGPU_SCHED_OP_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_SCHED_OP = { PROCESS_PRIORITY_OVERRIDE: 1, CONTEXT_PRIORITY_OVERRIDE: 2 } as const;

/** GEM_USERPTR flags (`AMDGPU_GEM_USERPTR_*`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_GEM_USERPTR = { READONLY: bit(0), ANONONLY: bit(1), VALIDATE: bit(2), REGISTER: bit(3) } as const;

/** Tiling-flag field positions and widths, SI–VI and GFX9+ (`AMDGPU_TILING_*_SHIFT/_MASK`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_TILING = {
  ARRAY_MODE_SHIFT: 0,
  ARRAY_MODE_MASK: 0xf,
  PIPE_CONFIG_SHIFT: 4,
  PIPE_CONFIG_MASK: 0x1f,
  TILE_SPLIT_SHIFT: 9,
  TILE_SPLIT_MASK: 0x7,
  MICRO_TILE_MODE_SHIFT: 12,
  MICRO_TILE_MODE_MASK: 0x7,
  BANK_WIDTH_SHIFT: 15,
  BANK_WIDTH_MASK: 0x3,
  BANK_HEIGHT_SHIFT: 17,
  BANK_HEIGHT_MASK: 0x3,
  MACRO_TILE_ASPECT_SHIFT: 19,
  MACRO_TILE_ASPECT_MASK: 0x3,
  NUM_BANKS_SHIFT: 21,
  NUM_BANKS_MASK: 0x3,
  SWIZZLE_MODE_SHIFT: 0,
  SWIZZLE_MODE_MASK: 0x1f,
  DCC_OFFSET_256B_SHIFT: 5,
  DCC_OFFSET_256B_MASK: 0xffffff,
  DCC_PITCH_MAX_SHIFT: 29,
  DCC_PITCH_MAX_MASK: 0x3fff,
  DCC_INDEPENDENT_64B_SHIFT: 43,
  DCC_INDEPENDENT_64B_MASK: 0x1,
  DCC_INDEPENDENT_128B_SHIFT: 44,
  DCC_INDEPENDENT_128B_MASK: 0x1,
  SCANOUT_SHIFT: 63,
  SCANOUT_MASK: 0x1,
} as const;

/** GEM_METADATA operations (`AMDGPU_GEM_METADATA_OP_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_GEM_METADATA_OP = { SET_METADATA: 1, GET_METADATA: 2 } as const;

/** GEM_OP operations (`AMDGPU_GEM_OP_*`, include/uapi/drm/amdgpu_drm.h; GET_MAPPING_INFO: spec §8.2, Linux 6.18). */
export const AMDGPU_GEM_OP = { GET_GEM_CREATE_INFO: 0, SET_PLACEMENT: 1, GET_MAPPING_INFO: 2 } as const;

/** GEM_VA operations (`AMDGPU_VA_OP_*`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_VA_OP = { MAP: 1, UNMAP: 2, CLEAR: 3, REPLACE: 4 } as const;

/** GEM_VA flag: defer the page-table update to the next CS (`AMDGPU_VM_DELAY_UPDATE`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_VM_DELAY_UPDATE = bit(0);

/** GEM_VA mapping flags (`AMDGPU_VM_PAGE_*`, include/uapi/drm/amdgpu_drm.h; NOALLOC: spec §8.2). */
export const AMDGPU_VM_PAGE = {
  READABLE: bit(1),
  WRITEABLE: bit(2),
  EXECUTABLE: bit(3),
  PRT: bit(4),
  NOALLOC: bit(9),
} as const;

/** Bit position of the MTYPE field of GEM_VA flags (bits 5–8, include/uapi/drm/amdgpu_drm.h: "MTYPE flags use bit 5 to 8"). */
export const AMDGPU_VM_MTYPE_SHIFT = 5;
/** The MTYPE field of GEM_VA flags (`AMDGPU_VM_MTYPE_MASK` = 0xf << 5, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_VM_MTYPE_MASK = 0xf << AMDGPU_VM_MTYPE_SHIFT;
/** Memory types, already shifted into bits 5–8 (`AMDGPU_VM_MTYPE_*`, include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_VM_MTYPE = {
  DEFAULT: 0 << AMDGPU_VM_MTYPE_SHIFT,
  NC: 1 << AMDGPU_VM_MTYPE_SHIFT,
  WC: 2 << AMDGPU_VM_MTYPE_SHIFT,
  CC: 3 << AMDGPU_VM_MTYPE_SHIFT,
  UC: 4 << AMDGPU_VM_MTYPE_SHIFT,
  RW: 5 << AMDGPU_VM_MTYPE_SHIFT,
} as const;

/** Hardware IP types (`AMDGPU_HW_IP_*` except NUM/INSTANCE_MAX_COUNT, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_HW_IP = {
  GFX: 0,
  COMPUTE: 1,
  DMA: 2,
  UVD: 3,
  VCE: 4,
  UVD_ENC: 5,
  VCN_DEC: 6,
  VCN_ENC: 7,
  VCN_JPEG: 8,
} as const;
/** Number of IP types (`AMDGPU_HW_IP_NUM`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_HW_IP_NUM = 9;
/** Instances per IP type (`AMDGPU_HW_IP_INSTANCE_MAX_COUNT`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_HW_IP_INSTANCE_MAX_COUNT = 1;

/** CS chunk ids (`AMDGPU_CHUNK_ID_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_CHUNK_ID = {
  IB: 0x01,
  FENCE: 0x02,
  DEPENDENCIES: 0x03,
  SYNCOBJ_IN: 0x04,
  SYNCOBJ_OUT: 0x05,
  BO_HANDLES: 0x06,
  SCHEDULED_DEPENDENCIES: 0x07,
  SYNCOBJ_TIMELINE_WAIT: 0x08,
  SYNCOBJ_TIMELINE_SIGNAL: 0x09,
} as const;

/** IB flags (`AMDGPU_IB_FLAG_*`; bit 5 is spelled `AMDGPU_IB_FLAGS_SECURE`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_IB_FLAG = {
  CE: bit(0),
  PREAMBLE: bit(1),
  PREEMPT: bit(2),
  TC_WB_NOT_INVALIDATE: bit(3),
  RESET_GDS_MAX_WAVE_ID: bit(4),
  EMIT_MEM_SYNC: bit(6),
} as const;
/** Secure (TMZ) IB (`AMDGPU_IB_FLAGS_SECURE`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_IB_FLAGS_SECURE = bit(5);

/** FENCE_TO_HANDLE `what` (`AMDGPU_FENCE_TO_HANDLE_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_FENCE_TO_HANDLE = { GET_SYNCOBJ: 0, GET_SYNCOBJ_FD: 1, GET_SYNC_FILE_FD: 2 } as const;

/** drm_amdgpu_info_device.ids_flags (`AMDGPU_IDS_FLAGS_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_IDS_FLAGS = { FUSION: 0x1, PREEMPTION: 0x2, TMZ: 0x4 } as const;

/** INFO queries (`AMDGPU_INFO_*` query ids, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO = {
  ACCEL_WORKING: 0x00,
  CRTC_FROM_ID: 0x01,
  HW_IP_INFO: 0x02,
  HW_IP_COUNT: 0x03,
  TIMESTAMP: 0x05,
  FW_VERSION: 0x0e,
  NUM_BYTES_MOVED: 0x0f,
  VRAM_USAGE: 0x10,
  GTT_USAGE: 0x11,
  GDS_CONFIG: 0x13,
  VRAM_GTT: 0x14,
  READ_MMR_REG: 0x15,
  DEV_INFO: 0x16,
  VIS_VRAM_USAGE: 0x17,
  NUM_EVICTIONS: 0x18,
  MEMORY: 0x19,
  VCE_CLOCK_TABLE: 0x1a,
  VBIOS: 0x1b,
  NUM_HANDLES: 0x1c,
  SENSOR: 0x1d,
  NUM_VRAM_CPU_PAGE_FAULTS: 0x1e,
  VRAM_LOST_COUNTER: 0x1f,
  RAS_ENABLED_FEATURES: 0x20,
  VIDEO_CAPS: 0x21,
} as const;

/** INFO FW_VERSION subqueries (`AMDGPU_INFO_FW_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_FW = {
  VCE: 0x1,
  UVD: 0x2,
  GMC: 0x03,
  GFX_ME: 0x04,
  GFX_PFP: 0x05,
  GFX_CE: 0x06,
  GFX_RLC: 0x07,
  GFX_MEC: 0x08,
  SMC: 0x0a,
  SDMA: 0x0b,
  SOS: 0x0c,
  ASD: 0x0d,
  VCN: 0x0e,
  GFX_RLC_RESTORE_LIST_CNTL: 0x0f,
  GFX_RLC_RESTORE_LIST_GPM_MEM: 0x10,
  GFX_RLC_RESTORE_LIST_SRM_MEM: 0x11,
  DMCU: 0x12,
  TA: 0x13,
  DMCUB: 0x14,
  TOC: 0x15,
} as const;

/** INFO VBIOS subqueries (`AMDGPU_INFO_VBIOS_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_VBIOS = { SIZE: 0x1, IMAGE: 0x2, INFO: 0x3 } as const;

/** INFO SENSOR subqueries (`AMDGPU_INFO_SENSOR_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_SENSOR = {
  GFX_SCLK: 0x1,
  GFX_MCLK: 0x2,
  GPU_TEMP: 0x3,
  GPU_LOAD: 0x4,
  GPU_AVG_POWER: 0x5,
  VDDNB: 0x6,
  VDDGFX: 0x7,
  STABLE_PSTATE_GFX_SCLK: 0x8,
  STABLE_PSTATE_GFX_MCLK: 0x9,
} as const;

/** RAS feature mask bits of INFO RAS_ENABLED_FEATURES (`AMDGPU_INFO_RAS_ENABLED_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_RAS_ENABLED = {
  UMC: bit(0),
  SDMA: bit(1),
  GFX: bit(2),
  MMHUB: bit(3),
  ATHUB: bit(4),
  PCIE: bit(5),
  HDP: bit(6),
  XGMI: bit(7),
  DF: bit(8),
  SMN: bit(9),
  SEM: bit(10),
  MP0: bit(11),
  MP1: bit(12),
  FUSE: bit(13),
} as const;

/** INFO VIDEO_CAPS subqueries (`AMDGPU_INFO_VIDEO_CAPS_DECODE/ENCODE`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_VIDEO_CAPS = { DECODE: 0, ENCODE: 1 } as const;

/** READ_MMR_REG instance field layout (`AMDGPU_INFO_MMR_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_MMR = {
  SE_INDEX_SHIFT: 0,
  SE_INDEX_MASK: 0xff,
  SH_INDEX_SHIFT: 8,
  SH_INDEX_MASK: 0xff,
} as const;

/** Entries of drm_amdgpu_info_vce_clock_table (`AMDGPU_VCE_CLOCK_TABLE_ENTRIES`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_VCE_CLOCK_TABLE_ENTRIES = 6;

/** Codec indices of drm_amdgpu_info_video_caps (`AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX_*` except COUNT, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX = {
  MPEG2: 0,
  MPEG4: 1,
  VC1: 2,
  MPEG4_AVC: 3,
  HEVC: 4,
  JPEG: 5,
  VP9: 6,
  AV1: 7,
} as const;
/** Number of codec indices (`AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX_COUNT`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX_COUNT = 8;

/** drm_amdgpu_info_device.vram_type (`AMDGPU_VRAM_TYPE_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_VRAM_TYPE = {
  UNKNOWN: 0,
  GDDR1: 1,
  DDR2: 2,
  GDDR3: 3,
  GDDR4: 4,
  GDDR5: 5,
  HBM: 6,
  DDR3: 7,
  DDR4: 8,
  GDDR6: 9,
  DDR5: 10,
} as const;

/** GPU families of drm_amdgpu_info_device.family (`AMDGPU_FAMILY_*`, include/uapi/drm/amdgpu_drm.h). */
export const AMDGPU_FAMILY = {
  UNKNOWN: 0,
  SI: 110,
  CI: 120,
  KV: 125,
  VI: 130,
  CZ: 135,
  AI: 141,
  RV: 142,
  NV: 143,
  VGH: 144,
  YC: 146,
} as const;

/** drm_amdgpu_gem_list_handles_entry.flags (`AMDGPU_GEM_LIST_HANDLES_FLAG_*`, spec §8.2, Linux 6.18). */
export const AMDGPU_GEM_LIST_HANDLES_FLAG = { IS_IMPORT: bit(0) } as const;

/** Every constant family of amdgpu_drm.h except the ioctl request numbers (include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_CONSTANT_FAMILIES: readonly DrmConstFamily[] = [
  { prefix: 'DRM_AMDGPU_', enumTag: 'define', values: DRM_AMDGPU, newer: { GEM_LIST_HANDLES: SPEC_8_2_6_18 } },
  {
    prefix: 'AMDGPU_GEM_DOMAIN_',
    enumTag: 'define',
    values: AMDGPU_GEM_DOMAIN,
    newer: { DOORBELL: SPEC_8_2, MMIO_REMAP: SPEC_8_2 },
  },
  { prefix: '', enumTag: 'define', values: { AMDGPU_GEM_DOMAIN_MASK } },
  {
    prefix: 'AMDGPU_GEM_CREATE_',
    enumTag: 'define',
    values: AMDGPU_GEM_CREATE,
    newer: {
      DISCARDABLE: SPEC_8_2,
      COHERENT: SPEC_8_2,
      UNCACHED: SPEC_8_2,
      EXT_COHERENT: SPEC_8_2,
      GFX12_DCC: SPEC_8_2,
    },
  },
  { prefix: 'AMDGPU_BO_LIST_OP_', enumTag: 'define', values: AMDGPU_BO_LIST_OP },
  { prefix: 'AMDGPU_CTX_OP_', enumTag: 'define', values: AMDGPU_CTX_OP },
  { prefix: 'AMDGPU_CTX_', enumTag: 'define', values: AMDGPU_CTX_RESET_STATUS },
  { prefix: 'AMDGPU_CTX_QUERY2_FLAGS_', enumTag: 'define', values: AMDGPU_CTX_QUERY2_FLAGS },
  { prefix: 'AMDGPU_CTX_PRIORITY_', enumTag: 'define', values: AMDGPU_CTX_PRIORITY },
  { prefix: 'AMDGPU_CTX_STABLE_PSTATE_', enumTag: 'define', values: AMDGPU_CTX_STABLE_PSTATE },
  { prefix: '', enumTag: 'define', values: { AMDGPU_CTX_STABLE_PSTATE_FLAGS_MASK } },
  { prefix: 'AMDGPU_VM_OP_', enumTag: 'define', values: AMDGPU_VM_OP },
  { prefix: 'AMDGPU_SCHED_OP_', enumTag: 'define', values: AMDGPU_SCHED_OP },
  { prefix: 'AMDGPU_GEM_USERPTR_', enumTag: 'define', values: AMDGPU_GEM_USERPTR },
  { prefix: 'AMDGPU_TILING_', enumTag: 'define', values: AMDGPU_TILING },
  { prefix: 'AMDGPU_GEM_METADATA_OP_', enumTag: 'define', values: AMDGPU_GEM_METADATA_OP },
  {
    prefix: 'AMDGPU_GEM_OP_',
    enumTag: 'define',
    values: AMDGPU_GEM_OP,
    newer: { GET_MAPPING_INFO: SPEC_8_2_6_18 },
  },
  { prefix: 'AMDGPU_VA_OP_', enumTag: 'define', values: AMDGPU_VA_OP },
  { prefix: '', enumTag: 'define', values: { AMDGPU_VM_DELAY_UPDATE } },
  { prefix: 'AMDGPU_VM_PAGE_', enumTag: 'define', values: AMDGPU_VM_PAGE, newer: { NOALLOC: SPEC_8_2 } },
  { prefix: 'AMDGPU_VM_MTYPE_', enumTag: 'define', values: { ...AMDGPU_VM_MTYPE, MASK: AMDGPU_VM_MTYPE_MASK } },
  { prefix: 'AMDGPU_HW_IP_', enumTag: 'define', values: AMDGPU_HW_IP },
  { prefix: '', enumTag: 'define', values: { AMDGPU_HW_IP_NUM, AMDGPU_HW_IP_INSTANCE_MAX_COUNT } },
  { prefix: 'AMDGPU_CHUNK_ID_', enumTag: 'define', values: AMDGPU_CHUNK_ID },
  { prefix: 'AMDGPU_IB_FLAG_', enumTag: 'define', values: AMDGPU_IB_FLAG },
  { prefix: '', enumTag: 'define', values: { AMDGPU_IB_FLAGS_SECURE } },
  { prefix: 'AMDGPU_FENCE_TO_HANDLE_', enumTag: 'define', values: AMDGPU_FENCE_TO_HANDLE },
  { prefix: 'AMDGPU_IDS_FLAGS_', enumTag: 'define', values: AMDGPU_IDS_FLAGS },
  { prefix: 'AMDGPU_INFO_', enumTag: 'define', values: AMDGPU_INFO },
  { prefix: 'AMDGPU_INFO_FW_', enumTag: 'define', values: AMDGPU_INFO_FW },
  { prefix: 'AMDGPU_INFO_VBIOS_', enumTag: 'define', values: AMDGPU_INFO_VBIOS },
  { prefix: 'AMDGPU_INFO_SENSOR_', enumTag: 'define', values: AMDGPU_INFO_SENSOR },
  { prefix: 'AMDGPU_INFO_RAS_ENABLED_', enumTag: 'define', values: AMDGPU_INFO_RAS_ENABLED },
  { prefix: 'AMDGPU_INFO_VIDEO_CAPS_', enumTag: 'define', values: AMDGPU_INFO_VIDEO_CAPS },
  { prefix: 'AMDGPU_INFO_MMR_', enumTag: 'define', values: AMDGPU_INFO_MMR },
  { prefix: '', enumTag: 'define', values: { AMDGPU_VCE_CLOCK_TABLE_ENTRIES } },
  {
    prefix: 'AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX_',
    enumTag: 'define',
    values: { ...AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX, COUNT: AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX_COUNT },
  },
  { prefix: 'AMDGPU_VRAM_TYPE_', enumTag: 'define', values: AMDGPU_VRAM_TYPE },
  { prefix: 'AMDGPU_FAMILY_', enumTag: 'define', values: AMDGPU_FAMILY },
  {
    prefix: 'AMDGPU_GEM_LIST_HANDLES_FLAG_',
    enumTag: 'define',
    values: AMDGPU_GEM_LIST_HANDLES_FLAG,
    newer: { IS_IMPORT: SPEC_8_2_6_18 },
  },
];
