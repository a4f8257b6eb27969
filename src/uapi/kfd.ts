/**
 * The /dev/kfd uapi catalogue: everything of include/uapi/linux/kfd_ioctl.h
 * (KFD 1.18 as modelled; spec §2) plus the kfd_priv.h encodings user space sees
 * (mmap offsets, BO handles; spec §1, §2.6). test/uapi/kfd-header.test.ts
 * compiles the system header and compares every number with this module.
 */
import { KFD_CONSTANT_FAMILIES } from './kfd-consts.js';
import {
  AMDKFD_COMMAND_END,
  AMDKFD_COMMAND_START,
  AMDKFD_IOCTL_BASE,
  AMDKFD_IOCTLS,
  type KfdIoctl,
} from './kfd-ioctls.js';
import { KFD_IOCTL_MAJOR_VERSION, KFD_IOCTL_MINOR_VERSION } from './kfd-version.js';

export * from './kfd-consts.js';
export * from './kfd-flags.js';
export * from './kfd-ioctls.js';
export * from './kfd-layout.js';
export * from './kfd-mmap.js';
export * from './kfd-structs.js';
export * from './kfd-version.js';

function buildConstants(): {
  values: Record<string, number | bigint>;
  since: Record<string, number>;
} {
  const values: Record<string, number | bigint> = {};
  const since: Record<string, number> = {};
  const add = (name: string, value: number | bigint, sinceMinor?: number): void => {
    if (Object.hasOwn(values, name)) throw new Error(`duplicate kfd constant ${name}`);
    values[name] = value;
    if (sinceMinor !== undefined) since[name] = sinceMinor;
  };
  add('KFD_IOCTL_MAJOR_VERSION', KFD_IOCTL_MAJOR_VERSION);
  add('KFD_IOCTL_MINOR_VERSION', KFD_IOCTL_MINOR_VERSION);
  add('AMDKFD_IOCTL_BASE', AMDKFD_IOCTL_BASE.charCodeAt(0));
  add('AMDKFD_COMMAND_START', AMDKFD_COMMAND_START);
  add('AMDKFD_COMMAND_END', AMDKFD_COMMAND_END);
  for (const family of KFD_CONSTANT_FAMILIES) {
    for (const [key, value] of Object.entries(family.values)) {
      add(family.prefix + key, value, family.since?.[key]);
    }
  }
  for (const ioctl of Object.values<KfdIoctl>(AMDKFD_IOCTLS)) add(ioctl.name, ioctl.request, ioctl.sinceMinor);
  return { values, since };
}

const BUILT = buildConstants();

/**
 * Every macro and enum constant of include/uapi/linux/kfd_ioctl.h by its full C
 * name (`KFD_IOC_ALLOC_MEM_FLAGS_VRAM`, `AMDKFD_IOC_ACQUIRE_VM`, `KFD_CRIU_OP_RESUME` …),
 * built from the structured tables above, at the modelled version.
 */
export const KFD_CONSTANTS: Readonly<Record<string, number | bigint>> = Object.freeze(BUILT.values);

/** Full constant name → first KFD minor version that has it, for names not in every version (kfd_ioctl.h history; spec §2.1). */
export const KFD_CONSTANT_SINCE: Readonly<Record<string, number>> = Object.freeze(BUILT.since);
