/**
 * The kfd_device_entry messages of a world's GPUs (save_devices → topology_to_devinfo, spec
 * §9.4 g), as a dump writes them and as the restore describes the local GPUs (`topology_parse`,
 * restore-maps.ts): node ids from 1 in the order given, each GPU's topology properties (the
 * header's `properties` over the defaults), its render minor, VRAM size, whether VRAM is public
 * (large BAR), its XGMI hive, and an XGMI iolink to every other GPU of the list in its hive.
 * No CPU nodes and no PCIe links: the world has no CPUs. `io_links_count` is the header's
 * property when it gives one, else the number of links written (sysfs counts the links it lists).
 */
import { TOPO_IOLINK_TYPE } from './images/index.js';
import type { DevIolink, KfdDeviceEntry } from './images/index.js';
import { deviceProperties, sameHive } from '../world/topology.js';
import type { GpuTopology, World } from '../world/types.js';

/** A GPU of a device list: the id the entry carries (user gpu_id) and the world's GPU (actual gpu_id). */
export interface DeviceIds {
  userId: number;
  actualId: number;
}

/** The entries of `devices`, nodes 1, 2, … in order, XGMI links between the GPUs of one hive. */
export function deviceEntries(w: World, devices: readonly DeviceIds[]): KfdDeviceEntry[] {
  const gpus = devices.map((d) => w.topology.gpus.find((x) => x.gpu_id === d.actualId)!);
  return devices.map((d, i) => {
    // amdgpu's sysfs lists a GPU's XGMI links to its hive's other GPUs (kfd_fill_gpu_xgmi_link_to_gpu)
    const xgmi = gpus.flatMap((peer, j): DevIolink[] =>
      sameHive(gpus[i]!, peer) ? [{ type: TOPO_IOLINK_TYPE.XGMI, node_to_id: j + 1 }] : [],
    );
    return deviceEntry(gpus[i]!, i + 1, d.userId, xgmi);
  });
}

function deviceEntry(g: GpuTopology, node: number, userId: number, iolinks: DevIolink[]): KfdDeviceEntry {
  const p = deviceProperties(g);
  // in the message's field order
  return {
    node_id: node,
    gpu_id: userId,
    cpu_cores_count: p.cpu_cores_count,
    simd_count: p.simd_count,
    mem_banks_count: p.mem_banks_count,
    caches_count: p.caches_count,
    io_links_count: g.properties?.io_links_count ?? iolinks.length,
    max_waves_per_simd: p.max_waves_per_simd,
    lds_size_in_kb: p.lds_size_in_kb,
    gds_size_in_kb: p.gds_size_in_kb,
    num_gws: p.num_gws,
    wave_front_size: p.wave_front_size,
    array_count: p.array_count,
    simd_arrays_per_engine: p.simd_arrays_per_engine,
    cu_per_simd_array: p.cu_per_simd_array,
    simd_per_cu: p.simd_per_cu,
    max_slots_scratch_cu: p.max_slots_scratch_cu,
    vendor_id: p.vendor_id,
    device_id: p.device_id,
    domain: p.domain,
    drm_render_minor: g.render_minor,
    hive_id: g.hive_id ?? 0n,
    num_sdma_engines: p.num_sdma_engines,
    num_sdma_xgmi_engines: p.num_sdma_xgmi_engines,
    num_sdma_queues_per_engine: p.num_sdma_queues_per_engine,
    num_cp_queues: p.num_cp_queues,
    fw_version: p.fw_version,
    capability: p.capability,
    sdma_fw_version: p.sdma_fw_version,
    vram_public: g.large_bar ? 1 : 0,
    vram_size: g.vram_size,
    iolinks,
  };
}
