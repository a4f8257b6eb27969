/**
 * XGMI hives in GPU remapping (spec §9.10; remap.ts): the groups of GPUs joined by
 * bi-directional XGMI links, as `topology_determine_iolinks` finds them, and
 * `match_xgmi_groups`, which maps each source hive to a destination hive before any other GPU.
 */
import { TOPO_IOLINK_TYPE } from './images/types.js';
import { type Maps, mapDevices } from './remap-devices.js';
import type { RemapOptions } from './remap-options.js';
import { isGpu, type Link, type Node } from './remap-topology.js';

/** A valid, bi-directional XGMI link to a GPU: what joins two GPUs into a hive. */
const isXgmiPeerLink = (l: Link): boolean =>
  l.to !== undefined && l.peer && l.type === TOPO_IOLINK_TYPE.XGMI && isGpu(l.to);

/** XGMI hives: GPUs joined by bi-directional XGMI links, discovered in node then link order. */
export function xgmiHives(nodes: readonly Node[]): Node[][] {
  const groups: Node[][] = [];
  const inGroup = new Set<Node>();
  for (const node of nodes) {
    if (inGroup.has(node) || !isGpu(node)) continue;
    if (!node.links.some(isXgmiPeerLink)) continue;
    const group = [node];
    inGroup.add(node);
    for (let k = 0; k < group.length; k++) {
      for (const l of group[k]!.links) {
        if (isXgmiPeerLink(l) && !inGroup.has(l.to!)) {
          inGroup.add(l.to!);
          group.push(l.to!);
        }
      }
    }
    groups.push(group);
  }
  return groups;
}

/** `match_xgmi_groups`: each source hive, in order, to a destination hive (see RemapOptions). */
export function matchXgmiGroups(src: Node[][], dest: Node[][], maps: Maps, opts: RemapOptions): boolean {
  if (src.length === 0) return true;
  const [g, ...rest] = src as [Node[], ...Node[][]];
  for (const h of [...dest]) {
    if (g.length > h.length) continue;
    const mark = maps.mark();
    if (!mapDevices([...g], [...h], maps, opts)) continue;
    if (
      matchXgmiGroups(
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
