/**
 * The topologies GPU remapping works on (spec §9.2, §9.10; remap.ts): KFD topology nodes as
 * given (sysfs nodes or the device entries of a KFD image), and the same nodes resolved as
 * `topology_determine_iolinks` resolves them — each P2P iolink valid or not (it reaches a node
 * of the topology, else cgroups masked it) and bi-directional or not (the node it reaches has a
 * link of the same type back).
 */
import { InputError } from '../errors.js';
import type { CriuKfd } from './images/types.js';

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

/** The source topology of a KFD image: its device entries (`devinfo_to_topology`, spec §9.5). */
export function topologyFromKfdImage(msg: CriuKfd): Topology {
  return { nodes: msg.device_entries };
}

// ---------------------------------------------------------------------------------------------
// Resolved topology

export interface Link {
  type: number;
  to: Node | undefined;
  /** The link of the same type back, when bi-directional. */
  peer: boolean;
}

export interface Node {
  src: TopoNode;
  id: number;
  gpu: number;
  links: Link[];
  validLinks: number;
}

export const isGpu = (n: Node) => n.gpu !== 0;

function checkU32(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new InputError(where, 'a u32 integer', v);
  }
  return v;
}

/**
 * `topology_determine_iolinks` without the hives: the nodes of `t` with their links resolved.
 * Malformed input (duplicate node or gpu ids, non-integers) throws InputError naming `where`.
 */
export function resolveNodes(t: Topology, where: string): Node[] {
  if (typeof t !== 'object' || t === null || !Array.isArray(t.nodes)) {
    throw new InputError(where, 'a topology { nodes: [...] }', t);
  }
  const byId = new Map<number, Node>();
  const nodes = readNodes(t, where, byId);
  readIolinks(nodes, where, byId);
  markBidirectional(nodes);
  return nodes;
}

/** The nodes, each with a node_id and a gpu_id (0 for a CPU) no other node has. */
function readNodes(t: Topology, where: string, byId: Map<number, Node>): Node[] {
  const gpuIds = new Set<number>();
  return t.nodes.map((n, i): Node => {
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
}

/** Each node's iolinks; a link to a node outside the topology is invalid (masked by cgroups). */
function readIolinks(nodes: Node[], where: string, byId: Map<number, Node>): void {
  nodes.forEach((node, i) => {
    (node.src.iolinks ?? []).forEach((l, j) => {
      const w = `${where}.nodes[${i}].iolinks[${j}]`;
      const type = checkU32(l?.type, `${w}.type`);
      const to = byId.get(checkU32(l.node_to_id, `${w}.node_to_id`));
      node.links.push({ type, to, peer: false });
      if (to) node.validLinks++;
    });
  });
}

/** A valid link is bi-directional when the node it reaches has a link of the same type back. */
function markBidirectional(nodes: Node[]): void {
  for (const node of nodes) {
    for (const l of node.links) {
      if (l.to) l.peer = l.to.links.some((b) => b.to === node && b.type === l.type);
    }
  }
}
