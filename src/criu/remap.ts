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
 *
 * The steps are modules of their own: remap-topology.ts (the topology types, and (1)'s iolinks),
 * remap-xgmi.ts ((1)'s hives and (3)), remap-devices.ts (device matching, (4)), and
 * remap-options.ts (the KFD_*_CHECK switches); this module runs them and re-exports their API.
 */
import { type IdMap, Maps, mapDevices } from './remap-devices.js';
import type { RemapOptions } from './remap-options.js';
import { isGpu, type Node, resolveNodes, type Topology } from './remap-topology.js';
import { matchXgmiGroups, xgmiHives } from './remap-xgmi.js';

export { devicePropertiesMatch, type IdMap } from './remap-devices.js';
export { REMAP_ENV, type RemapOptions, remapOptionsFromEnv, remapOptionsFromList } from './remap-options.js';
export {
  type DeviceProperties,
  type TopoIolink,
  type TopoNode,
  type Topology,
  topologyFromKfdImage,
} from './remap-topology.js';

export type RemapResult =
  { ok: true; gpu_maps: IdMap[]; cpu_maps: IdMap[] } | { ok: false; errno: number; reason: string };

/** A resolved topology: its nodes, its GPUs and its XGMI hives (groups). */
interface System {
  nodes: Node[];
  gpus: Node[];
  groups: Node[][];
}

/** `topology_determine_iolinks`: link validity and direction, XGMI hives (groups). */
function resolve(t: Topology, where: string): System {
  const nodes = resolveNodes(t, where);
  return { nodes, gpus: nodes.filter(isGpu), groups: xgmiHives(nodes) };
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
  if (s.groups.length > 0 && !matchXgmiGroups(s.groups, d.groups, maps, opts)) {
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
