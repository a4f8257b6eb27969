/**
 * PROPOSAL ONLY — never merged. The amdgpu CRIU ioctl of David Francis's
 * "[PATCH v3 2/3] drm/amdgpu: Adding amdgpu CRIU ioctl" (amd-gfx, 28 Mar 2025;
 * spec §8.1), modelled on AMDKFD_IOC_CRIU_OP, which Christian König rejected
 * ("Restore must use the same IOCTLs who were used to originally create or
 * import the BOs"); upstream (Linux 6.18) has GEM_LIST_HANDLES, GEM_OP
 * GET_MAPPING_INFO and GEM_CHANGE_HANDLE instead (spec §8.2). Catalogued for the
 * `amdgpu-criu: "criu-ioctl-v3"` design variant. None of these names is in
 * AMDGPU_CONSTANTS / AMDGPU_IOCTLS, and `DRM_AMDGPU_CRIU_OP` (0x19) collides
 * with the upstream `DRM_AMDGPU_GEM_LIST_HANDLES`.
 *
 * The spec names the ioctl and its structs but does not reproduce them; the
 * field lists and values below are those of the v3 patch's
 * include/uapi/drm/amdgpu_drm.h and drivers/gpu/drm/amd/amdgpu/amdgpu_criu.h hunks.
 */
import { DRM_COMMAND_BASE, type DrmIoctl, drmIoctlEntry } from './drm-ioctls.js';
import {
  type DrmFieldSpec,
  type DrmStructLayout,
  type DrmStructSpec,
  layoutDrmStructs,
  type UapiNewer,
} from './drm-layout.js';

/** Provenance of every item of this module: the v3 patch (amd-gfx, 2025-03-28; spec §8.1), never merged. */
export const AMDGPU_CRIU_PROPOSAL: UapiNewer = Object.freeze({
  source: 'amd-gfx [PATCH v3 2/3] drm/amdgpu: Adding amdgpu CRIU ioctl, 2025-03-28 (spec §8.1)',
  proposal: true,
});

/** Proposal-only command number (`DRM_AMDGPU_CRIU_OP` 0x19, v3 patch; spec §8.1). Upstream 0x19 is GEM_LIST_HANDLES. */
export const DRM_AMDGPU_CRIU_OP = 0x19;

/** Proposal-only ops of drm_amdgpu_criu_args.op (`enum drm_amdgpu_criu_op`, prefix `AMDGPU_CRIU_OP_`, v3 patch; spec §8.1). */
export const AMDGPU_CRIU_OP = {
  PROCESS_INFO: 0,
  CHECKPOINT: 1,
  UNPAUSE: 2,
  RESTORE: 3,
  RESTORE_RETRY: 4,
  RESUME: 5,
} as const;

/** Proposal-only drm_amdgpu_criu_bo_bucket.flags (`AMDGPU_CRIU_BO_FLAG_*`, v3 patch; spec §8.1). */
export const AMDGPU_CRIU_BO_FLAG = { IS_IMPORT: 1 << 0, SKIP: 1 << 1 } as const;

const u32 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u32'] as const);
const u64 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u64'] as const);

/**
 * Field lists of the proposal's structs: the two uapi ones and the two
 * kernel-private priv_data records of amdgpu_criu.h (v3 patch; spec §8.1).
 */
export const AMDGPU_CRIU_PROPOSAL_STRUCT_SPECS: Readonly<Record<string, DrmStructSpec>> = {
  drm_amdgpu_criu_args: {
    kind: 'struct',
    fields: [...u64('bos', 'priv_data', 'priv_data_size'), ...u32('num_bos', 'num_objs', 'pid', 'op')],
    newer: AMDGPU_CRIU_PROPOSAL,
  },
  drm_amdgpu_criu_bo_bucket: {
    kind: 'struct',
    fields: [
      ...u64('addr', 'size', 'offset', 'restored_offset', 'alloc_flags'),
      ...u32('preferred_domains', 'dmabuf_fd', 'flags'),
    ],
    newer: AMDGPU_CRIU_PROPOSAL,
  },
  // kernel-private (drivers/gpu/drm/amd/amdgpu/amdgpu_criu.h): the priv_data blob is
  // num_bos of these followed by num_objs drm_amdgpu_criu_vm_mapping_priv_data.
  drm_amdgpu_criu_bo_priv_data: { kind: 'struct', fields: u32('idr_handle'), newer: AMDGPU_CRIU_PROPOSAL },
  drm_amdgpu_criu_vm_mapping_priv_data: {
    kind: 'struct',
    fields: [...u64('start', 'last', 'offset', 'flags'), ...u32('idr_handle')],
    newer: AMDGPU_CRIU_PROPOSAL,
  },
};

/** Layouts of the proposal's structs (x86-64; v3 patch, spec §8.1). */
export const AMDGPU_CRIU_PROPOSAL_STRUCTS: Readonly<Record<string, DrmStructLayout>> = layoutDrmStructs(
  AMDGPU_CRIU_PROPOSAL_STRUCT_SPECS,
);

/** Proposal-only `DRM_IOWR(DRM_COMMAND_BASE + DRM_AMDGPU_CRIU_OP, struct drm_amdgpu_criu_args)` (v3 patch; spec §8.1). */
export const DRM_IOCTL_AMDGPU_CRIU_OP: DrmIoctl = drmIoctlEntry(
  [
    'CRIU_OP',
    DRM_COMMAND_BASE + DRM_AMDGPU_CRIU_OP,
    'rw',
    'struct drm_amdgpu_criu_args',
    { newer: AMDGPU_CRIU_PROPOSAL },
  ],
  'DRM_IOCTL_AMDGPU_',
  'amdgpu_drm.h',
  (tag) => AMDGPU_CRIU_PROPOSAL_STRUCTS[tag],
  DRM_AMDGPU_CRIU_OP,
);

/** Every proposal-only macro and enumerator by full C name (v3 patch; spec §8.1); not part of AMDGPU_CONSTANTS. */
export const AMDGPU_CRIU_PROPOSAL_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  DRM_AMDGPU_CRIU_OP,
  DRM_IOCTL_AMDGPU_CRIU_OP: DRM_IOCTL_AMDGPU_CRIU_OP.request,
  ...Object.fromEntries(Object.entries(AMDGPU_CRIU_OP).map(([k, v]) => [`AMDGPU_CRIU_OP_${k}`, v])),
  ...Object.fromEntries(Object.entries(AMDGPU_CRIU_BO_FLAG).map(([k, v]) => [`AMDGPU_CRIU_BO_FLAG_${k}`, v])),
});
