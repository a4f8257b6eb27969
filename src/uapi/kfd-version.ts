/**
 * KFD ioctl interface versions (`KFD_IOCTL_MAJOR_VERSION`/`KFD_IOCTL_MINOR_VERSION`
 * and the version-history comment of include/uapi/linux/kfd_ioctl.h; spec §2.1).
 */

/** Major version of the KFD ioctl interface (`KFD_IOCTL_MAJOR_VERSION`, include/uapi/linux/kfd_ioctl.h). */
export const KFD_IOCTL_MAJOR_VERSION = 1;

/** Minor version gpucr models (`KFD_IOCTL_MINOR_VERSION` of kfd_ioctl.h in Linux ≈6.16–6.18; spec §2.1). */
export const KFD_IOCTL_MINOR_VERSION = 18;

/** Minor version → what it added (version-history comment of include/uapi/linux/kfd_ioctl.h; spec §2.1). */
export const KFD_IOCTL_VERSION_HISTORY: Readonly<Record<number, string>> = {
  1: 'initial version',
  3: 'SMI events',
  4: 'SRAM EDC bit in device properties',
  5: 'SVM API',
  6: 'query clear flags in SVM get_attr',
  7: 'Checkpoint Restore (CRIU) API',
  8: 'CRIU - support for SDMA transfers with GTT BOs',
  9: 'available memory ioctl',
  10: 'SMI profiler event log',
  11: 'unified memory for ctx save/restore area',
  12: 'DMA buf export ioctl',
  13: 'debugger API',
  14: 'update kfd_event_data',
  15: 'managing mappings in compute VMs with GEM_VA ioctl',
  16: 'contiguous VRAM allocation flag',
  17: 'SDMA queue creation with target SDMA engine ID',
  18: 'rename pad in set_memory_policy_args to misc_process_flag',
  19: 'new ioctl to create secondary kfd processes (AMDKFD_IOC_CREATE_PROCESS)',
};

/** Highest minor version in the history table (include/uapi/linux/kfd_ioctl.h; spec §2.1). */
export const KFD_IOCTL_MAX_KNOWN_MINOR = Math.max(...Object.keys(KFD_IOCTL_VERSION_HISTORY).map(Number));

/** Throws a RangeError unless `minor` is a KFD 1.x minor version gpucr knows (spec §2.1). */
export function checkKfdMinor(minor: number): void {
  if (!Number.isInteger(minor) || minor < 1 || minor > KFD_IOCTL_MAX_KNOWN_MINOR) {
    throw new RangeError(`KFD minor version ${minor} is outside 1..${KFD_IOCTL_MAX_KNOWN_MINOR}`);
  }
}
