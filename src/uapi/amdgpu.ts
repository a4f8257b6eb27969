/**
 * The amdgpu render-node uapi catalogue: everything of
 * include/uapi/drm/amdgpu_drm.h (libdrm-dev 2.4.114 as CI compiles it) plus
 * what spec §8.2 gives for newer kernels (the Linux 6.18 CRIU queries
 * GEM_LIST_HANDLES and GEM_OP GET_MAPPING_INFO, new domains/flags), and — kept
 * apart — the never-merged CRIU_OP proposal of spec §8.1
 * (amdgpu-criu-proposal.ts). test/uapi/drm-header.test.ts compiles the system
 * header and compares every number with this module.
 */
import { AMDGPU_CONSTANT_FAMILIES } from './amdgpu-consts.js';
import { AMDGPU_IOCTLS } from './amdgpu-ioctls.js';
import { DRM_IOCTLS, type DrmIoctl } from './drm-ioctls.js';
import type { UapiNewer } from './drm-layout.js';

export * from './amdgpu-consts.js';
export * from './amdgpu-criu-proposal.js';
export * from './amdgpu-ioctls.js';
export * from './amdgpu-structs.js';
export * from './amdgpu-va.js';

function buildConstants(): { values: Record<string, number>; newer: Record<string, UapiNewer> } {
  const values: Record<string, number> = {};
  const newer: Record<string, UapiNewer> = {};
  const add = (name: string, value: number, from?: UapiNewer): void => {
    if (Object.hasOwn(values, name)) throw new Error(`duplicate amdgpu constant ${name}`);
    values[name] = value;
    if (from) newer[name] = from;
  };
  for (const family of AMDGPU_CONSTANT_FAMILIES) {
    for (const [key, value] of Object.entries(family.values)) add(family.prefix + key, value, family.newer?.[key]);
  }
  for (const ioctl of Object.values<DrmIoctl>(AMDGPU_IOCTLS)) add(ioctl.name, ioctl.request, ioctl.newer);
  return { values, newer };
}

const BUILT = buildConstants();

/**
 * Every macro of include/uapi/drm/amdgpu_drm.h by full C name
 * (`AMDGPU_GEM_DOMAIN_VRAM`, `DRM_AMDGPU_GEM_VA`, `DRM_IOCTL_AMDGPU_GEM_OP` …),
 * newest upstream version, built from the structured tables. Proposal-only
 * names are in AMDGPU_CRIU_PROPOSAL_CONSTANTS instead.
 */
export const AMDGPU_CONSTANTS: Readonly<Record<string, number>> = Object.freeze(BUILT.values);

/** Names in AMDGPU_CONSTANTS that the CI header (libdrm-dev 2.4.114) lacks, with their source (spec §8.2). */
export const AMDGPU_CONSTANT_NEWER: Readonly<Record<string, UapiNewer>> = Object.freeze(BUILT.newer);

const RENDER_NODE_IOCTLS: readonly DrmIoctl[] = [...Object.values(DRM_IOCTLS), ...Object.values(AMDGPU_IOCTLS)];
const BY_REQUEST = new Map<number, DrmIoctl>(RENDER_NODE_IOCTLS.map((e) => [e.request, e]));

/**
 * An ioctl of an amdgpu DRM file (core `DRM_IOCTL_*` or `DRM_IOCTL_AMDGPU_*`,
 * upstream only) by full name or by request word, newest layout
 * (include/uapi/drm/drm.h, amdgpu_drm.h).
 */
export function renderNodeIoctl(nameOrRequest: string | number): DrmIoctl | undefined {
  if (typeof nameOrRequest === 'number') return BY_REQUEST.get(nameOrRequest >>> 0);
  return RENDER_NODE_IOCTLS.find((e) => e.name === nameOrRequest);
}
