/**
 * The design variants a world runs under (design "Design variants", docs/design-variants.md):
 * other versions of the same kernel or plugin code, chosen in the log header. The newest
 * behaviour, or the code as it is, is each one's default. VARIANT_VALUES (src/log/header.ts)
 * lists the values the reader accepts.
 */

/** Design variants: another version of the same kernel code (design "Design variants"). */
export interface Variants {
  /** Kernel generation for argument checks: "6.18" (default) allows RESTORE with no BOs. */
  kernel: '6.18' | '6.17';
  /** Where criu_restore_devices checks pdd->drm_file: before fget (fixed) or after (leaks a reference). */
  'kfd-restore-devices': 'fixed' | 'fget-leak';
  /** MAX_GPU_INSTANCE, which sizes kfd_criu_bo_priv_data (spec §3). */
  max_gpu_instance: 64 | 16;
  /** ttm_pool_restore_and_alloc after a resumed restore that completes in its last block: frees tt->restore (fixed, spec A.9 F1) or keeps it. */
  ttm: 'fixed' | 'unfixed-restore-drop';
  /** i915_ttm_restore on a failed populate: keeps the backup reference (final) or puts it while keeping obj->ttm.backup (v2, spec C.8). */
  i915: 'final' | 'v2-restore-put';
  /**
   * amdgpu render-node CRIU design (spec §8, docs/design-variants.md): "upstream" = what landed in
   * 6.18 (LIST_HANDLES, GEM_OP GET_MAPPING_INFO, GEM_CHANGE_HANDLE; restore through the creating
   * ioctls); "criu-ioctl-v3" = the March 2025 proposal (DRM_IOCTL_AMDGPU_CRIU_OP), defects included.
   */
  'amdgpu-criu': 'upstream' | 'criu-ioctl-v3';
  /** DRM_IOCTL_GEM_CHANGE_HANDLE as merged with its 2026 fixes, or disabled (drm_invalid_op → -EINVAL, spec §8.2). */
  'gem-change-handle': 'enabled' | 'disabled';
  /** Where the CRIU amdgpu plugin issues KFD RESUME: RESUME_DEVICES_LATE (as it does, spec §9.6) or at RESTORE_EXT_FILE (wrong). */
  resume: 'at-resume-devices-late' | 'at-restore-file';
  /** PROCESS_INFO on a process already paused: evicts again (as the kernel does, spec §6.2: one UNPAUSE then leaves the queues evicted) or not (evict-once, a fix). */
  'kfd-process-info': 'evict-again' | 'evict-once';
  /**
   * MAP_MEMORY_TO_GPU whose mapping of a VM fails after some entries of the BO mapped there:
   * keep-mapped = amdgpu_amdkfd_gpuvm_map_memory_to_gpu returns with them mapped (an AQL BO
   * whose range at `va` is taken is left half mapped, and its checkpoint cannot be restored:
   * docs/conformance.md "Kernel findings" 2); unwind = the call maps nothing unless it maps
   * every entry (a fix gpucr proposes; the attachment stays either way).
   */
  'kfd-map-failure': 'keep-mapped' | 'unwind';
  /** RESTORE of an AQL_QUEUE_MEM BO: halves the checkpointed (already halved) size again (as the kernel does, spec §7.3) or restores that size (checkpointed-size, a fix). */
  'kfd-restore-aql': 'halved-again' | 'checkpointed-size';
  /**
   * kfd_criu_restore_queue's MQD bounds check (CVE-2026-68258 fix f19d8086f664, spec §5.4 step 5):
   * one-xcc = the kernel's, against one XCC's MQD size, which refuses every queue a GPU of several
   * XCCs checkpointed (one MQD per XCC since 6.17); num-xcc = against `mqd_size * NUM_XCC`, the
   * size get_queue_checkpoint_info saves (a fix gpucr proposes, docs/conformance.md "Kernel findings").
   */
  'kfd-restore-mqd-size': 'one-xcc' | 'num-xcc';
  /** A CRIU dump that aborts after PROCESS_INFO: the amdgpu plugin leaves the queues paused (as it does, spec §9.4) or unpauses them (unpause, a fix). */
  'dump-abort': 'leave-paused' | 'unpause';
  /**
   * The amdgpu plugin's shared-BO list at dump (spec §9.8): by-object = a render-node BO is an
   * import when it is the same object as a KFD BO or as an earlier file's handle under the same
   * number (gpucr's reading of the intent); by-number = the plugin as written, `is_import =
   * IS_IMPORT || shared_bo_has_exporter(handle)` over handle numbers of every file dumped before,
   * so another file's own BO under a number already recorded is saved as an import.
   */
  'plugin-shared-bos': 'by-object' | 'by-number';
  /**
   * The GEM handle the amdgpu plugin saves for each VRAM/GTT KFD BO (`save_bos`: `handle =
   * get_gem_handle(h_dev, dmabuf_fd)`, spec §9.4 h): application = the handle of the first
   * application render-node file that holds the BO, no call issued (what the dump gives if
   * libdrm's device de-duplication hands `save_bos` a device opened on an application fd, spec
   * §12 q9); dumper = PRIME_FD_TO_HANDLE of the bucket's dma-buf on the render node the
   * plugin opens itself for the GPU (`node_get_drm_render_device`), numbered 1, 2, … in CRIU's
   * own file.
   */
  'plugin-kfd-handles': 'application' | 'dumper';
}

export const DEFAULT_VARIANTS: Variants = {
  kernel: '6.18',
  'kfd-restore-devices': 'fixed',
  max_gpu_instance: 64,
  ttm: 'fixed',
  i915: 'final',
  'amdgpu-criu': 'upstream',
  'gem-change-handle': 'enabled',
  resume: 'at-resume-devices-late',
  'kfd-process-info': 'evict-again',
  'kfd-map-failure': 'keep-mapped',
  'kfd-restore-aql': 'halved-again',
  'kfd-restore-mqd-size': 'one-xcc',
  'dump-abort': 'leave-paused',
  'plugin-shared-bos': 'by-object',
  'plugin-kfd-handles': 'application',
};
