/**
 * The DRM core ioctl table (`DRM_IOCTL_*` of include/uapi/drm/drm.h) and the
 * request-building helpers shared with driver tables (amdgpu). Request numbers
 * are computed with `_IOC` from the argument sizes in DRM_STRUCTS /
 * DRM_MODE_STRUCTS, never typed in.
 */
import { DRM_SCALAR_SIZE, type DrmScalar, type DrmStructLayout, type UapiNewer } from './drm-layout.js';
import { DRM_MODE_STRUCTS } from './drm-mode.js';
import { DRM_STRUCTS } from './drm-structs.js';
import { _IOC, _IOC_NONE, _IOC_READ, _IOC_WRITE } from './ioc.js';

/** Ioctl type byte of every DRM device (`DRM_IOCTL_BASE` 'd', include/uapi/drm/drm.h). */
export const DRM_IOCTL_BASE = 'd';
/** First driver-specific command number (`DRM_COMMAND_BASE`, include/uapi/drm/drm.h). */
export const DRM_COMMAND_BASE = 0x40;
/** One past the last driver-specific command number; generic ioctls resume here (`DRM_COMMAND_END`, include/uapi/drm/drm.h). */
export const DRM_COMMAND_END = 0xa0;

/** Data direction of a DRM ioctl: `DRM_IO`/`DRM_IOR`/`DRM_IOW`/`DRM_IOWR` (include/uapi/drm/drm.h). */
export type DrmIoctlDir = 'none' | 'r' | 'w' | 'rw';

/** One DRM ioctl, core or driver (include/uapi/drm/drm.h, amdgpu_drm.h). */
export interface DrmIoctl {
  /** Full macro name, e.g. `DRM_IOCTL_PRIME_HANDLE_TO_FD`, `DRM_IOCTL_AMDGPU_GEM_VA`. */
  name: string;
  /** Command number of the request (`_IOC_NR`); for driver ioctls `DRM_COMMAND_BASE + command`. */
  nr: number;
  dir: DrmIoctlDir;
  /** Argument type as the macro names it (`struct drm_gem_close`, `union drm_amdgpu_gem_create`, `unsigned int`), or null for `DRM_IO`. */
  arg: string | null;
  /** Tag of the argument struct/union (key of the header's struct table), or null. */
  struct: string | null;
  /** `sizeof` the argument (0 for `DRM_IO`), newest layout. */
  argSize: number;
  /** Request word, newest layout. */
  request: number;
  /** Which uapi header defines it. */
  header: 'drm.h' | 'amdgpu_drm.h';
  /** Driver command number (`DRM_AMDGPU_*`), for driver ioctls. */
  command?: number;
  /** The CI header (libdrm-dev 2.4.114) lacks it: where its numbers come from (spec §8). */
  newer?: UapiNewer;
  /** Marked deprecated in the header. */
  deprecated?: boolean;
}

const DIR_BITS: Record<DrmIoctlDir, number> = {
  none: _IOC_NONE,
  r: _IOC_READ,
  w: _IOC_WRITE,
  rw: _IOC_READ | _IOC_WRITE,
};

/** `_IO('d', nr)` (`DRM_IO(nr)`, include/uapi/drm/drm.h). */
export function DRM_IO(nr: number): number {
  return _IOC(_IOC_NONE, DRM_IOCTL_BASE, nr, 0);
}
/** `_IOR('d', nr, size)` (`DRM_IOR(nr, type)`, include/uapi/drm/drm.h). */
export function DRM_IOR(nr: number, size: number): number {
  return _IOC(_IOC_READ, DRM_IOCTL_BASE, nr, size);
}
/** `_IOW('d', nr, size)` (`DRM_IOW(nr, type)`, include/uapi/drm/drm.h). */
export function DRM_IOW(nr: number, size: number): number {
  return _IOC(_IOC_WRITE, DRM_IOCTL_BASE, nr, size);
}
/** `_IOWR('d', nr, size)` (`DRM_IOWR(nr, type)`, include/uapi/drm/drm.h). */
export function DRM_IOWR(nr: number, size: number): number {
  return _IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, nr, size);
}

/** Request word of a DRM ioctl with direction `dir`, number `nr` and argument size `size` (include/uapi/drm/drm.h). */
export function drmRequest(dir: DrmIoctlDir, nr: number, size: number): number {
  return _IOC(DIR_BITS[dir], DRM_IOCTL_BASE, nr, size);
}

const SCALAR_ARGS: Record<string, DrmScalar> = { 'unsigned int': 'uint' };

/**
 * `sizeof` an ioctl argument given as the macro writes it (`struct X`, `union X`,
 * `unsigned int`), resolving tags with `layoutOf`; 0 for null (include/uapi/drm/drm.h).
 */
export function drmArgSize(arg: string | null, layoutOf: (tag: string) => DrmStructLayout | undefined): number {
  if (arg === null) return 0;
  const scalar = SCALAR_ARGS[arg];
  if (scalar !== undefined) return DRM_SCALAR_SIZE[scalar];
  const m = /^(struct|union) (\w+)$/.exec(arg);
  const layout = m?.[2] === undefined ? undefined : layoutOf(m[2]);
  if (!m || !layout || layout.kind !== m[1]) throw new Error(`unknown ioctl argument type '${arg}'`);
  return layout.size;
}

/** Row of an ioctl table: short name, nr, dir, argument type, options (include/uapi/drm/drm.h, amdgpu_drm.h). */
export type DrmIoctlRow = readonly [
  short: string,
  nr: number,
  dir: DrmIoctlDir,
  arg: string | null,
  opts?: { newer?: UapiNewer; deprecated?: boolean },
];

/** Builds a frozen ioctl entry from a row (include/uapi/drm/drm.h, amdgpu_drm.h). */
export function drmIoctlEntry(
  row: DrmIoctlRow,
  prefix: string,
  header: DrmIoctl['header'],
  layoutOf: (tag: string) => DrmStructLayout | undefined,
  command?: number,
): DrmIoctl {
  const [short, nr, dir, arg, opts] = row;
  if ((dir === 'none') !== (arg === null)) throw new Error(`${prefix}${short}: DRM_IO takes no argument`);
  const argSize = drmArgSize(arg, layoutOf);
  const entry: DrmIoctl = {
    name: prefix + short,
    nr,
    dir,
    arg,
    struct: arg === null ? null : (/^(?:struct|union) (\w+)$/.exec(arg)?.[1] ?? null),
    argSize,
    request: drmRequest(dir, nr, argSize),
    header,
  };
  if (command !== undefined) entry.command = command;
  if (opts?.newer) entry.newer = opts.newer;
  if (opts?.deprecated) entry.deprecated = true;
  return Object.freeze(entry);
}

const SPEC_8_2_6_18 = { source: 'spec §8.2', sinceKernel: '6.18' } as const;

const ROWS = [
  ['VERSION', 0x00, 'rw', 'struct drm_version'],
  ['GET_UNIQUE', 0x01, 'rw', 'struct drm_unique'],
  ['GET_MAGIC', 0x02, 'r', 'struct drm_auth'],
  ['IRQ_BUSID', 0x03, 'rw', 'struct drm_irq_busid'],
  ['GET_MAP', 0x04, 'rw', 'struct drm_map'],
  ['GET_CLIENT', 0x05, 'rw', 'struct drm_client'],
  ['GET_STATS', 0x06, 'r', 'struct drm_stats'],
  ['SET_VERSION', 0x07, 'rw', 'struct drm_set_version'],
  ['MODESET_CTL', 0x08, 'w', 'struct drm_modeset_ctl'],
  ['GEM_CLOSE', 0x09, 'w', 'struct drm_gem_close'],
  ['GEM_FLINK', 0x0a, 'rw', 'struct drm_gem_flink'],
  ['GEM_OPEN', 0x0b, 'rw', 'struct drm_gem_open'],
  ['GET_CAP', 0x0c, 'rw', 'struct drm_get_cap'],
  ['SET_CLIENT_CAP', 0x0d, 'w', 'struct drm_set_client_cap'],
  ['SET_UNIQUE', 0x10, 'w', 'struct drm_unique'],
  ['AUTH_MAGIC', 0x11, 'w', 'struct drm_auth'],
  ['BLOCK', 0x12, 'rw', 'struct drm_block'],
  ['UNBLOCK', 0x13, 'rw', 'struct drm_block'],
  ['CONTROL', 0x14, 'w', 'struct drm_control'],
  ['ADD_MAP', 0x15, 'rw', 'struct drm_map'],
  ['ADD_BUFS', 0x16, 'rw', 'struct drm_buf_desc'],
  ['MARK_BUFS', 0x17, 'w', 'struct drm_buf_desc'],
  ['INFO_BUFS', 0x18, 'rw', 'struct drm_buf_info'],
  ['MAP_BUFS', 0x19, 'rw', 'struct drm_buf_map'],
  ['FREE_BUFS', 0x1a, 'w', 'struct drm_buf_free'],
  ['RM_MAP', 0x1b, 'w', 'struct drm_map'],
  ['SET_SAREA_CTX', 0x1c, 'w', 'struct drm_ctx_priv_map'],
  ['GET_SAREA_CTX', 0x1d, 'rw', 'struct drm_ctx_priv_map'],
  ['SET_MASTER', 0x1e, 'none', null],
  ['DROP_MASTER', 0x1f, 'none', null],
  ['ADD_CTX', 0x20, 'rw', 'struct drm_ctx'],
  ['RM_CTX', 0x21, 'rw', 'struct drm_ctx'],
  ['MOD_CTX', 0x22, 'w', 'struct drm_ctx'],
  ['GET_CTX', 0x23, 'rw', 'struct drm_ctx'],
  ['SWITCH_CTX', 0x24, 'w', 'struct drm_ctx'],
  ['NEW_CTX', 0x25, 'w', 'struct drm_ctx'],
  ['RES_CTX', 0x26, 'rw', 'struct drm_ctx_res'],
  ['ADD_DRAW', 0x27, 'rw', 'struct drm_draw'],
  ['RM_DRAW', 0x28, 'rw', 'struct drm_draw'],
  ['DMA', 0x29, 'rw', 'struct drm_dma'],
  ['LOCK', 0x2a, 'w', 'struct drm_lock'],
  ['UNLOCK', 0x2b, 'w', 'struct drm_lock'],
  ['FINISH', 0x2c, 'w', 'struct drm_lock'],
  ['PRIME_HANDLE_TO_FD', 0x2d, 'rw', 'struct drm_prime_handle'],
  ['PRIME_FD_TO_HANDLE', 0x2e, 'rw', 'struct drm_prime_handle'],
  ['AGP_ACQUIRE', 0x30, 'none', null],
  ['AGP_RELEASE', 0x31, 'none', null],
  ['AGP_ENABLE', 0x32, 'w', 'struct drm_agp_mode'],
  ['AGP_INFO', 0x33, 'r', 'struct drm_agp_info'],
  ['AGP_ALLOC', 0x34, 'rw', 'struct drm_agp_buffer'],
  ['AGP_FREE', 0x35, 'w', 'struct drm_agp_buffer'],
  ['AGP_BIND', 0x36, 'w', 'struct drm_agp_binding'],
  ['AGP_UNBIND', 0x37, 'w', 'struct drm_agp_binding'],
  ['SG_ALLOC', 0x38, 'rw', 'struct drm_scatter_gather'],
  ['SG_FREE', 0x39, 'w', 'struct drm_scatter_gather'],
  ['WAIT_VBLANK', 0x3a, 'rw', 'union drm_wait_vblank'],
  ['CRTC_GET_SEQUENCE', 0x3b, 'rw', 'struct drm_crtc_get_sequence'],
  ['CRTC_QUEUE_SEQUENCE', 0x3c, 'rw', 'struct drm_crtc_queue_sequence'],
  ['UPDATE_DRAW', 0x3f, 'w', 'struct drm_update_draw'],
  ['MODE_GETRESOURCES', 0xa0, 'rw', 'struct drm_mode_card_res'],
  ['MODE_GETCRTC', 0xa1, 'rw', 'struct drm_mode_crtc'],
  ['MODE_SETCRTC', 0xa2, 'rw', 'struct drm_mode_crtc'],
  ['MODE_CURSOR', 0xa3, 'rw', 'struct drm_mode_cursor'],
  ['MODE_GETGAMMA', 0xa4, 'rw', 'struct drm_mode_crtc_lut'],
  ['MODE_SETGAMMA', 0xa5, 'rw', 'struct drm_mode_crtc_lut'],
  ['MODE_GETENCODER', 0xa6, 'rw', 'struct drm_mode_get_encoder'],
  ['MODE_GETCONNECTOR', 0xa7, 'rw', 'struct drm_mode_get_connector'],
  ['MODE_ATTACHMODE', 0xa8, 'rw', 'struct drm_mode_mode_cmd', { deprecated: true }],
  ['MODE_DETACHMODE', 0xa9, 'rw', 'struct drm_mode_mode_cmd', { deprecated: true }],
  ['MODE_GETPROPERTY', 0xaa, 'rw', 'struct drm_mode_get_property'],
  ['MODE_SETPROPERTY', 0xab, 'rw', 'struct drm_mode_connector_set_property'],
  ['MODE_GETPROPBLOB', 0xac, 'rw', 'struct drm_mode_get_blob'],
  ['MODE_GETFB', 0xad, 'rw', 'struct drm_mode_fb_cmd'],
  ['MODE_ADDFB', 0xae, 'rw', 'struct drm_mode_fb_cmd'],
  ['MODE_RMFB', 0xaf, 'rw', 'unsigned int'],
  ['MODE_PAGE_FLIP', 0xb0, 'rw', 'struct drm_mode_crtc_page_flip'],
  ['MODE_DIRTYFB', 0xb1, 'rw', 'struct drm_mode_fb_dirty_cmd'],
  ['MODE_CREATE_DUMB', 0xb2, 'rw', 'struct drm_mode_create_dumb'],
  ['MODE_MAP_DUMB', 0xb3, 'rw', 'struct drm_mode_map_dumb'],
  ['MODE_DESTROY_DUMB', 0xb4, 'rw', 'struct drm_mode_destroy_dumb'],
  ['MODE_GETPLANERESOURCES', 0xb5, 'rw', 'struct drm_mode_get_plane_res'],
  ['MODE_GETPLANE', 0xb6, 'rw', 'struct drm_mode_get_plane'],
  ['MODE_SETPLANE', 0xb7, 'rw', 'struct drm_mode_set_plane'],
  ['MODE_ADDFB2', 0xb8, 'rw', 'struct drm_mode_fb_cmd2'],
  ['MODE_OBJ_GETPROPERTIES', 0xb9, 'rw', 'struct drm_mode_obj_get_properties'],
  ['MODE_OBJ_SETPROPERTY', 0xba, 'rw', 'struct drm_mode_obj_set_property'],
  ['MODE_CURSOR2', 0xbb, 'rw', 'struct drm_mode_cursor2'],
  ['MODE_ATOMIC', 0xbc, 'rw', 'struct drm_mode_atomic'],
  ['MODE_CREATEPROPBLOB', 0xbd, 'rw', 'struct drm_mode_create_blob'],
  ['MODE_DESTROYPROPBLOB', 0xbe, 'rw', 'struct drm_mode_destroy_blob'],
  ['SYNCOBJ_CREATE', 0xbf, 'rw', 'struct drm_syncobj_create'],
  ['SYNCOBJ_DESTROY', 0xc0, 'rw', 'struct drm_syncobj_destroy'],
  ['SYNCOBJ_HANDLE_TO_FD', 0xc1, 'rw', 'struct drm_syncobj_handle'],
  ['SYNCOBJ_FD_TO_HANDLE', 0xc2, 'rw', 'struct drm_syncobj_handle'],
  ['SYNCOBJ_WAIT', 0xc3, 'rw', 'struct drm_syncobj_wait'],
  ['SYNCOBJ_RESET', 0xc4, 'rw', 'struct drm_syncobj_array'],
  ['SYNCOBJ_SIGNAL', 0xc5, 'rw', 'struct drm_syncobj_array'],
  ['MODE_CREATE_LEASE', 0xc6, 'rw', 'struct drm_mode_create_lease'],
  ['MODE_LIST_LESSEES', 0xc7, 'rw', 'struct drm_mode_list_lessees'],
  ['MODE_GET_LEASE', 0xc8, 'rw', 'struct drm_mode_get_lease'],
  ['MODE_REVOKE_LEASE', 0xc9, 'rw', 'struct drm_mode_revoke_lease'],
  ['SYNCOBJ_TIMELINE_WAIT', 0xca, 'rw', 'struct drm_syncobj_timeline_wait'],
  ['SYNCOBJ_QUERY', 0xcb, 'rw', 'struct drm_syncobj_timeline_array'],
  ['SYNCOBJ_TRANSFER', 0xcc, 'rw', 'struct drm_syncobj_transfer'],
  ['SYNCOBJ_TIMELINE_SIGNAL', 0xcd, 'rw', 'struct drm_syncobj_timeline_array'],
  ['MODE_GETFB2', 0xce, 'rw', 'struct drm_mode_fb_cmd2'],
  // spec §8.2: `#define DRM_IOCTL_GEM_CHANGE_HANDLE DRM_IOWR(0xD2, struct drm_gem_change_handle)` (Linux 6.18)
  ['GEM_CHANGE_HANDLE', 0xd2, 'rw', 'struct drm_gem_change_handle', { newer: SPEC_8_2_6_18 }],
] as const satisfies readonly DrmIoctlRow[];

/** Full name of a DRM core ioctl (`DRM_IOCTL_*`, include/uapi/drm/drm.h). */
export type DrmCoreIoctlName = `DRM_IOCTL_${(typeof ROWS)[number][0]}`;

/** Argument layout by tag: drm.h structs, then the drm_mode.h ioctl structs (include/uapi/drm/drm.h, drm_mode.h). */
export function drmCoreLayout(tag: string): DrmStructLayout | undefined {
  return DRM_STRUCTS[tag] ?? DRM_MODE_STRUCTS[tag];
}

function buildTable(): Record<DrmCoreIoctlName, DrmIoctl> {
  const out = {} as Record<DrmCoreIoctlName, DrmIoctl>;
  for (const row of ROWS as readonly DrmIoctlRow[]) {
    const entry = drmIoctlEntry(row, 'DRM_IOCTL_', 'drm.h', drmCoreLayout);
    out[entry.name as DrmCoreIoctlName] = entry;
  }
  return out;
}

/** Every DRM core ioctl, keyed by full name (include/uapi/drm/drm.h; GEM_CHANGE_HANDLE from spec §8.2). */
export const DRM_IOCTLS: Readonly<Record<DrmCoreIoctlName, DrmIoctl>> = Object.freeze(buildTable());

const BY_NR = new Map<number, DrmIoctl>(Object.values<DrmIoctl>(DRM_IOCTLS).map((e) => [e.nr, e]));

/** The DRM core ioctl with command number `nr`, if any (include/uapi/drm/drm.h). */
export function drmIoctlByNr(nr: number): DrmIoctl | undefined {
  return BY_NR.get(nr);
}

/** The DRM core ioctl called `name`, full (`DRM_IOCTL_GEM_CLOSE`) or without `DRM_IOCTL_` (include/uapi/drm/drm.h). */
export function drmIoctlByName(name: string): DrmIoctl | undefined {
  const full = name.startsWith('DRM_IOCTL_') ? name : `DRM_IOCTL_${name}`;
  return Object.hasOwn(DRM_IOCTLS, full) ? DRM_IOCTLS[full as DrmCoreIoctlName] : undefined;
}
