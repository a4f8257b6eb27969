/**
 * The CRIU amdgpu plugin's image files (spec §9.1) and their protobuf messages (spec §9.2):
 * TypeScript shapes with the schema's field names verbatim, file-name patterns, constants,
 * and the error every image reader throws.
 *
 * Integer encoding: proto `uint32` fields are JS numbers (0 … 2^32−1), `uint64` fields are
 * bigints (0n … 2^64−1), `bytes` are Uint8Arrays.
 */
import { InputError } from '../../errors.js';

/** `message dev_iolink`: one valid iolink of a topology node (type: TOPO_IOLINK_TYPE). */
export interface DevIolink {
  type: number;
  node_to_id: number;
}

/** `message kfd_device_entry`: one topology node (CPU nodes have gpu_id 0), spec §9.2. */
export interface KfdDeviceEntry {
  node_id: number;
  /** The *user* gpu_id (spec §9.2 notes); 0 for a CPU node. */
  gpu_id: number;
  cpu_cores_count: number;
  simd_count: number;
  mem_banks_count: number;
  caches_count: number;
  io_links_count: number;
  max_waves_per_simd: number;
  lds_size_in_kb: number;
  gds_size_in_kb: number;
  num_gws: number;
  wave_front_size: number;
  array_count: number;
  simd_arrays_per_engine: number;
  cu_per_simd_array: number;
  simd_per_cu: number;
  max_slots_scratch_cu: number;
  vendor_id: number;
  device_id: number;
  domain: number;
  drm_render_minor: number;
  hive_id: bigint;
  num_sdma_engines: number;
  num_sdma_xgmi_engines: number;
  num_sdma_queues_per_engine: number;
  num_cp_queues: number;
  fw_version: number;
  capability: number;
  sdma_fw_version: number;
  /** 1 when the node's VRAM heap is public (host-visible), else 0. */
  vram_public: number;
  vram_size: bigint;
  iolinks: DevIolink[];
}

/** `message kfd_bo_entry`: one KFD BO bucket as CHECKPOINT returned it (user gpu_id). */
export interface KfdBoEntry {
  addr: bigint;
  size: bigint;
  offset: bigint;
  /** KFD_IOC_ALLOC_MEM_FLAGS_* word. */
  alloc_flags: number;
  gpu_id: number;
  /** GEM handle of the BO's dmabuf, or NO_GEM_HANDLE (-1 stored in a uint32). */
  handle: number;
}

/** `message criu_kfd`: the content of `amdgpu-kfd-<id>.img`. */
export interface CriuKfd {
  pid: number;
  num_of_gpus: number;
  num_of_cpus: number;
  device_entries: KfdDeviceEntry[];
  num_of_bos: bigint;
  bo_entries: KfdBoEntry[];
  num_of_objects: number;
  shared_mem_size: bigint;
  shared_mem_magic: number;
  /** The kernel's priv_data blob, in its byte layout (spec §3, src/criu/kfd-priv.ts). */
  priv_data: Uint8Array;
}

/** `message drm_vm_entry`: one GPU VA mapping of a render-node BO (GET_MAPPING_INFO). */
export interface DrmVmEntry {
  addr: bigint;
  size: bigint;
  offset: bigint;
  flags: bigint;
}

/** `message drm_bo_entry`: one render-node GEM BO (LIST_HANDLES + GET_MAPPING_INFO). */
export interface DrmBoEntry {
  /** Address of the *last* VM entry (the plugin's loop overwrites it, spec §9.2 notes). */
  addr: bigint;
  size: bigint;
  offset: bigint;
  alloc_flags: bigint;
  alignment: bigint;
  /** AMDGPU_GEM_DOMAIN_* word. */
  preferred_domains: number;
  handle: number;
  /** 1 when the BO is an import (IS_IMPORT flag, or the dmabuf of a BO already dumped), else 0. */
  is_import: number;
  num_of_vms: number;
  vm_entries: DrmVmEntry[];
}

/** `message criu_render_node`: the content of `amdgpu-renderD-<id>.img`. */
export interface CriuRenderNode {
  /** The *user* gpu_id of the render node's GPU. */
  gpu_id: number;
  id: number;
  drm_render_minor: number;
  num_of_bos: bigint;
  bo_entries: DrmBoEntry[];
}

/** `message criu_dmabuf_node`: the content of `amdgpu-dmabuf_<id>.img`. */
export interface CriuDmabufNode {
  gem_handle: number;
}

/** `kfd_bo_entry.handle` of a BO without a dmabuf: -1 written into a uint32 (spec §9.2). */
export const NO_GEM_HANDLE = 0xffff_ffff;

/** Iolink types the plugin stores (amdgpu_plugin_topology.h: HSA_IOLINKTYPE_PCIEXPRESS, HSA_IOLINK_TYPE_XGMI). */
export const TOPO_IOLINK_TYPE = { PCIE: 2, XGMI: 11 } as const;

/** AMDGPU_GEM_DOMAIN_* (spec §8.2), for naming `preferred_domains` bits. */
export const AMDGPU_GEM_DOMAIN = {
  CPU: 0x1,
  GTT: 0x2,
  VRAM: 0x4,
  GDS: 0x8,
  GWS: 0x10,
  OA: 0x20,
  DOORBELL: 0x40,
  MMIO_REMAP: 0x80,
} as const;

/** AMDGPU_GEM_CREATE_* (spec §8.2), for naming `drm_bo_entry.alloc_flags` bits. */
export const AMDGPU_GEM_CREATE = {
  CPU_ACCESS_REQUIRED: 1 << 0,
  NO_CPU_ACCESS: 1 << 1,
  CPU_GTT_USWC: 1 << 2,
  VRAM_CLEARED: 1 << 3,
  VRAM_CONTIGUOUS: 1 << 5,
  VM_ALWAYS_VALID: 1 << 6,
  EXPLICIT_SYNC: 1 << 7,
  CP_MQD_GFX9: 1 << 8,
  VRAM_WIPE_ON_RELEASE: 1 << 9,
  ENCRYPTED: 1 << 10,
  PREEMPTIBLE: 1 << 11,
  DISCARDABLE: 1 << 12,
  COHERENT: 1 << 13,
  UNCACHED: 1 << 14,
  EXT_COHERENT: 1 << 15,
  GFX12_DCC: 1 << 16,
} as const;

/** AMDGPU_VM_* page flags of a mapping (spec §8.2; MTYPE is a 4-bit field at bit 5, shown apart). */
export const AMDGPU_VM_PAGE = {
  DELAY_UPDATE: 1 << 0,
  READABLE: 1 << 1,
  WRITEABLE: 1 << 2,
  EXECUTABLE: 1 << 3,
  PRT: 1 << 4,
  NOALLOC: 1 << 9,
} as const;

/** `INT_MAX`: the largest GEM handle GEM_CHANGE_HANDLE accepts as new_handle (spec §8.2). */
export const GEM_HANDLE_MAX = 0x7fff_ffff;

/** Bytes of the size prefix every image file starts with: a native (x86-64: little-endian u64) `size_t`. */
export const SIZE_PREFIX_BYTES = 8;

/** The page size pages images are cut into when no other is given (x86-64). */
export const DEFAULT_PAGE_SIZE = 4096;

/** Sparse content of a BO: page index → u32 value; absent pages are 0 (design "Content"). */
export type PageContent = Record<number, number>;

/** The image kinds of spec §9.1. */
export type ImageKind = 'kfd' | 'kfd-pages' | 'renderD' | 'drm-pages' | 'dmabuf';

/** `amdgpu-kfd-%d.img` (IMG_KFD_FILE). */
export function kfdImageName(id: number): string {
  return `amdgpu-kfd-${id}.img`;
}

/** `amdgpu-pages-%d-%04x.img` (IMG_KFD_PAGES_FILE: file id, *user* gpu_id). */
export function kfdPagesImageName(id: number, gpuId: number): string {
  return `amdgpu-pages-${id}-${hex4(gpuId)}.img`;
}

/** `amdgpu-renderD-%d.img` (IMG_DRM_FILE). */
export function renderDImageName(id: number): string {
  return `amdgpu-renderD-${id}.img`;
}

/** `amdgpu-drm-pages-%d-%d-%04x.img` (IMG_DRM_PAGES_FILE: file id, render minor, BO index). */
export function drmPagesImageName(id: number, minor: number, index: number): string {
  return `amdgpu-drm-pages-${id}-${minor}-${hex4(index)}.img`;
}

/** `amdgpu-dmabuf_%d.img` (IMG_DMABUF_FILE). */
export function dmabufImageName(id: number): string {
  return `amdgpu-dmabuf_${id}.img`;
}

/** printf's `%04x`: lower-case hex, at least 4 digits. */
function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * A rejected image: names the file and the field (a dotted path into the message, such as
 * `bo_entries[3].size`, or `size prefix`, `payload`, `priv_data.objects[2].object_type`).
 */
export class ImageError extends InputError {
  /**
   * `found` is the offending value (rendered by errors.ts's `describe`); `foundText`, when given,
   * replaces that rendering in the message (for values better shown in hex or in words).
   */
  constructor(
    readonly file: string,
    readonly field: string,
    expected: string,
    found: unknown,
    foundText?: string,
  ) {
    super(`${file}: ${field}`, expected, found);
    if (foundText !== undefined) this.message = `${file}: ${field}: expected ${expected}, found ${foundText}`;
    this.name = 'ImageError';
  }
}

/** `0x…` rendering of an unsigned integer for messages. */
export function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}
