/**
 * The world: one plain, immutable, serialisable value (design "Layers" 3).
 *
 * Records are keyed by strings or numbers (never Map/Set, see design "XState
 * traps"); u64 quantities are bigint. Object machines are stored as snapshots
 * `{ kind, value, context }` keyed by a stable object id from `next_object`.
 */
import type { StateValue } from 'xstate';

export interface GpuTopology {
  gpu_id: number;
  render_minor: number;
  /** Bytes of VRAM (default 16 GiB). */
  vram_size: bigint;
  /** kfd_doorbell_process_slice(): bytes of doorbells per process (default 8192, SOC15). */
  doorbell_slice_size: number;
  /** The GPU can run with XNACK (retry faults) on (default false). */
  xnack_capable: boolean;
  /** All of VRAM is CPU-visible (default true); PUBLIC VRAM needs it. */
  large_bar: boolean;
  /** An APU: VRAM allocations land in GTT, no CWSR BO (default false). */
  is_apu: boolean;
  /** pdd->gpuvm_base (default SVM_USER_BASE = 4 pages). */
  gpuvm_base: bigint;
  /** rmmio_remap.bus_addr (default 0xfe000000; 0 makes MMIO_REMAP allocations fail). */
  mmio_remap_bus_addr: bigint;
  /**
   * The GC IP version, "major.minor.revision" (KFD_GC_VERSION(dev); sysfs `gfx_target_version`
   * 90403 is "9.4.3"), where it is not DEFAULT_GC_VERSION ("9.4.2", the MI210 the default
   * properties describe). GC 9.4.3, 9.4.4 and 9.5.0 (MI300, MI350) have no HWS limit on user
   * queues: pqm_create_queue allows 255 per device instead of 127. GC 11 and later schedule
   * with MES, where a queue restored by CRIU is refused (-EINVAL).
   */
  gc_version?: string;
  /**
   * NUM_XCC(xcc_mask): the XCCs of the GPU's compute partition (an MI300X in SPX mode has 8),
   * where it is not 1. A queue has one MQD (and control stack) per XCC, and CRIU saves them all.
   */
  num_xcc?: number;
  /**
   * The GPU's KFD topology properties (sysfs `nodes/N/properties`, as a kfd_device_entry names
   * them) where they differ from DEFAULT_DEVICE_PROPERTIES (src/world/topology.ts): what a dump
   * records per device and the restore's GPU remapping compares (spec §9.4 g, §9.10). Absent
   * when the header gives none (then all are the defaults).
   */
  properties?: Partial<Record<DevicePropertyKey, number>>;
}

/** The u32 properties of a KFD topology node a GPU may set (DEVICE_PROPERTY_KEYS). */
export type DevicePropertyKey =
  | 'cpu_cores_count'
  | 'simd_count'
  | 'mem_banks_count'
  | 'caches_count'
  | 'io_links_count'
  | 'max_waves_per_simd'
  | 'lds_size_in_kb'
  | 'gds_size_in_kb'
  | 'num_gws'
  | 'wave_front_size'
  | 'array_count'
  | 'simd_arrays_per_engine'
  | 'cu_per_simd_array'
  | 'simd_per_cu'
  | 'max_slots_scratch_cu'
  | 'vendor_id'
  | 'device_id'
  | 'domain'
  | 'num_sdma_engines'
  | 'num_sdma_xgmi_engines'
  | 'num_sdma_queues_per_engine'
  | 'num_cp_queues'
  | 'fw_version'
  | 'capability'
  | 'sdma_fw_version';

export interface ProcessSpec {
  pid: number;
  /** Capabilities held; default ["CAP_SYS_ADMIN","CAP_CHECKPOINT_RESTORE"]. */
  caps: string[];
  ptrace_parent: number | null;
}

export interface Topology {
  page_size: number;
  gpus: GpuTopology[];
  processes: ProcessSpec[];
}

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
  /** RESTORE of an AQL_QUEUE_MEM BO: halves the checkpointed (already halved) size again (as the kernel does, spec §7.3) or restores that size (checkpointed-size, a fix). */
  'kfd-restore-aql': 'halved-again' | 'checkpointed-size';
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
  'kfd-restore-aql': 'halved-again',
  'dump-abort': 'leave-paused',
  'plugin-shared-bos': 'by-object',
  'plugin-kfd-handles': 'application',
};

/** An open file description (struct file). */
export type OpenFile =
  | { id: string; kind: 'tty'; refs: number }
  | { id: string; kind: 'kfd'; refs: number /** owner pid of the kfd_process */; pid: number }
  | {
      id: string;
      kind: 'drm';
      refs: number;
      gpu_id: number;
      render_minor: number;
      /** avm->process_info: the VM became a compute VM of this pid (ACQUIRE_VM / RESTORE). */
      compute_vm_pid: number | null;
    }
  | { id: string; kind: 'dmabuf'; refs: number; gem: string /** O_RDWR etc. */; flags: number };

/**
 * An amdgpu_bo (GEM object): the memory behind KFD BOs and render-node handles, one
 * representation for both (src/ioctls/amdgpu/kernel/gem.ts). This record holds its data;
 * its `amdgpu.gem_bo` machine object (machines/amdgpu/gem-bo.ts), named by `object`, holds its
 * lifecycle: handles per drm file, kgd_mem references, the dma-buf.
 */
export interface Gem {
  id: string;
  /** The `amdgpu.gem_bo` object of this GEM object. */
  object: string;
  /** Actual gpu_id of the device that allocated it. */
  gpu_id: number;
  /** amdgpu_bo_size(): page aligned. */
  size: bigint;
  /** bo->preferred_domains as a name: VRAM if it has VRAM, else GTT, else CPU (userptr and sg BOs). */
  domain: 'VRAM' | 'GTT' | 'CPU';
  /** bo->preferred_domains: AMDGPU_GEM_DOMAIN_* bits (GEM_OP SET_PLACEMENT changes it). */
  preferred_domains: number;
  /** bo->flags: AMDGPU_GEM_CREATE_* bits. */
  flags: number;
  /** bo->tbo.page_alignment, in pages. */
  page_alignment: number;
  /** KFD alloc flags of the allocating kgd_mem (0 for render-node BOs). */
  alloc_flags: number;
  /** Render-node mmap offset (amdgpu_bo_mmap_offset). */
  mmap_offset: bigint;
  /** Page → u32 content; absent pages read 0 (design "Content"). An import object's pages are its exporter's. */
  content: Record<number, number>;
  /** Bytes counted in kfd_vram_used of its device (KFD VRAM allocations), released when it is freed. */
  kfd_vram: bigint;
  /** kgd_mem objects referring to it (a copy of its machine's `kgd_mems`, for readers of the world). */
  kgd_mems: string[];
  /** Its dma-buf file while one exists (a copy of its machine's `dmabuf`, for readers of the world). */
  dmabuf: string | null;
}

/**
 * The GEM state of an open render-node file: drm_file.object_idr and prime bookkeeping,
 * and the amdgpu_vm of its amdgpu_fpriv (src/world/vm.ts). Created on first use.
 */
export interface DrmFilePriv {
  /** object_idr: handle → GEM id (idr_alloc from 1, src/world/idr.ts). */
  object_idr: Record<number, string>;
  /** drm_prime_file_private, by handle: handle → dma-buf file id. */
  prime: Record<number, string>;
  /** The VM: its bo_vas and its mapping index. */
  vm: VmState;
}

/** A mapping of the VM's interval tree (vm->va), in GPU pages, inclusive. */
export interface VmRange {
  start: bigint;
  last: bigint;
  bo_va: string;
}

/**
 * An amdgpu_vm: bo_va per GEM object (amdgpu_vm_bo_find). Its mappings are those of its
 * bo_vas; the interval index the handlers search (vm->va) is derived from them and kept
 * beside the world (src/world/vm.ts).
 */
export interface VmState {
  bo_vas: Record<string, string>;
  /** The PRT bo_va (fpriv->prt_va), once a PRT mapping was made. */
  prt_va: string | null;
}

/** A kernel oops a modelled defect causes (the calling task does not return from the call). */
export interface Oops {
  pid: number | null;
  call: string;
  /** "<file>:<line> <function>": the line of the posted code that oopses. */
  where: string;
  what: string;
}

export interface Task {
  pid: number;
  caps: string[];
  ptrace_parent: number | null;
  alive: boolean;
  /** fd → open file id. */
  fds: Record<number, string>;
  /** The kfd_process object of this mm, once /dev/kfd was opened. */
  kfd_process: string | null;
  /** pdd object ids of that process, in topology order (p->pdds[]). */
  pdds: string[];
  /** Queue, event and SVM range objects, by their kernel ids. */
  queues: Record<number, string>;
  events: Record<number, string>;
  svm_ranges: string[];
}

/** "<driver>.<object>": the KFD kinds below, and those other drivers register (src/world/objects.ts). */
export type KfdObjectKind = 'kfd.process' | 'kfd.pdd' | 'kfd.bo' | 'kfd.queue' | 'kfd.event' | 'kfd.svm_range';
export type ObjectKind = KfdObjectKind | (string & {});

export interface ObjectRecord<C = unknown> {
  kind: ObjectKind;
  value: StateValue;
  context: C;
}

export interface World {
  topology: Topology;
  variants: Variants;
  tasks: Record<number, Task>;
  files: Record<string, OpenFile>;
  gems: Record<string, Gem>;
  objects: Record<string, ObjectRecord>;
  /** Armed fault-injection sites (the `fault` event, src/world/faults.ts): site → what fails next. */
  faults?: Record<string, { errno: number; after: number; count: number }>;
  /** Render-node files' GEM state (drm file id → DrmFilePriv), created on first use. */
  drm?: Record<string, DrmFilePriv>;
  /**
   * Data an orchestration event keeps for a later one, by its object id: the image directory
   * of a `criu.dump` without `dir` (src/ioctls/criu/orchestrate.ts), as CRIU's files on disk.
   */
  saved?: Record<string, unknown>;
  /** pdd->alloc_idr per pdd object id: idr handle → kfd.bo object id (src/world/idr.ts). */
  alloc_idr?: Record<string, Record<number, string>>;
  /** kfd_vram_used per actual gpu_id: VRAM bytes of live KFD allocations (amdgpu_amdkfd_reserve_mem_limit). */
  kfd_vram_used?: Record<number, bigint>;
  /** Kernel oopses of modelled defects, in order (an invariant violation whenever non-empty). */
  oopses?: Oops[];
  /** Deterministic counters (design "Determinism"). */
  next: { object: number; file: number; gem: number; mmap: Record<number, bigint> };
}

/** A reference to a file: a number in the caller's fd table or "<pid>:<fd>". */
export type FdRef = number | { pid: number; fd: number };

/** One event of the log, with arguments already decoded by the call's schema. */
export interface Call {
  pid?: number;
  call: string;
  fd?: FdRef;
  args: Record<string, unknown>;
}

export interface StepResult {
  world: World;
  /** 0 or a negative errno, exactly as the kernel returns it. */
  ret: number;
  out: Record<string, unknown>;
}
