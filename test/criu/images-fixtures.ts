/**
 * Valid sample images for the image tests: a process on two GPUs (one CPU node, an XGMI pair),
 * BOs of every memory type, a priv_data blob with a queue, an event and an SVM range, a render
 * node with an exported, an imported and an unmapped BO, and a dmabuf of the exported BO.
 * Every value follows the spec's rules (§2.3, §3, §9.2), so each is an image the plugin could write.
 */
import { encodePrivData, type PrivData } from '../../src/criu/kfd-priv.js';
import {
  type CriuDmabufNode,
  type CriuKfd,
  type CriuRenderNode,
  type ImageDir,
  type KfdDeviceEntry,
  NO_GEM_HANDLE,
  TOPO_IOLINK_TYPE,
} from '../../src/criu/images/index.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../src/uapi/index.js';

export const GPU_A = 0xa3ee;
export const GPU_B = 0x5b1c;
export const PAGE = 4096;

function device(node_id: number, gpu_id: number, extra: Partial<KfdDeviceEntry> = {}): KfdDeviceEntry {
  const gpu = gpu_id !== 0;
  return {
    node_id,
    gpu_id,
    cpu_cores_count: gpu ? 0 : 16,
    simd_count: gpu ? 304 : 0,
    mem_banks_count: 1,
    caches_count: gpu ? 227 : 0,
    io_links_count: 2,
    max_waves_per_simd: gpu ? 8 : 0,
    lds_size_in_kb: gpu ? 64 : 0,
    gds_size_in_kb: 0,
    num_gws: gpu ? 64 : 0,
    wave_front_size: gpu ? 64 : 0,
    array_count: gpu ? 32 : 0,
    simd_arrays_per_engine: gpu ? 1 : 0,
    cu_per_simd_array: gpu ? 10 : 0,
    simd_per_cu: gpu ? 4 : 0,
    max_slots_scratch_cu: gpu ? 32 : 0,
    vendor_id: gpu ? 0x1002 : 0,
    device_id: gpu ? 0x740f : 0,
    domain: 0,
    drm_render_minor: gpu ? 127 + node_id : 0,
    hive_id: gpu ? 0x1234_5678_9abc_def0n : 0n,
    num_sdma_engines: gpu ? 2 : 0,
    num_sdma_xgmi_engines: gpu ? 6 : 0,
    num_sdma_queues_per_engine: gpu ? 8 : 0,
    num_cp_queues: gpu ? 24 : 0,
    fw_version: gpu ? 78 : 0,
    capability: gpu ? 0x2838_2080 : 0,
    sdma_fw_version: gpu ? 21 : 0,
    vram_public: gpu ? 1 : 0,
    vram_size: gpu ? 64n << 30n : 0n,
    iolinks: [],
    ...extra,
  };
}

export function samplePriv(): PrivData {
  return {
    process: { version: 1, xnack_mode: 0 },
    devices: [{ reserved: 0n }, { reserved: 0n }],
    bos: [
      { user_addr: 0n, idr_handle: 0, mapped_gpuids: [GPU_A, GPU_B] },
      { user_addr: 0n, idr_handle: 1, mapped_gpuids: [GPU_A] },
      { user_addr: 0x7f12_3450_0000n, idr_handle: 2, mapped_gpuids: [GPU_A] },
      { user_addr: 0n, idr_handle: 0, mapped_gpuids: [] },
      { user_addr: 0n, idr_handle: 1, mapped_gpuids: [GPU_B] },
    ],
    objects: [
      {
        object_type: 0,
        q_address: 0x7f00_0010_0000n,
        q_size: 0x10000n,
        read_ptr_addr: 0x7f00_0020_0000n,
        write_ptr_addr: 0x7f00_0020_0008n,
        doorbell_off: 0x1000n,
        eop_ring_buffer_address: 0x7f00_0030_0000n,
        ctx_save_restore_area_address: 0x7f00_0040_0000n,
        gpu_id: GPU_A,
        type: 2,
        format: 1,
        q_id: 0,
        priority: 7,
        q_percent: 100,
        doorbell_id: 0,
        gws: 0,
        sdma_id: 0,
        eop_ring_buffer_size: 4096,
        ctx_save_restore_area_size: 0x2c0000,
        ctl_stack_size: 4,
        mqd_size: 8,
        mqd: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
        ctl_stack: new Uint8Array([9, 10, 11, 12]),
      },
      {
        object_type: 1,
        user_handle: 0x0000_a3ee_0000_0001n,
        event_id: 1,
        auto_reset: 1,
        type: 8,
        signaled: 0,
        memory_exception_data: {
          failure: { NotPresent: 1, ReadOnly: 0, NoExecute: 0, imprecise: 0 },
          va: 0x7f00_dead_0000n,
          gpu_id: GPU_A,
          ErrorType: 0,
        },
      },
      {
        object_type: 2,
        start_addr: 0x7f50_0000_0n,
        size: 16n,
        attrs: [
          { type: 0, value: GPU_A },
          { type: 1, value: 0 },
          { type: 5, value: 1 },
          { type: 7, value: 9 },
          { type: 2, value: GPU_A },
          { type: 4, value: GPU_B },
        ],
      },
    ],
  };
}

export function sampleKfd(): CriuKfd {
  const P = BigInt(PAGE);
  return {
    pid: 100,
    num_of_gpus: 2,
    num_of_cpus: 1,
    device_entries: [
      device(0, 0, {
        iolinks: [
          { type: TOPO_IOLINK_TYPE.PCIE, node_to_id: 1 },
          { type: TOPO_IOLINK_TYPE.PCIE, node_to_id: 2 },
        ],
      }),
      device(1, GPU_A, {
        iolinks: [
          { type: TOPO_IOLINK_TYPE.PCIE, node_to_id: 0 },
          { type: TOPO_IOLINK_TYPE.XGMI, node_to_id: 2 },
        ],
      }),
      device(2, GPU_B, {
        iolinks: [
          { type: TOPO_IOLINK_TYPE.PCIE, node_to_id: 0 },
          { type: TOPO_IOLINK_TYPE.XGMI, node_to_id: 1 },
        ],
      }),
    ],
    num_of_bos: 5n,
    bo_entries: [
      {
        addr: 0x7f00_0000_0000n,
        size: 3n * P,
        offset: 0x1_0000_0000n,
        alloc_flags: (F.VRAM | F.WRITABLE | F.EXECUTABLE) >>> 0,
        gpu_id: GPU_A,
        handle: 5,
      },
      {
        addr: 0x7f00_0010_0000n,
        size: 2n * P,
        offset: 0x1_0000_4000n,
        alloc_flags: (F.GTT | F.WRITABLE) >>> 0,
        gpu_id: GPU_A,
        handle: NO_GEM_HANDLE,
      },
      {
        addr: 0x7f12_3450_0000n,
        size: P,
        offset: 0n,
        alloc_flags: (F.USERPTR | F.WRITABLE) >>> 0,
        gpu_id: GPU_A,
        handle: NO_GEM_HANDLE,
      },
      {
        addr: 0x7f00_0100_0000n,
        size: 4n * P,
        offset: 0x2_0000_0000n,
        alloc_flags: (F.VRAM | F.PUBLIC) >>> 0,
        gpu_id: GPU_B,
        handle: NO_GEM_HANDLE,
      },
      {
        addr: 0x7f00_0200_0000n,
        size: 2n * P,
        offset: 0xd000_0000_0000_0000n,
        alloc_flags: (F.DOORBELL | F.WRITABLE | F.NO_SUBSTITUTE) >>> 0,
        gpu_id: GPU_B,
        handle: NO_GEM_HANDLE,
      },
    ],
    num_of_objects: 3,
    shared_mem_size: 0x1000n,
    shared_mem_magic: 0x4b464441,
    priv_data: encodePrivData(samplePriv()),
  };
}

export function sampleRenderD(): CriuRenderNode {
  return {
    gpu_id: GPU_A,
    id: 7,
    drm_render_minor: 128,
    num_of_bos: 3n,
    bo_entries: [
      {
        addr: 0x7e00_0020_0000n,
        size: 2n * BigInt(PAGE),
        offset: 0x1_0010_0000n,
        alloc_flags: 0x201n,
        alignment: 0x1000n,
        preferred_domains: 0x4,
        handle: 1,
        is_import: 0,
        num_of_vms: 2,
        vm_entries: [
          { addr: 0x7e00_0000_0000n, size: 0x2000n, offset: 0n, flags: 0xen },
          { addr: 0x7e00_0020_0000n, size: 0x1000n, offset: 0x1000n, flags: 0x6n | (2n << 5n) },
        ],
      },
      {
        addr: 0x7f00_0000_0000n,
        size: 3n * BigInt(PAGE),
        offset: 0x1_0020_0000n,
        alloc_flags: 0x1n,
        alignment: 0x1000n,
        preferred_domains: 0x4,
        handle: 5,
        is_import: 1,
        num_of_vms: 1,
        vm_entries: [{ addr: 0x7f00_0000_0000n, size: 0x3000n, offset: 0n, flags: 0x6n }],
      },
      {
        addr: 0n,
        size: BigInt(PAGE),
        offset: 0x1_0030_0000n,
        alloc_flags: 0n,
        alignment: 0n,
        preferred_domains: 0x2,
        handle: 2,
        is_import: 0,
        num_of_vms: 0,
        vm_entries: [],
      },
    ],
  };
}

export function sampleDmabuf(): CriuDmabufNode {
  return { gem_handle: 1 };
}

/** A whole directory: kfd image 3, render node 7, dmabuf 9, with some non-zero pages. */
export function sampleDir(): ImageDir {
  return {
    kfd: [
      {
        id: 3,
        kfd: sampleKfd(),
        contents: [{ 0: 0xdead_beef, 2: 7 }, {}, undefined, { 3: 0xffff_ffff }, undefined],
      },
    ],
    renderD: [{ id: 7, renderD: sampleRenderD(), contents: [{ 1: 42 }, {}, { 0: 1 }] }],
    dmabuf: [{ id: 9, dmabuf: sampleDmabuf() }],
  };
}
