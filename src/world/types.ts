/**
 * The world: one plain, immutable, serialisable value (design "Layers" 3).
 *
 * Records are keyed by strings or numbers (never Map/Set, see design "XState
 * traps"); u64 quantities are bigint. Object machines are stored as snapshots
 * `{ kind, value, context }` keyed by a stable object id from `next_object`.
 */
import type { StateValue } from 'xstate';
import type { Variants } from './variants.js';

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
   * The XGMI hive of the GPU (sysfs `nodes/N/properties` hive_id, `adev->gmc.xgmi.hive_id`), where
   * it has one: GPUs of one hive are joined by XGMI links. A dump records the hive and its links
   * in each device entry, the restore's remapping keeps a hive together (match_xgmi_groups), and
   * GEM_OP SET_PLACEMENT refuses an object that a VM of another GPU of its hive maps (spec §9.10).
   */
  hive_id?: bigint;
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

/** The design variants live in variants.ts; re-exported here, where the world's types are. */
export { DEFAULT_VARIANTS, type Variants } from './variants.js';

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
