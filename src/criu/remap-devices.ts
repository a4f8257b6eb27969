/**
 * Device matching of GPU remapping (spec §9.10; remap.ts): `device_properties_match`,
 * `iolink_match` on the links to CPUs, and `map_device` / `map_devices`, the depth-first search
 * with backtracking that maps source GPUs to destination GPUs and, under KFD_NUMA_CHECK, the CPU
 * nodes they link to.
 */
import { TOPO_IOLINK_TYPE } from './images/types.js';
import type { RemapOptions } from './remap-options.js';
import { type DeviceProperties, isGpu, type Link, type Node, type TopoNode } from './remap-topology.js';

/** One mapping: GPUs by gpu_id, CPUs by node_id. */
export interface IdMap {
  src: number;
  dest: number;
}

const EQUAL: (keyof DeviceProperties)[] = [
  'simd_count',
  'mem_banks_count',
  'io_links_count',
  'max_waves_per_simd',
  'lds_size_in_kb',
  'wave_front_size',
  'array_count',
  'simd_arrays_per_engine',
  'cu_per_simd_array',
  'simd_per_cu',
  'max_slots_scratch_cu',
  'vendor_id',
  'device_id',
  'num_sdma_engines',
  'num_sdma_xgmi_engines',
  'num_sdma_queues_per_engine',
  'num_cp_queues',
];

function num(n: TopoNode, k: keyof DeviceProperties): number {
  const v = n[k];
  return typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? v : 0;
}

/** `device_properties_match` (spec §9.10). */
export function devicePropertiesMatch(src: TopoNode, dest: TopoNode, opts: RemapOptions = {}): boolean {
  if (EQUAL.some((k) => num(src, k) !== num(dest, k))) return false;
  if (num(src, 'vram_public') !== num(dest, 'vram_public')) return false;
  if ((opts.capabilityCheck ?? true) && num(src, 'capability') !== num(dest, 'capability')) return false;
  if ((opts.vramSizeCheck ?? true) && (src.vram_size ?? 0n) > (dest.vram_size ?? 0n)) return false;
  if ((opts.numGwsCheck ?? true) && num(src, 'num_gws') > num(dest, 'num_gws')) return false;
  if ((opts.cachesCountCheck ?? true) && num(src, 'caches_count') > num(dest, 'caches_count')) return false;
  if ((opts.fwVersionCheck ?? true) && num(src, 'fw_version') > num(dest, 'fw_version')) return false;
  if ((opts.sdmaFwVersionCheck ?? true) && num(src, 'sdma_fw_version') > num(dest, 'sdma_fw_version')) return false;
  return true;
}

/** `iolink_match`: can `dest` stand in for `src`? */
function iolinkMatch(src: Link, dest: Link): boolean {
  if (!src.to) return true;
  if (!dest.to) return false;
  if (isGpu(src.to) !== isGpu(dest.to)) return false;
  if (src.type === TOPO_IOLINK_TYPE.XGMI && dest.type === TOPO_IOLINK_TYPE.PCIE) return false;
  if (src.peer && !dest.peer) return false;
  return true;
}

/** The mappings built so far: GPUs by gpu_id, CPUs by node_id, each a bijection. */
export class Maps {
  readonly gpu: IdMap[] = [];
  readonly cpu: IdMap[] = [];
  cpuDest(src: number): number | undefined {
    return this.cpu.find((m) => m.src === src)?.dest;
  }
  cpuDestUsed(dest: number): boolean {
    return this.cpu.some((m) => m.dest === dest);
  }
  gpuMapped(src: number): boolean {
    return this.gpu.some((m) => m.src === src);
  }
  gpuDestUsed(dest: number): boolean {
    return this.gpu.some((m) => m.dest === dest);
  }
  mark(): [number, number] {
    return [this.gpu.length, this.cpu.length];
  }
  reset([g, c]: [number, number]): void {
    this.gpu.length = g;
    this.cpu.length = c;
  }
}

/**
 * `map_device`: whether `s` can map to `d` given `maps`; on success the GPU mapping and any new
 * CPU mappings are appended to `maps` (the caller undoes them with `reset` when backtracking).
 */
function mapDevice(s: Node, d: Node, maps: Maps, opts: RemapOptions): boolean {
  if (!devicePropertiesMatch(s.src, d.src, opts)) return false;
  if (s.validLinks > d.validLinks) return false;
  const mark = maps.mark();
  for (const sl of s.links) {
    if (!sl.to || isGpu(sl.to)) continue; // GPU-to-GPU links are only counted (see remap.ts)
    if (!cpuLinkMatched(sl, sl.to, d, maps, opts)) {
      maps.reset(mark);
      return false;
    }
  }
  maps.gpu.push({ src: s.gpu, dest: d.gpu });
  return true;
}

/**
 * Whether a link of `d` matches the source link `sl` to CPU `cpu`. With KFD_NUMA_CHECK it must
 * reach the CPU `cpu` is mapped to, or, when `cpu` is not mapped yet, a CPU no source CPU maps
 * to, and that mapping is appended to `maps`.
 */
function cpuLinkMatched(sl: Link, cpu: Node, d: Node, maps: Maps, opts: RemapOptions): boolean {
  if (!(opts.numaCheck ?? true)) return d.links.some((dl) => iolinkMatch(sl, dl));
  const destCpu = maps.cpuDest(cpu.id);
  if (destCpu !== undefined) {
    const dl = d.links.find((l) => l.type === sl.type && l.to?.id === destCpu);
    return dl !== undefined && iolinkMatch(sl, dl);
  }
  for (const dl of d.links) {
    if (iolinkMatch(sl, dl) && !maps.cpuDestUsed(dl.to!.id)) {
      maps.cpu.push({ src: cpu.id, dest: dl.to!.id });
      return true;
    }
  }
  return false;
}

/**
 * `map_devices`: maps every node of `src` (first to last) to a distinct node of `dest`, depth
 * first. Candidate order follows the plugin's lists: a destination node whose subtree failed goes
 * back to the front of the list, and the scan continues with the node that followed it.
 */
export function mapDevices(src: Node[], dest: Node[], maps: Maps, opts: RemapOptions): boolean {
  if (src.length === 0) return true;
  const s = src.shift()!;
  let cur: Node | undefined = dest[0];
  while (cur !== undefined) {
    const next: Node | undefined = dest[dest.indexOf(cur) + 1];
    const mark = maps.mark();
    if (mapDevice(s, cur, maps, opts)) {
      dest.splice(dest.indexOf(cur), 1);
      if (mapDevices(src, dest, maps, opts)) return true;
      dest.unshift(cur);
      maps.reset(mark);
    }
    cur = next;
  }
  src.unshift(s);
  return false;
}
