/**
 * The drm.h / amdgpu_drm.h constants the render-node handlers use (spec §8.2), from the
 * uapi catalogue (src/uapi/drm.ts, src/uapi/amdgpu.ts, checked against the system headers
 * by test/uapi/drm-header.test.ts), plus the two kernel-internal values the handlers need.
 */
import {
  AMDGPU_GEM_DOMAIN,
  AMDGPU_GEM_CREATE,
  AMDGPU_VM_DELAY_UPDATE,
  AMDGPU_VM_MTYPE,
  AMDGPU_VM_PAGE,
} from '../../uapi/amdgpu.js';

export {
  AMDGPU_CRIU_BO_FLAG,
  AMDGPU_CRIU_OP,
  AMDGPU_GEM_CREATE,
  AMDGPU_GEM_DOMAIN,
  AMDGPU_GEM_DOMAIN_MASK,
  AMDGPU_GEM_LIST_HANDLES_FLAG,
  AMDGPU_GEM_OP,
  AMDGPU_GEM_USERPTR,
  AMDGPU_VA_OP,
  AMDGPU_VM_MTYPE_MASK,
  DRM_IOCTL_AMDGPU_CRIU_OP,
} from '../../uapi/amdgpu.js';
export { DRM_PRIME_FLAGS } from '../../uapi/drm.js';

/** The GEM_VA flag word's names, as a log writes them (common prefix `AMDGPU_VM_`): DELAY_UPDATE, PAGE_*, MTYPE_*. */
export const AMDGPU_VM = {
  DELAY_UPDATE: AMDGPU_VM_DELAY_UPDATE,
  PAGE_READABLE: AMDGPU_VM_PAGE.READABLE,
  PAGE_WRITEABLE: AMDGPU_VM_PAGE.WRITEABLE,
  PAGE_EXECUTABLE: AMDGPU_VM_PAGE.EXECUTABLE,
  PAGE_PRT: AMDGPU_VM_PAGE.PRT,
  MTYPE_DEFAULT: AMDGPU_VM_MTYPE.DEFAULT,
  MTYPE_NC: AMDGPU_VM_MTYPE.NC,
  MTYPE_WC: AMDGPU_VM_MTYPE.WC,
  MTYPE_CC: AMDGPU_VM_MTYPE.CC,
  MTYPE_UC: AMDGPU_VM_MTYPE.UC,
  MTYPE_RW: AMDGPU_VM_MTYPE.RW,
  PAGE_NOALLOC: AMDGPU_VM_PAGE.NOALLOC,
} as const;

/** The domains GEM_CREATE refuses explicitly (DOORBELL "until userspace code to use it is available", MMIO_REMAP). */
export const AMDGPU_GEM_DOMAIN_NOT_CREATABLE = AMDGPU_GEM_DOMAIN.DOORBELL | AMDGPU_GEM_DOMAIN.MMIO_REMAP;

/**
 * AMDGPU_GEM_CREATE_SETTABLE_MASK (kernel-internal, amdgpu_gem.h; commit 0317e0e224bc "Allow
 * more flags to be set on gem create", spec §8.2): the flags GEM_CREATE accepts and
 * GEM_LIST_HANDLES reports.
 */
export const AMDGPU_GEM_CREATE_SETTABLE_MASK =
  AMDGPU_GEM_CREATE.CPU_ACCESS_REQUIRED |
  AMDGPU_GEM_CREATE.NO_CPU_ACCESS |
  AMDGPU_GEM_CREATE.CPU_GTT_USWC |
  AMDGPU_GEM_CREATE.VRAM_CLEARED |
  AMDGPU_GEM_CREATE.VM_ALWAYS_VALID |
  AMDGPU_GEM_CREATE.EXPLICIT_SYNC |
  AMDGPU_GEM_CREATE.VRAM_WIPE_ON_RELEASE |
  AMDGPU_GEM_CREATE.ENCRYPTED |
  AMDGPU_GEM_CREATE.GFX12_DCC |
  AMDGPU_GEM_CREATE.DISCARDABLE |
  AMDGPU_GEM_CREATE.COHERENT |
  AMDGPU_GEM_CREATE.UNCACHED |
  AMDGPU_GEM_CREATE.EXT_COHERENT;

/**
 * The flags GEM_CREATE accepted before 0317e0e224bc (6.18's render-node CRIU series): the
 * settable mask without the KFD flags it added (VRAM_WIPE_ON_RELEASE, COHERENT, UNCACHED,
 * EXT_COHERENT), which a kernel without that series (`kernel: "6.17"`, the proposal's kernel)
 * refuses with -EINVAL.
 */
export const AMDGPU_GEM_CREATE_PRE_CRIU_MASK =
  AMDGPU_GEM_CREATE_SETTABLE_MASK &
  ~(
    AMDGPU_GEM_CREATE.VRAM_WIPE_ON_RELEASE |
    AMDGPU_GEM_CREATE.COHERENT |
    AMDGPU_GEM_CREATE.UNCACHED |
    AMDGPU_GEM_CREATE.EXT_COHERENT
  );

/** AMDGPU_GPU_PAGE_SIZE (kernel-internal, amdgpu_gart.h): GPU VM pages are 4 KiB. */
export const AMDGPU_GPU_PAGE_SIZE = 4096n;
