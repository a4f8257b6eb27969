/**
 * The i915 suspend / resume sequences (spec C.6, C.7) as `i915.*` events, and their
 * steps on their own: i915_gem_backup_suspend and i915_gem_resume walk the LMEM regions
 * (region.ts) in the passes of i915_gem_ttm_pm.c, each pass region by region
 * (lmem_suspend, lmem_restore, lmem_recover of i915_gem_pm.c); i915_gem_suspend idles
 * (or wedges) the GT in between.
 */
import { ERRNO } from '../../uapi/errno.js';
import { faultHit } from '../../world/faults.js';
import { inState, send } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { registerInternal } from '../internal-objects.js';
import { bool, u32 } from '../schema.js';
import {
  backupRegion,
  dev,
  deviceSuspended,
  gtWedged,
  i915Device,
  isLmemRegion,
  lmemRegions,
  recoverRegion,
  regionObjects,
  restoreRegion,
} from './region.js';

/**
 * `for_each_memory_region` over the LMEM regions in order, as lmem_suspend, lmem_restore and
 * lmem_recover walk them (C.6, C.7): the first region whose pass fails stops the walk.
 */
function eachLmemRegion(w: World, pass: (region: number) => number): number {
  for (let r = 0; r < lmemRegions(w); r++) {
    const ret = pass(r);
    if (ret) return ret;
  }
  return 0;
}

/** lmem_suspend (C.6): i915_ttm_backup_region on every LMEM region; the first error stops it. */
const lmemSuspend = (w: World, allowGpu: boolean, pinned: boolean) =>
  eachLmemRegion(w, (r) => backupRegion(w, r, allowGpu, pinned));

/** lmem_recover (C.6): i915_ttm_recover_region on every LMEM region, reached by the failed step or not. */
const lmemRecover = (w: World) =>
  eachLmemRegion(w, (r) => {
    recoverRegion(w, r);
    return 0;
  });

/** lmem_restore (C.7): i915_ttm_restore_region on every LMEM region; the first error stops it. */
const lmemRestore = (w: World, allowGpu: boolean) => eachLmemRegion(w, (r) => restoreRegion(w, r, allowGpu));

const NO_REGION = 'region not an LMEM region of the device → -ENODEV (model: no such intel_memory_region)';

/** i915_gem_suspend: idle the GT; it may end wedged (fault site i915.gt_wedged). */
function gemSuspend(w: World): void {
  if (gtWedged(w)) return;
  if (faultHit(w, 'i915.gt_wedged')) dev(w, { type: 'GT_WEDGE' });
  else dev(w, { type: 'GT_IDLE' });
}

export const i915Suspend = registerInternal<Record<string, never>>({
  name: 'i915.suspend',
  models:
    'i915_drm_prepare → i915_gem_backup_suspend (spec C.6), then the device powers down (LMEM content is lost): 1. lmem_suspend(ALLOW_GPU), 2. i915_gem_suspend, 3. lmem_suspend(ALLOW_GPU | PINNED), 4. lmem_suspend(PINNED), each lmem_suspend region by region; an error → lmem_recover (every LMEM region) and the error',
  checks: [
    'not running (already suspended) → -EBUSY (model: the PM core never suspends a suspended device)',
    'a step fails in a region (i915.copy on an eviction or backup copy, i915.populate on a backup object) → the later regions are not walked by that step, every backup of every LMEM region freed (lmem_recover), that errno; the device keeps running',
    'step 2: the GT cannot be idled (i915.gt_wedged) → it is wedged; later blitter copies fall back to memcpy',
  ],
  run(w) {
    const d = i915Device(w);
    if (!inState(w, d, 'pm.running')) return -ERRNO.EBUSY;
    dev(w, { type: 'SUSPEND' });
    const fail = (r: number) => {
      dev(w, { type: 'STEP_FAILED' });
      lmemRecover(w);
      dev(w, { type: 'RECOVERED' });
      return r;
    };
    let r = lmemSuspend(w, true, false);
    if (r) return fail(r);
    dev(w, { type: 'STEP_OK' });
    gemSuspend(w);
    dev(w, { type: 'STEP_OK' });
    r = lmemSuspend(w, true, true);
    if (r) return fail(r);
    dev(w, { type: 'STEP_OK' });
    r = lmemSuspend(w, false, true);
    if (r) return fail(r);
    dev(w, { type: 'STEP_OK' });
    // After step 4 every object is in SMEM, backed up or PM_VOLATILE: LMEM powers down.
    for (const id of regionObjects(w)) send(w, id, { type: 'POWER_OFF' });
    return 0;
  },
});

export const i915Resume = registerInternal<Record<string, never>>({
  name: 'i915.resume',
  models:
    'i915_gem_resume (spec C.7): 1. lmem_restore(0) (memcpy, PM_EARLY), 2. intel_gt_resume, 3. lmem_restore(ALLOW_GPU), each lmem_restore region by region; restore errors only WARN',
  checks: [
    'not suspended → -EBUSY (model)',
    'a restore error (i915.populate) → WARN, the walk of that region stops and the step walks no later region (their objects stay backed up); resume still returns 0',
    'step 2: the GT cannot be re-initialised (i915.gt_wedged) → wedged, step 3 skipped; returns 0',
  ],
  run(w) {
    const d = i915Device(w);
    if (!inState(w, d, 'pm.suspended')) return -ERRNO.EBUSY;
    dev(w, { type: 'RESUME' });
    lmemRestore(w, false);
    dev(w, { type: 'STEP_OK' });
    if (faultHit(w, 'i915.gt_wedged')) {
      dev(w, { type: 'GT_WEDGE' });
      dev(w, { type: 'STEP_FAILED' });
      return 0;
    }
    dev(w, { type: 'GT_RESET' });
    dev(w, { type: 'STEP_OK' });
    lmemRestore(w, true);
    dev(w, { type: 'STEP_OK' });
    return 0;
  },
});

export const i915BackupRegion = registerInternal<{ allow_gpu: boolean; pinned: boolean; region: number }>({
  name: 'i915.backup_region',
  models: 'i915_ttm_backup_region(LMEM_<region>, ALLOW_GPU? | PINNED?) on its own (spec C.2, C.5)',
  checks: [
    NO_REGION,
    'the device is suspended → -EBUSY (model: use i915.resume)',
    'per object of the LMEM region’s list, from its head (newest first; an object in SMEM is on the SMEM list, not met; a stopped walk moves what it processed to the tail): already backed up → skip; allow_gpu and unpinned → evict to SMEM; not a pinned pass, or allow_gpu and PM_EARLY → skip; PM_VOLATILE → skip; else back up (i915.populate, i915.copy)',
    'the first object error stops the walk and is returned',
  ],
  args: { allow_gpu: bool, pinned: bool, region: u32 },
  run(w, a) {
    if (!isLmemRegion(w, a.region)) return -ERRNO.ENODEV;
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    return backupRegion(w, a.region, a.allow_gpu, a.pinned);
  },
});

export const i915RestoreRegion = registerInternal<{ allow_gpu: boolean; region: number }>({
  name: 'i915.restore_region',
  models: 'i915_ttm_restore_region(LMEM_<region>, ALLOW_GPU?) on its own (spec C.3, C.5)',
  checks: [
    NO_REGION,
    'the device is suspended → -EBUSY (model: use i915.resume)',
    'per object of the LMEM region’s list, from its head: no backup → skip; not allow_gpu and not PM_EARLY → skip; backup populate fails (i915.populate) → that errno, the backup kept (final) or its reference dropped with the pointer kept (v2-restore-put); a copy error only WARNs (content lost)',
    'the first object error stops the walk and is returned',
  ],
  args: { allow_gpu: bool, region: u32 },
  run(w, a) {
    if (!isLmemRegion(w, a.region)) return -ERRNO.ENODEV;
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    return restoreRegion(w, a.region, a.allow_gpu);
  },
});

export const i915RecoverRegion = registerInternal<{ region: number }>({
  name: 'i915.recover_region',
  models: 'i915_ttm_recover_region(LMEM_<region>) (spec C.4): i915_ttm_backup_free on every object of the region',
  checks: [NO_REGION, 'the device is suspended → -EBUSY (model)'],
  args: { region: u32 },
  run(w, a) {
    if (!isLmemRegion(w, a.region)) return -ERRNO.ENODEV;
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    recoverRegion(w, a.region);
    return 0;
  },
});

export const i915GtIdle = registerInternal<Record<string, never>>({
  name: 'i915.gt_idle',
  models: 'i915_gem_suspend on its own (spec C.6 step 2): the GT is idled, or wedged (i915.gt_wedged)',
  checks: ['the device is suspended → -EBUSY (model)', 'already wedged → 0 (no-op)'],
  run(w) {
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    gemSuspend(w);
    return 0;
  },
});
