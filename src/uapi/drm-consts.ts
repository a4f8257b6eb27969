/**
 * Constant families of include/uapi/drm/drm.h (`#define`s and enumerators),
 * grouped by their common prefix and stored WITHOUT it
 * (`DRM_CAP.PRIME` is `DRM_CAP_PRIME`), plus the stand-alone macros. Values are
 * unsigned except where C makes them negative. Checked against libdrm-dev's
 * drm.h by test/uapi/drm-header.test.ts.
 */
import type { UapiNewer } from './drm-layout.js';

const bit = (n: number): number => 2 ** n;

/** A family of DRM uapi constants sharing a name prefix (include/uapi/drm/*.h). */
export interface DrmConstFamily {
  /** Common prefix of the C names ('' for stand-alone macros). */
  prefix: string;
  values: Readonly<Record<string, number>>;
  /** `'define'` for `#define`s; else the C enum tag, `''` for an anonymous enum. */
  enumTag: string;
  /** Members the CI header (libdrm-dev 2.4.114) lacks, with where their values come from. */
  newer?: Readonly<Record<string, UapiNewer>>;
}

/** Driver name (`DRM_NAME`, include/uapi/drm/drm.h). */
export const DRM_NAME = 'drm';
/** Smallest DMA buffer order, 2^5 bytes (`DRM_MIN_ORDER`, include/uapi/drm/drm.h). */
export const DRM_MIN_ORDER = 5;
/** Largest DMA buffer order, 2^22 bytes (`DRM_MAX_ORDER`, include/uapi/drm/drm.h). */
export const DRM_MAX_ORDER = 22;
/** Share of system RAM a client may lock (`DRM_RAM_PERCENT`, include/uapi/drm/drm.h). */
export const DRM_RAM_PERCENT = 10;

/** Legacy hardware-lock bits, prefix `_DRM_LOCK_` (`_DRM_LOCK_HELD`/`_CONT`, include/uapi/drm/drm.h). */
export const DRM_HW_LOCK = { HELD: 0x80000000, CONT: 0x40000000 } as const;

/** Legacy DRM_IOCTL_CONTROL functions, prefix `DRM_` (anonymous enum of struct drm_control, include/uapi/drm/drm.h). */
export const DRM_CONTROL_FUNC = { ADD_COMMAND: 0, RM_COMMAND: 1, INST_HANDLER: 2, UNINST_HANDLER: 3 } as const;

/** Legacy map types, prefix `_DRM_` (`enum drm_map_type`, include/uapi/drm/drm.h). */
export const DRM_MAP_TYPE = {
  FRAME_BUFFER: 0,
  REGISTERS: 1,
  SHM: 2,
  AGP: 3,
  SCATTER_GATHER: 4,
  CONSISTENT: 5,
} as const;

/** Legacy map flags, prefix `_DRM_` (`enum drm_map_flags`, include/uapi/drm/drm.h). */
export const DRM_MAP_FLAGS = {
  RESTRICTED: 0x01,
  READ_ONLY: 0x02,
  LOCKED: 0x04,
  KERNEL: 0x08,
  WRITE_COMBINING: 0x10,
  CONTAINS_LOCK: 0x20,
  REMOVABLE: 0x40,
  DRIVER: 0x80,
} as const;

/** Legacy statistics counters, prefix `_DRM_STAT_` (`enum drm_stat_type`, include/uapi/drm/drm.h). */
export const DRM_STAT_TYPE = {
  LOCK: 0,
  OPENS: 1,
  CLOSES: 2,
  IOCTLS: 3,
  LOCKS: 4,
  UNLOCKS: 5,
  VALUE: 6,
  BYTE: 7,
  COUNT: 8,
  IRQ: 9,
  PRIMARY: 10,
  SECONDARY: 11,
  DMA: 12,
  SPECIAL: 13,
  MISSED: 14,
} as const;

/** Legacy hardware-lock flags, prefix `_DRM_` (`enum drm_lock_flags`, include/uapi/drm/drm.h). */
export const DRM_LOCK_FLAGS = {
  LOCK_READY: 0x01,
  LOCK_QUIESCENT: 0x02,
  LOCK_FLUSH: 0x04,
  LOCK_FLUSH_ALL: 0x08,
  HALT_ALL_QUEUES: 0x10,
  HALT_CUR_QUEUES: 0x20,
} as const;

/** Legacy DMA flags, prefix `_DRM_DMA_` (`enum drm_dma_flags`, include/uapi/drm/drm.h). */
export const DRM_DMA_FLAGS = {
  BLOCK: 0x01,
  WHILE_LOCKED: 0x02,
  PRIORITY: 0x04,
  WAIT: 0x10,
  SMALLER_OK: 0x20,
  LARGER_OK: 0x40,
} as const;

/** Legacy buffer-description flags, prefix `_DRM_` (anonymous enum of struct drm_buf_desc, include/uapi/drm/drm.h). */
export const DRM_BUF_DESC_FLAGS = {
  PAGE_ALIGN: 0x01,
  AGP_BUFFER: 0x02,
  SG_BUFFER: 0x04,
  FB_BUFFER: 0x08,
  PCI_BUFFER_RO: 0x10,
} as const;

/** Legacy context flags, prefix `_DRM_CONTEXT_` (`enum drm_ctx_flags`, include/uapi/drm/drm.h). */
export const DRM_CTX_FLAGS = { PRESERVED: 0x01, '2DONLY': 0x02 } as const;

/** Legacy drawable info types, prefix `DRM_DRAWABLE_` (`drm_drawable_info_type_t`, include/uapi/drm/drm.h). */
export const DRM_DRAWABLE_INFO_TYPE = { CLIPRECTS: 0 } as const;

/** Vblank wait types and flags, prefix `_DRM_VBLANK_` (`enum drm_vblank_seq_type`, include/uapi/drm/drm.h). */
export const DRM_VBLANK_SEQ_TYPE = {
  ABSOLUTE: 0x0,
  RELATIVE: 0x1,
  HIGH_CRTC_MASK: 0x3e,
  EVENT: 0x4000000,
  FLIP: 0x8000000,
  NEXTONMISS: 0x10000000,
  SECONDARY: 0x20000000,
  SIGNAL: 0x40000000,
} as const;

/** Shift of the CRTC index in a vblank type (`_DRM_VBLANK_HIGH_CRTC_SHIFT`, include/uapi/drm/drm.h). */
export const _DRM_VBLANK_HIGH_CRTC_SHIFT = 1;
/** ABSOLUTE | RELATIVE (`_DRM_VBLANK_TYPES_MASK`, include/uapi/drm/drm.h). */
export const _DRM_VBLANK_TYPES_MASK = DRM_VBLANK_SEQ_TYPE.ABSOLUTE | DRM_VBLANK_SEQ_TYPE.RELATIVE;
/** EVENT | SIGNAL | SECONDARY | NEXTONMISS (`_DRM_VBLANK_FLAGS_MASK`, include/uapi/drm/drm.h). */
export const _DRM_VBLANK_FLAGS_MASK =
  DRM_VBLANK_SEQ_TYPE.EVENT |
  DRM_VBLANK_SEQ_TYPE.SIGNAL |
  DRM_VBLANK_SEQ_TYPE.SECONDARY |
  DRM_VBLANK_SEQ_TYPE.NEXTONMISS;

/** drm_modeset_ctl.cmd values, prefix `_DRM_` (`_DRM_PRE_MODESET`/`_DRM_POST_MODESET`, include/uapi/drm/drm.h). */
export const DRM_MODESET_CTL_CMD = { PRE_MODESET: 1, POST_MODESET: 2 } as const;

/** DRM_IOCTL_GET_CAP capabilities (`DRM_CAP_*`, include/uapi/drm/drm.h). */
export const DRM_CAP = {
  DUMB_BUFFER: 0x1,
  VBLANK_HIGH_CRTC: 0x2,
  DUMB_PREFERRED_DEPTH: 0x3,
  DUMB_PREFER_SHADOW: 0x4,
  PRIME: 0x5,
  TIMESTAMP_MONOTONIC: 0x6,
  ASYNC_PAGE_FLIP: 0x7,
  CURSOR_WIDTH: 0x8,
  CURSOR_HEIGHT: 0x9,
  ADDFB2_MODIFIERS: 0x10,
  PAGE_FLIP_TARGET: 0x11,
  CRTC_IN_VBLANK_EVENT: 0x12,
  SYNCOBJ: 0x13,
  SYNCOBJ_TIMELINE: 0x14,
} as const;

/** Bits of the DRM_CAP_PRIME value (`DRM_PRIME_CAP_*`, include/uapi/drm/drm.h). */
export const DRM_PRIME_CAP = { IMPORT: 0x1, EXPORT: 0x2 } as const;

/** DRM_IOCTL_SET_CLIENT_CAP capabilities (`DRM_CLIENT_CAP_*`, include/uapi/drm/drm.h). */
export const DRM_CLIENT_CAP = {
  STEREO_3D: 1,
  UNIVERSAL_PLANES: 2,
  ATOMIC: 3,
  ASPECT_RATIO: 4,
  WRITEBACK_CONNECTORS: 5,
} as const;

/**
 * drm_prime_handle.flags of PRIME_HANDLE_TO_FD, prefix `DRM_` (`DRM_RDWR` =
 * O_RDWR, `DRM_CLOEXEC` = O_CLOEXEC; include/uapi/drm/drm.h with the
 * asm-generic/x86-64 fcntl values 02 and 02000000).
 */
export const DRM_PRIME_FLAGS = { RDWR: 0o2, CLOEXEC: 0o2000000 } as const;
/** Export the dmabuf read-write (`DRM_RDWR` = O_RDWR, include/uapi/drm/drm.h). */
export const DRM_RDWR = DRM_PRIME_FLAGS.RDWR;
/** Export the dmabuf close-on-exec (`DRM_CLOEXEC` = O_CLOEXEC, include/uapi/drm/drm.h). */
export const DRM_CLOEXEC = DRM_PRIME_FLAGS.CLOEXEC;

/** drm_syncobj_create.flags (`DRM_SYNCOBJ_CREATE_*`, include/uapi/drm/drm.h). */
export const DRM_SYNCOBJ_CREATE = { SIGNALED: bit(0) } as const;
/** drm_syncobj_handle.flags of FD_TO_HANDLE (`DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_*`, include/uapi/drm/drm.h). */
export const DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS = { IMPORT_SYNC_FILE: bit(0) } as const;
/** drm_syncobj_handle.flags of HANDLE_TO_FD (`DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_*`, include/uapi/drm/drm.h). */
export const DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS = { EXPORT_SYNC_FILE: bit(0) } as const;
/** drm_syncobj_wait.flags (`DRM_SYNCOBJ_WAIT_FLAGS_*`, include/uapi/drm/drm.h). */
export const DRM_SYNCOBJ_WAIT_FLAGS = { WAIT_ALL: bit(0), WAIT_FOR_SUBMIT: bit(1), WAIT_AVAILABLE: bit(2) } as const;
/** drm_syncobj_timeline_array.flags of SYNCOBJ_QUERY (`DRM_SYNCOBJ_QUERY_FLAGS_*`, include/uapi/drm/drm.h). */
export const DRM_SYNCOBJ_QUERY_FLAGS = { LAST_SUBMITTED: bit(0) } as const;
/** drm_crtc_queue_sequence.flags (`DRM_CRTC_SEQUENCE_*`, include/uapi/drm/drm.h). */
export const DRM_CRTC_SEQUENCE = { RELATIVE: 0x1, NEXT_ON_MISS: 0x2 } as const;
/** drm_event.type of generic events (`DRM_EVENT_*`, include/uapi/drm/drm.h). */
export const DRM_EVENT = { VBLANK: 0x01, FLIP_COMPLETE: 0x02, CRTC_SEQUENCE: 0x03 } as const;

/** Every constant family of drm.h except the ioctl numbers (include/uapi/drm/drm.h). */
export const DRM_CONSTANT_FAMILIES: readonly DrmConstFamily[] = [
  {
    prefix: '',
    enumTag: 'define',
    values: {
      DRM_MIN_ORDER,
      DRM_MAX_ORDER,
      DRM_RAM_PERCENT,
      _DRM_VBLANK_HIGH_CRTC_SHIFT,
      _DRM_VBLANK_TYPES_MASK,
      _DRM_VBLANK_FLAGS_MASK,
    },
  },
  { prefix: '_DRM_LOCK_', enumTag: 'define', values: DRM_HW_LOCK },
  { prefix: 'DRM_', enumTag: '', values: DRM_CONTROL_FUNC },
  { prefix: '_DRM_', enumTag: 'drm_map_type', values: DRM_MAP_TYPE },
  { prefix: '_DRM_', enumTag: 'drm_map_flags', values: DRM_MAP_FLAGS },
  { prefix: '_DRM_STAT_', enumTag: 'drm_stat_type', values: DRM_STAT_TYPE },
  { prefix: '_DRM_', enumTag: 'drm_lock_flags', values: DRM_LOCK_FLAGS },
  { prefix: '_DRM_DMA_', enumTag: 'drm_dma_flags', values: DRM_DMA_FLAGS },
  { prefix: '_DRM_', enumTag: '', values: DRM_BUF_DESC_FLAGS },
  { prefix: '_DRM_CONTEXT_', enumTag: 'drm_ctx_flags', values: DRM_CTX_FLAGS },
  { prefix: 'DRM_DRAWABLE_', enumTag: '', values: DRM_DRAWABLE_INFO_TYPE },
  { prefix: '_DRM_VBLANK_', enumTag: 'drm_vblank_seq_type', values: DRM_VBLANK_SEQ_TYPE },
  { prefix: '_DRM_', enumTag: 'define', values: DRM_MODESET_CTL_CMD },
  { prefix: 'DRM_CAP_', enumTag: 'define', values: DRM_CAP },
  { prefix: 'DRM_PRIME_CAP_', enumTag: 'define', values: DRM_PRIME_CAP },
  { prefix: 'DRM_CLIENT_CAP_', enumTag: 'define', values: DRM_CLIENT_CAP },
  { prefix: 'DRM_', enumTag: 'define', values: DRM_PRIME_FLAGS },
  { prefix: 'DRM_SYNCOBJ_CREATE_', enumTag: 'define', values: DRM_SYNCOBJ_CREATE },
  { prefix: 'DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_', enumTag: 'define', values: DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS },
  { prefix: 'DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_', enumTag: 'define', values: DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS },
  { prefix: 'DRM_SYNCOBJ_WAIT_FLAGS_', enumTag: 'define', values: DRM_SYNCOBJ_WAIT_FLAGS },
  { prefix: 'DRM_SYNCOBJ_QUERY_FLAGS_', enumTag: 'define', values: DRM_SYNCOBJ_QUERY_FLAGS },
  { prefix: 'DRM_CRTC_SEQUENCE_', enumTag: 'define', values: DRM_CRTC_SEQUENCE },
  { prefix: 'DRM_EVENT_', enumTag: 'define', values: DRM_EVENT },
];
