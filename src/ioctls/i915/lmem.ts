/**
 * The `i915.*` events (docs/ttm-i915-events.md): i915 LMEM objects and the suspend /
 * resume sequence that backs them up (spec C.1–C.9). Kernel-internal: no pid.
 *
 * This module holds the device's probe with its number of LMEM regions, the calls on
 * one object (create, pin, unpin, destroy) and is the family's entry point: the device
 * and its LMEM regions (the region walks, eviction to make room) are region.ts, the
 * suspend / resume sequences and their steps pm.ts; both are re-exported here.
 */
import { ERRNO } from '../../uapi/errno.js';
import { createObject, inState, send } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { objectNumber, registerInternal } from '../internal-objects.js';
import { flags, u32 } from '../schema.js';
import {
  bringBack,
  dev,
  deviceSuspended,
  i915CreateDevice,
  i915ObjId,
  i915Probed,
  I915_MAX_LMEM_REGIONS,
  isLmemRegion,
  makeRoom,
  OBJ_KIND,
  objEvent,
  placedInLmem,
  touch,
} from './region.js';

export {
  backupRegion,
  bringBack,
  DEVICE_KIND,
  deviceSuspended,
  gtWedged,
  I915_LMEM_PAGES,
  I915_MAX_LMEM_REGIONS,
  i915Device,
  i915ObjId,
  lmemRegions,
  makeRoom,
  OBJ_KIND,
  objEvent,
  recoverRegion,
  regionObjects,
  restoreRegion,
  touch,
  unparkGt,
} from './region.js';
export { i915BackupRegion, i915GtIdle, i915RecoverRegion, i915RestoreRegion, i915Resume, i915Suspend } from './pm.js';

/**
 * i915.create flags: the kernel's I915_BO_ALLOC_* bits (i915_gem_object_types.h, spec
 * C.1) and PINNED, a model flag (no kernel bit) for an object pinned at creation.
 */
export const I915_CREATE_FLAGS = {
  USER: 1 << 3,
  PM_VOLATILE: 1 << 4,
  PM_EARLY: 1 << 5,
  PINNED: 1 << 30,
} as const;

const NO_OBJ = 'obj not a live i915 object → -EINVAL (model)';
const SUSPENDED = 'the device is suspended (or between suspend steps) → -EBUSY (model: processes are frozen)';

/**
 * An internal call on one live object (`obj`, no outputs): NO_OBJ and SUSPENDED are
 * checked first, in that order, then `run` with the object's world id; `checks` lists
 * what `run` checks after them.
 */
function registerObjectCall(def: {
  name: string;
  models: string;
  checks: string[];
  run: (w: World, id: string) => number;
}) {
  return registerInternal<{ obj: number }>({
    name: def.name,
    models: def.models,
    checks: [NO_OBJ, SUSPENDED, ...def.checks],
    args: { obj: u32 },
    run(w, a) {
      const id = i915ObjId(w, a.obj);
      if (!id) return -ERRNO.EINVAL;
      if (deviceSuspended(w)) return -ERRNO.EBUSY;
      return def.run(w, id);
    },
  });
}

export const i915Probe = registerInternal<{ regions: number }>({
  name: 'i915.probe',
  models:
    'the driver probe creating the device with one LMEM region per tile (intel_memory_regions_hw_probe: INTEL_REGION_LMEM_0…); without it, the first i915 call creates a device with one region',
  checks: [
    `regions 0 or above ${I915_MAX_LMEM_REGIONS} → -EINVAL (model: INTEL_REGION_LMEM_0 to _3)`,
    'the device exists already (probed, or created by an earlier i915 call) → -EBUSY (model: probed once)',
  ],
  args: { regions: u32 },
  run(w, a) {
    if (a.regions === 0 || a.regions > I915_MAX_LMEM_REGIONS) return -ERRNO.EINVAL;
    if (i915Probed(w)) return -ERRNO.EBUSY;
    i915CreateDevice(w, a.regions);
    return 0;
  },
});

export const i915Create = registerInternal<{ pages: number; flags: number; region: number; obj?: number }>({
  name: 'i915.create',
  models:
    'i915_gem_object_create_region(LMEM_<region>) with I915_BO_ALLOC_* flags (spec C.1; region 0: i915_gem_object_create_lmem), placed in that LMEM region at once; PINNED pins it (kernel objects such as page tables)',
  checks: [
    'region not an LMEM region of the device → -ENODEV (i915_gem_object_create_region: !mem)',
    'pages 0 → -EINVAL',
    SUSPENDED,
    'no room in the region after evicting every unpinned object of it (least recently used first) → -ENOSPC; an eviction copy fails (i915.copy) → that errno',
  ],
  args: { pages: u32, flags: flags(I915_CREATE_FLAGS, 'I915_BO_ALLOC_'), region: u32 },
  out: ['obj'],
  run(w, a) {
    if (!isLmemRegion(w, a.region)) return -ERRNO.ENODEV;
    if (a.pages === 0) return -ERRNO.EINVAL;
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    const r = makeRoom(w, a.region, a.pages);
    if (r) return r;
    const id = createObject(w, OBJ_KIND, {
      pages: a.pages,
      region: a.region,
      early: (a.flags & I915_CREATE_FLAGS.PM_EARLY) !== 0,
      volatile: (a.flags & I915_CREATE_FLAGS.PM_VOLATILE) !== 0,
      user: (a.flags & I915_CREATE_FLAGS.USER) !== 0,
      variant: w.variants.i915 ?? 'final',
    });
    touch(w, id);
    placedInLmem(w, id);
    if (a.flags & I915_CREATE_FLAGS.PINNED) send(w, id, { type: 'PIN' });
    a.obj = objectNumber(id);
    return 0;
  },
});

export const i915Pin = registerObjectCall({
  name: 'i915.pin',
  models: 'i915_gem_object_pin_pages on an LMEM object (moved back to LMEM first if evicted)',
  checks: [
    'backed up, or left without backup by a pinned pass → -EBUSY (model: its suspend is under way)',
    'evicted and no room in LMEM → -ENOSPC; the move fails (i915.copy) → that errno',
  ],
  run(w, id) {
    const r = bringBack(w, id);
    if (r) return r;
    const ret = objEvent(w, id, { type: 'PIN' }, -ERRNO.EBUSY);
    if (ret === 0) touch(w, id);
    return ret;
  },
});

export const i915Unpin = registerObjectCall({
  name: 'i915.unpin',
  models: 'i915_gem_object_unpin_pages',
  checks: ['not pinned → -EINVAL (model)', 'backed up, or left without backup by a pinned pass → -EBUSY (model)'],
  run(w, id) {
    if (inState(w, id, 'resident') || inState(w, id, 'evicted')) return -ERRNO.EINVAL;
    return objEvent(w, id, { type: 'UNPIN' }, -ERRNO.EBUSY);
  },
});

export const i915Destroy = registerObjectCall({
  name: 'i915.destroy',
  models: 'the object’s release: i915_ttm_backup_free (put the backup, clear the pointer), free the object (spec C.4)',
  checks: [],
  run(w, id) {
    const r = objEvent(w, id, { type: 'DESTROY' }, -ERRNO.EBUSY);
    dev(w, { type: 'FORGET', obj: id });
    return r;
  },
});
