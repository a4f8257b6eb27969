/**
 * `kfd.vram-usage` (docs/invariants.md, "Why kfd.vram-usage is a sum"): a pdd's
 * vram_usage is the sum of amdgpu_bo_size over the VRAM BOs it allocated (spec §7.3).
 * Where the kernel's deltas do not add up to that sum, its counter drifts.
 */
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../uapi/index.js';
import { allocIdr } from '../world/idr.js';
import type { World } from '../world/types.js';
import type { Violation } from './index.js';
import { ctx, hex } from './kfd-world.js';
import { objectsOfKind } from '../world/objects-by-kind.js';

export function vramUsage(w: World): Violation[] {
  const out: Violation[] = [];
  for (const [id, rec] of objectsOfKind<PddContext>(w, 'kfd.pdd')) {
    const p = rec.context;
    const bos = vramBos(w, id);
    let expected = 0n;
    for (const [, size] of bos) expected += size;
    if (p.vram_usage !== expected) {
      const counted = bos.map(([b, size]) => `${b} ${hex(size)}`);
      out.push({
        message: `${id} vram_usage is ${hex(p.vram_usage)}, spec §7.3 gives ${hex(expected)} (${counted.length ? counted.join(' + ') : 'no VRAM BO'})`,
        objects: [id],
      });
    }
  }
  return out;
}

/** The BOs of a pdd's alloc_idr that count in its vram_usage, with their sizes. */
function vramBos(w: World, pddId: string): [string, bigint][] {
  const out: [string, bigint][] = [];
  for (const b of Object.values(allocIdr(w, pddId))) {
    const c = ctx<BoContext>(w, b, 'kfd.bo');
    // IMPORT and non-VRAM ALLOC add nothing to vram_usage (spec §7.3).
    if (c && !c.is_imported && (c.alloc_flags & F.VRAM) !== 0) out.push([b, c.size]);
  }
  return out;
}
