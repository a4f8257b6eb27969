/**
 * The restore's GPU maps (spec §9.5 step 3.3, §9.10). Every KFD restore runs the plugin's
 * `devinfo_to_topology` of the image's device entries (the source), `topology_parse` of the
 * local system (the destination: the world's GPUs, each described as the dump describes a GPU,
 * device-entries.ts) and `set_restore_gpu_maps` (remap.ts) into the task's
 * `restore_maps`, whether or not the ids are the same: a local system with another number of
 * GPUs, or with a GPU whose properties do not match, fails the restore even with identical
 * ids, and one whose GPUs have other ids restores onto them.
 */
import type { World } from '../world/types.js';
import { DEFAULT_DEVICE_PROPERTIES, DEVICE_PROPERTY_KEYS } from '../world/topology.js';
import type { KfdDeviceEntry, KfdImageSet } from './images/index.js';
import { deviceEntries } from './device-entries.js';
import { type RemapOptions, setRestoreGpuMaps, type Topology, topologyFromKfdImage } from './remap.js';

/**
 * A GPU of a log header's topology for a device entry of a KFD image: the GPU the image was
 * dumped from, for a restore onto the same machine (`gpucr restore` without --topology). Its
 * properties are given where they differ from the defaults.
 */
export function headerGpuOfEntry(d: KfdDeviceEntry): Record<string, unknown> {
  const properties: Record<string, number> = {};
  for (const k of DEVICE_PROPERTY_KEYS) if (d[k] !== DEFAULT_DEVICE_PROPERTIES[k]) properties[k] = d[k];
  return {
    gpu_id: d.gpu_id,
    render_minor: d.drm_render_minor,
    vram_size: d.vram_size.toString(),
    large_bar: d.vram_public !== 0,
    ...(d.hive_id === 0n ? {} : { hive_id: `0x${d.hive_id.toString(16)}` }),
    ...(Object.keys(properties).length ? { properties } : {}),
  };
}

/** `topology_parse(&dest_topology, "Local")`: the world's GPUs as KFD topology nodes, in order. */
export function localTopology(w: World): Topology {
  return {
    nodes: deviceEntries(
      w,
      w.topology.gpus.map((g) => ({ userId: g.gpu_id, actualId: g.gpu_id })),
    ),
  };
}

/**
 * `set_restore_gpu_maps(&src_topology, &dest_topology, &restore_maps)` of one KFD image, into
 * `maps` (user gpu_id → local gpu_id): the failure ("Failed to map GPUs: <why>"), or null. The
 * plugin's `restore_maps` lives as long as the task's plugin: a source GPU a first KFD file
 * of the task mapped keeps that map (`maps_get_dest_gpu` finds the first entry).
 */
export function fillRestoreMaps(
  w: World,
  k: KfdImageSet,
  maps: Map<number, number>,
  opts: RemapOptions,
): string | null {
  const r = setRestoreGpuMaps(topologyFromKfdImage(k.kfd), localTopology(w), opts);
  if (!r.ok) return `Failed to map GPUs: ${r.reason}`;
  for (const m of r.gpu_maps) if (!maps.has(m.src)) maps.set(m.src, m.dest);
  return null;
}
