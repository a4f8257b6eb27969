/**
 * Round-trip differences the modelled design produces by itself (docs/checkpoint-restore.md,
 * "Round-trip findings"), told apart from the rest so that a property can require "nothing
 * else": each is recognised by its path and values and checked against the dumped world.
 */
import { AMDGPU_GEM_CREATE } from '../../src/ioctls/amdgpu/uapi.js';
import type { World } from '../../src/world/types.js';

const FLAGS = /^(?:task (\d+)\.)?render ([0-9a-f]+) handles\.(\d+)\.flags: (\d+) → (\d+)$/;

/** The GEM object behind handle `h` of task `pid`'s first render-node file of GPU `gpu`. */
function renderGem(w: World, pid: number, gpu: number, h: string): string | undefined {
  for (const fid of Object.values(w.tasks[pid]?.fds ?? {})) {
    const f = w.files[fid];
    if (f?.kind === 'drm' && f.gpu_id === gpu) return w.drm?.[fid]?.object_idr[h as unknown as number];
  }
  return undefined;
}

/**
 * A render-node handle whose flags differ by VRAM_CLEARED and nothing else, because the object
 * changes its creator at restore. GEM_CREATE adds VRAM_CLEARED to every object ("always clear
 * VRAM"); a KFD allocation never has it. So:
 * - an object KFD imported loses it: KFD RESTORE re-creates an import as a KFD allocation (spec
 *   §5.1 IMPORT_DMABUF) and the plugin imports that into the render node (spec §9.8);
 * - a KFD allocation that only render-node handles still hold (its KFD handle freed) gains it:
 *   the plugin re-creates it with GEM_CREATE.
 * GET_GEM_CREATE_INFO reports the new object's flags.
 */
export function vramClearedByDesign(dumped: World, difference: string, pid: number): boolean {
  const m = FLAGS.exec(difference);
  if (!m) return false;
  const [before, after] = [Number(m[4]), Number(m[5])];
  const V = AMDGPU_GEM_CREATE.VRAM_CLEARED;
  if ((before ^ after) !== V) return false;
  const gem = renderGem(dumped, m[1] ? Number(m[1]) : pid, parseInt(m[2]!, 16), m[3]!);
  const g = gem === undefined ? undefined : dumped.gems[gem];
  if (!g) return false;
  return before & V ? g.kgd_mems.length > 0 : g.alloc_flags !== 0 && g.kgd_mems.length === 0;
}

/** The differences of a round trip of `pid`'s process (the first task of a tree) that the design does not explain. */
export function unexplained(dumped: World, differences: readonly string[], pid: number): string[] {
  return differences.filter((d) => !vramClearedByDesign(dumped, d, pid));
}
