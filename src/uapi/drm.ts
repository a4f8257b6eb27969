/**
 * The DRM core uapi catalogue: everything of include/uapi/drm/drm.h (ioctl
 * numbers, structs, constants) plus the drm_mode.h structs its KMS request
 * numbers need, and the spec §8.2 additions newer than the CI header
 * (libdrm-dev 2.4.114): DRM_IOCTL_GEM_CHANGE_HANDLE. test/uapi/drm-header.test.ts
 * compiles the system header and compares every number with this module.
 * Also re-exports the amdgpu driver catalogue (amdgpu.ts), so that
 * src/uapi/index.ts needs one line for both.
 */
import { DRM_CONSTANT_FAMILIES, DRM_NAME } from './drm-consts.js';
import { DRM_COMMAND_BASE, DRM_COMMAND_END, DRM_IOCTL_BASE, DRM_IOCTLS, type DrmIoctl } from './drm-ioctls.js';
import type { UapiNewer } from './drm-layout.js';

export * from './amdgpu.js';
export * from './drm-consts.js';
export * from './drm-ioctls.js';
export * from './drm-layout.js';
export * from './drm-mode.js';
export * from './drm-structs.js';

function buildConstants(): { values: Record<string, number>; newer: Record<string, UapiNewer> } {
  const values: Record<string, number> = {};
  const newer: Record<string, UapiNewer> = {};
  const add = (name: string, value: number, from?: UapiNewer): void => {
    if (Object.hasOwn(values, name)) throw new Error(`duplicate drm constant ${name}`);
    values[name] = value;
    if (from) newer[name] = from;
  };
  add('DRM_IOCTL_BASE', DRM_IOCTL_BASE.charCodeAt(0));
  add('DRM_COMMAND_BASE', DRM_COMMAND_BASE);
  add('DRM_COMMAND_END', DRM_COMMAND_END);
  for (const family of DRM_CONSTANT_FAMILIES) {
    for (const [key, value] of Object.entries(family.values)) add(family.prefix + key, value, family.newer?.[key]);
  }
  for (const ioctl of Object.values<DrmIoctl>(DRM_IOCTLS)) add(ioctl.name, ioctl.request, ioctl.newer);
  return { values, newer };
}

const BUILT = buildConstants();

/**
 * Every numeric macro and enumerator of include/uapi/drm/drm.h by full C name
 * (`DRM_CLOEXEC`, `DRM_IOCTL_GEM_CLOSE`, `_DRM_STAT_LOCK`, `DRM_COMMAND_BASE` …),
 * newest version, built from the structured tables.
 */
export const DRM_CONSTANTS: Readonly<Record<string, number>> = Object.freeze(BUILT.values);

/** Names in DRM_CONSTANTS that the CI header (libdrm-dev 2.4.114) lacks, with their source (spec §8.2). */
export const DRM_CONSTANT_NEWER: Readonly<Record<string, UapiNewer>> = Object.freeze(BUILT.newer);

/** String-valued macros of include/uapi/drm/drm.h by full C name. */
export const DRM_STRING_CONSTANTS: Readonly<Record<string, string>> = Object.freeze({ DRM_NAME });
