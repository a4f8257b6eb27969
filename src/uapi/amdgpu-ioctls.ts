/**
 * The amdgpu render-node ioctl table (`DRM_IOCTL_AMDGPU_*` of
 * include/uapi/drm/amdgpu_drm.h): `DRM_IOW/IOWR(DRM_COMMAND_BASE + DRM_AMDGPU_*,
 * argument)`, with request numbers computed from the argument sizes in
 * AMDGPU_STRUCTS (newest layout: GEM_OP is 24 bytes and GEM_VA 64 bytes, as in
 * the spec §8.2 header; the CI header has 16 and 40).
 */
import { DRM_AMDGPU } from './amdgpu-consts.js';
import { AMDGPU_STRUCTS } from './amdgpu-structs.js';
import { DRM_COMMAND_BASE, type DrmIoctl, drmIoctlEntry, type DrmIoctlRow } from './drm-ioctls.js';
import type { UapiNewer } from './drm-layout.js';

const SPEC_8_2_6_18: UapiNewer = { source: 'spec §8.2', sinceKernel: '6.18' };

type Row = readonly [command: keyof typeof DRM_AMDGPU, dir: DrmIoctlRow[2], arg: string, opts?: { newer?: UapiNewer }];

const ROWS = [
  ['GEM_CREATE', 'rw', 'union drm_amdgpu_gem_create'],
  ['GEM_MMAP', 'rw', 'union drm_amdgpu_gem_mmap'],
  ['CTX', 'rw', 'union drm_amdgpu_ctx'],
  ['BO_LIST', 'rw', 'union drm_amdgpu_bo_list'],
  ['CS', 'rw', 'union drm_amdgpu_cs'],
  ['INFO', 'w', 'struct drm_amdgpu_info'],
  ['GEM_METADATA', 'rw', 'struct drm_amdgpu_gem_metadata'],
  ['GEM_WAIT_IDLE', 'rw', 'union drm_amdgpu_gem_wait_idle'],
  ['GEM_VA', 'w', 'struct drm_amdgpu_gem_va'],
  ['WAIT_CS', 'rw', 'union drm_amdgpu_wait_cs'],
  ['GEM_OP', 'rw', 'struct drm_amdgpu_gem_op'],
  ['GEM_USERPTR', 'rw', 'struct drm_amdgpu_gem_userptr'],
  ['WAIT_FENCES', 'rw', 'union drm_amdgpu_wait_fences'],
  ['VM', 'rw', 'union drm_amdgpu_vm'],
  ['FENCE_TO_HANDLE', 'rw', 'union drm_amdgpu_fence_to_handle'],
  ['SCHED', 'w', 'union drm_amdgpu_sched'],
  // spec §8.2: DRM_IOWR(DRM_COMMAND_BASE + 0x19, struct drm_amdgpu_gem_list_handles) (Linux 6.18)
  ['GEM_LIST_HANDLES', 'rw', 'struct drm_amdgpu_gem_list_handles', { newer: SPEC_8_2_6_18 }],
] as const satisfies readonly Row[];

/** Full name of an amdgpu ioctl (`DRM_IOCTL_AMDGPU_*`, include/uapi/drm/amdgpu_drm.h). */
export type AmdgpuIoctlName = `DRM_IOCTL_AMDGPU_${(typeof ROWS)[number][0]}`;

function buildTable(): Record<AmdgpuIoctlName, DrmIoctl> {
  const out = {} as Record<AmdgpuIoctlName, DrmIoctl>;
  for (const [command, dir, arg, opts] of ROWS as readonly Row[]) {
    const cmd = DRM_AMDGPU[command];
    const row: DrmIoctlRow = [command, DRM_COMMAND_BASE + cmd, dir, arg, opts];
    const entry = drmIoctlEntry(row, 'DRM_IOCTL_AMDGPU_', 'amdgpu_drm.h', (tag) => AMDGPU_STRUCTS[tag], cmd);
    out[entry.name as AmdgpuIoctlName] = entry;
  }
  return out;
}

/** Every upstream amdgpu ioctl, keyed by full name (include/uapi/drm/amdgpu_drm.h; GEM_LIST_HANDLES from spec §8.2). */
export const AMDGPU_IOCTLS: Readonly<Record<AmdgpuIoctlName, DrmIoctl>> = Object.freeze(buildTable());

const BY_COMMAND = new Map<number, DrmIoctl>(Object.values<DrmIoctl>(AMDGPU_IOCTLS).map((e) => [e.command!, e]));

/** The amdgpu ioctl with driver command number `command` (`DRM_AMDGPU_*`), if any (include/uapi/drm/amdgpu_drm.h). */
export function amdgpuIoctlByCommand(command: number): DrmIoctl | undefined {
  return BY_COMMAND.get(command);
}

/** The amdgpu ioctl called `name`: full (`DRM_IOCTL_AMDGPU_GEM_VA`) or without `DRM_IOCTL_AMDGPU_` (include/uapi/drm/amdgpu_drm.h). */
export function amdgpuIoctlByName(name: string): DrmIoctl | undefined {
  const full = name.startsWith('DRM_IOCTL_AMDGPU_') ? name : `DRM_IOCTL_AMDGPU_${name}`;
  return Object.hasOwn(AMDGPU_IOCTLS, full) ? AMDGPU_IOCTLS[full as AmdgpuIoctlName] : undefined;
}
