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
}

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
}

export const DEFAULT_VARIANTS: Variants = {
  kernel: '6.18',
  'kfd-restore-devices': 'fixed',
  max_gpu_instance: 64,
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

/** An amdgpu_bo (GEM object): the memory behind KFD BOs and render-node handles. */
export interface Gem {
  id: string;
  /** Actual gpu_id of the device that allocated it. */
  gpu_id: number;
  size: bigint;
  /** bo->preferred_domains as a name: the alloc_domain (CPU for userptr and sg BOs such as doorbells). */
  domain: 'VRAM' | 'GTT' | 'CPU';
  /** KFD alloc flags of the allocating kgd_mem (0 for render-node BOs). */
  alloc_flags: number;
  /** Render-node mmap offset (amdgpu_bo_mmap_offset). */
  mmap_offset: bigint;
  /** Page → u32 content; absent pages read 0 (design "Content"). */
  content: Record<number, number>;
  /** dma-buf file while exported (one per object). */
  dmabuf: string | null;
  /** kgd_mem objects referring to it. */
  kgd_mems: string[];
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
