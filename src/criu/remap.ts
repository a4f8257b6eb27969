/**
 * GPU remapping on restore: the CRIU amdgpu plugin's `set_restore_gpu_maps(src, dest, maps)`
 * (spec §9.5 step 3, §9.10), which maps every checkpointed GPU (its user gpu_id) to a GPU of the
 * local system, and the checkpointed CPU (NUMA) nodes to local ones. docs/gpu-remap.md.
 *
 * Topologies are lists of KFD topology nodes with the field names of `kfd_device_entry`
 * (spec §9.2), so the device entries of an `amdgpu-kfd-<id>.img` image are a source topology as
 * they are (`topologyFromKfdImage`). CPU nodes have gpu_id 0. An iolink is directed: it belongs
 * to the node it leaves; a link is bi-directional when the node it reaches has a link of the same
 * type back. Links to nodes that are not in the topology are invalid (masked by cgroups) and
 * ignored.
 *
 * Algorithm (docs/gpu-remap.md): (1) validate iolinks and find XGMI hives (groups of GPUs joined
 * by bi-directional XGMI links); (2) same number of GPUs, and no more source hives than
 * destination hives; (3) match the source hives, in order, each to a destination hive of at least
 * its size whose GPUs all map; (4) map the remaining GPUs. A GPU maps to another when the device
 * properties match (`device_properties_match`), it has at least as many valid iolinks, and each
 * of its links to a CPU is matched by a link of the destination GPU that is as good (same kind of
 * node, XGMI not replaced by PCIe, bi-directional not replaced by uni-directional) — with
 * KFD_NUMA_CHECK, to the CPU that source CPU is already mapped to (or a new, unused one).
 * GPU-to-GPU links are only counted (the plugin's comment: P2P-PCIe GPUs also have a P2P link to
 * a CPU, which is checked). Mapping is a depth-first search with backtracking.
 */
import { InputError } from '../errors.js';
import type { CriuKfd } from './images/types.js';
import { TOPO_IOLINK_TYPE } from './images/types.js';

/** One directed iolink of a node (`dev_iolink`): `type` is TOPO_IOLINK_TYPE.PCIE (2) or XGMI (11). */
export interface TopoIolink {
  type: number;
  node_to_id: number;
}

/** The properties `device_properties_match` compares (spec §9.10), named as in kfd_device_entry. */
export interface DeviceProperties {
  simd_count: number;
  mem_banks_count: number;
  io_links_count: number;
  max_waves_per_simd: number;
  lds_size_in_kb: number;
  wave_front_size: number;
  array_count: number;
  simd_arrays_per_engine: number;
  cu_per_simd_array: number;
  simd_per_cu: number;
  max_slots_scratch_cu: number;
  vendor_id: number;
  device_id: number;
  num_sdma_engines: number;
  num_sdma_xgmi_engines: number;
  num_sdma_queues_per_engine: number;
  num_cp_queues: number;
  /** 1 (or true) when VRAM is host-visible; compared for equality. */
  vram_public: number | boolean;
  capability: number;
  vram_size: bigint;
  num_gws: number;
  caches_count: number;
  fw_version: number;
  sdma_fw_version: number;
}

/**
 * A KFD topology node (sysfs `/sys/class/kfd/kfd/topology/nodes/N`, or a kfd_device_entry).
 * Properties left out are 0, as in the plugin's zero-initialised nodes.
 */
export interface TopoNode extends Partial<DeviceProperties> {
  /** Topology node id (N). */
  node_id: number;
  /** 0 for a CPU node. */
  gpu_id: number;
  /** XGMI hive id; informational: hives are found from the XGMI iolinks, as the plugin does. */
  hive_id?: bigint;
  cpu_cores_count?: number;
  drm_render_minor?: number;
  iolinks?: TopoIolink[];
}

export interface Topology {
  nodes: TopoNode[];
}

/** One mapping: GPUs by gpu_id, CPUs by node_id. */
export interface IdMap {
  src: number;
  dest: number;
}

export type RemapResult =
  { ok: true; gpu_maps: IdMap[]; cpu_maps: IdMap[] } | { ok: false; errno: number; reason: string };

/**
 * The plugin's switches (spec §9.10), all enabled by default; `remapOptionsFromEnv` reads them
 * from the environment variables named in each comment.
 */
export interface RemapOptions {
  /** KFD_FW_VER_CHECK: destination fw_version ≥ source. */
  fwVersionCheck?: boolean;
  /** KFD_SDMA_FW_VER_CHECK: destination sdma_fw_version ≥ source. */
  sdmaFwVersionCheck?: boolean;
  /** KFD_CACHES_COUNT_CHECK: destination caches_count ≥ source. */
  cachesCountCheck?: boolean;
  /** KFD_NUM_GWS_CHECK: destination num_gws ≥ source. */
  numGwsCheck?: boolean;
  /** KFD_VRAM_SIZE_CHECK: destination vram_size ≥ source. */
  vramSizeCheck?: boolean;
  /** KFD_NUMA_CHECK: keep the GPUs of one NUMA (CPU) node together. */
  numaCheck?: boolean;
  /** KFD_CAPABILITY_CHECK: equal capability. */
  capabilityCheck?: boolean;
  /**
   * gpucr extension, default false (the plugin): when a source hive has been matched but the
   * hives after it cannot be, try the next destination hive for it. The plugin keeps the first
   * match's mappings in that case, so every later attempt fails (docs/gpu-remap.md).
   */
  xgmiGroupBacktracking?: boolean;
}

/** The environment variables of spec §9.10 and the option each sets. */
export const REMAP_ENV: Readonly<Record<string, keyof RemapOptions>> = {
  KFD_FW_VER_CHECK: 'fwVersionCheck',
  KFD_SDMA_FW_VER_CHECK: 'sdmaFwVersionCheck',
  KFD_CACHES_COUNT_CHECK: 'cachesCountCheck',
  KFD_NUM_GWS_CHECK: 'numGwsCheck',
  KFD_VRAM_SIZE_CHECK: 'vramSizeCheck',
  KFD_NUMA_CHECK: 'numaCheck',
  KFD_CAPABILITY_CHECK: 'capabilityCheck',
};

/** Reads the KFD_*_CHECK variables (values 0/1/YES/NO, any case; unset = enabled). */
export function remapOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): RemapOptions {
  const opts: RemapOptions = {};
  for (const [name, key] of Object.entries(REMAP_ENV)) {
    const v = env[name];
    if (v === undefined) continue;
    const u = v.trim().toUpperCase();
    if (u === '1' || u === 'YES') opts[key] = true;
    else if (u === '0' || u === 'NO') opts[key] = false;
    else throw new InputError(name, '0, 1, YES or NO (spec §9.10)', v);
  }
  return opts;
}

/** The source topology of a KFD image: its device entries (`devinfo_to_topology`, spec §9.5). */
export function topologyFromKfdImage(msg: CriuKfd): Topology {
  return { nodes: msg.device_entries };
}

// ---------------------------------------------------------------------------------------------
// Resolved topology

interface Link {
  type: number;
  to: Node | undefined;
  /** The link of the same type back, when bi-directional. */
  peer: boolean;
}

interface Node {
  src: TopoNode;
  id: number;
  gpu: number;
  links: Link[];
  validLinks: number;
}

interface System {
  nodes: Node[];
  gpus: Node[];
  groups: Node[][];
}

const isGpu = (n: Node) => n.gpu !== 0;

function checkU32(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new InputError(where, 'a u32 integer', v);
  }
  return v;
}

/** `topology_determine_iolinks`: link validity and direction, XGMI hives (groups). */
function resolve(t: Topology, where: string): System {
  if (typeof t !== 'object' || t === null || !Array.isArray(t.nodes)) {
    throw new InputError(where, 'a topology { nodes: [...] }', t);
  }
  const byId = new Map<number, Node>();
  const gpuIds = new Set<number>();
  const nodes = t.nodes.map((n, i): Node => {
    const w = `${where}.nodes[${i}]`;
    const id = checkU32(n?.node_id, `${w}.node_id`);
    const gpu = checkU32(n.gpu_id, `${w}.gpu_id`);
    if (byId.has(id)) throw new InputError(`${w}.node_id`, 'a node_id no other node has', id);
    if (gpu !== 0 && gpuIds.has(gpu)) throw new InputError(`${w}.gpu_id`, 'a gpu_id no other node has', gpu);
    gpuIds.add(gpu);
    if (n.iolinks !== undefined && !Array.isArray(n.iolinks))
      throw new InputError(`${w}.iolinks`, 'an array', n.iolinks);
    const node: Node = { src: n, id, gpu, links: [], validLinks: 0 };
    byId.set(id, node);
    return node;
  });
  nodes.forEach((node, i) => {
    (node.src.iolinks ?? []).forEach((l, j) => {
      const w = `${where}.nodes[${i}].iolinks[${j}]`;
      const type = checkU32(l?.type, `${w}.type`);
      const to = byId.get(checkU32(l.node_to_id, `${w}.node_to_id`));
      node.links.push({ type, to, peer: false });
      if (to) node.validLinks++;
    });
  });
  for (const node of nodes) {
    for (const l of node.links) {
      if (l.to) l.peer = l.to.links.some((b) => b.to === node && b.type === l.type);
    }
  }
  // XGMI hives: GPUs joined by bi-directional XGMI links, discovered in node then link order.
  const groups: Node[][] = [];
  const inGroup = new Set<Node>();
  for (const node of nodes) {
    if (inGroup.has(node) || !isGpu(node)) continue;
    if (!node.links.some((l) => l.to && l.peer && l.type === TOPO_IOLINK_TYPE.XGMI && isGpu(l.to))) continue;
    const group = [node];
    inGroup.add(node);
    for (let k = 0; k < group.length; k++) {
      for (const l of group[k]!.links) {
        if (l.to && l.peer && l.type === TOPO_IOLINK_TYPE.XGMI && isGpu(l.to) && !inGroup.has(l.to)) {
          inGroup.add(l.to);
          group.push(l.to);
        }
      }
    }
    groups.push(group);
  }
  return { nodes, gpus: nodes.filter(isGpu), groups };
}

// ---------------------------------------------------------------------------------------------
// Matching

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
class Maps {
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
    if (!sl.to || isGpu(sl.to)) continue; // GPU-to-GPU links are only counted (see the header)
    let matched = false;
    if (!(opts.numaCheck ?? true)) {
      matched = d.links.some((dl) => iolinkMatch(sl, dl));
    } else {
      const destCpu = maps.cpuDest(sl.to.id);
      if (destCpu === undefined) {
        for (const dl of d.links) {
          if (iolinkMatch(sl, dl) && !maps.cpuDestUsed(dl.to!.id)) {
            maps.cpu.push({ src: sl.to.id, dest: dl.to!.id });
            matched = true;
            break;
          }
        }
      } else {
        const dl = d.links.find((l) => l.type === sl.type && l.to?.id === destCpu);
        matched = dl !== undefined && iolinkMatch(sl, dl);
      }
    }
    if (!matched) {
      maps.reset(mark);
      return false;
    }
  }
  maps.gpu.push({ src: s.gpu, dest: d.gpu });
  return true;
}

/**
 * `map_devices`: maps every node of `src` (first to last) to a distinct node of `dest`, depth
 * first. Candidate order follows the plugin's lists: a destination node whose subtree failed goes
 * back to the front of the list, and the scan continues with the node that followed it.
 */
function mapDevices(src: Node[], dest: Node[], maps: Maps, opts: RemapOptions): boolean {
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

/** `match_xgmi_groups`: each source hive, in order, to a destination hive (see RemapOptions). */
function matchGroups(src: Node[][], dest: Node[][], maps: Maps, opts: RemapOptions): boolean {
  if (src.length === 0) return true;
  const [g, ...rest] = src as [Node[], ...Node[][]];
  for (const h of [...dest]) {
    if (g.length > h.length) continue;
    const mark = maps.mark();
    if (!mapDevices([...g], [...h], maps, opts)) continue;
    if (
      matchGroups(
        rest,
        dest.filter((x) => x !== h),
        maps,
        opts,
      )
    )
      return true;
    if (!(opts.xgmiGroupBacktracking ?? false)) return false;
    maps.reset(mark);
  }
  return false;
}

const EINVAL = -22;

/**
 * `set_restore_gpu_maps(src, dest)`: maps each source GPU to a destination GPU (and the source
 * CPU nodes its links reach to destination CPU nodes). Returns the maps sorted by source id, or
 * `{ ok: false, errno: -EINVAL, reason }` as the plugin fails ("Failed to map GPUs", spec §9.5).
 * Malformed input (duplicate node or gpu ids, non-integers) throws InputError.
 */
export function setRestoreGpuMaps(src: Topology, dest: Topology, opts: RemapOptions = {}): RemapResult {
  const s = resolve(src, 'source topology');
  const d = resolve(dest, 'destination topology');
  const fail = (reason: string): RemapResult => ({ ok: false, errno: EINVAL, reason });
  if (s.gpus.length !== d.gpus.length) {
    return fail(`Number of devices mismatch (checkpointed:${s.gpus.length} local:${d.gpus.length})`);
  }
  if (s.groups.length > d.groups.length) {
    return fail(`Number of xgmi groups mismatch (checkpointed:${s.groups.length} local:${d.groups.length})`);
  }
  const maps = new Maps();
  if (s.groups.length > 0 && !matchGroups(s.groups, d.groups, maps, opts)) {
    return fail('Failed to match all GPU groups');
  }
  // The plugin builds these lists by prepending, i.e. in reverse node order.
  const srcLeft = s.gpus.filter((n) => !maps.gpuMapped(n.gpu)).reverse();
  const destLeft = d.gpus.filter((n) => !maps.gpuDestUsed(n.gpu)).reverse();
  if (!mapDevices(srcLeft, destLeft, maps, opts)) return fail('Failed to match remaining nodes');
  const bySrc = (a: IdMap, b: IdMap) => a.src - b.src;
  return { ok: true, gpu_maps: [...maps.gpu].sort(bySrc), cpu_maps: [...maps.cpu].sort(bySrc) };
}

/** The src → dest gpu_id map of a successful result (the plugin's `maps_get_dest_gpu`). */
export function gpuMap(r: RemapResult): Map<number, number> {
  return new Map(r.ok ? r.gpu_maps.map((m) => [m.src, m.dest]) : []);
}
