/**
 * Fault injection (docs/ttm-i915-events.md, "Fault sites").
 *
 * A `fault {site, errno, after, count}` event arms a named site: after `after` further
 * successful passes through the site, the next `count` passes fail with `-errno`, then
 * the site is disarmed. A *pass* is one execution of the kernel step the site stands
 * for (one page backed up, one block allocated, one object copied …); which steps pass
 * through which site is documented with each site below.
 *
 * The armed faults live in the world (`World.faults`), so a log replays them
 * deterministically. Object machines never read the world: a handler hands the armed
 * faults of the sites its operation passes through to the machine inside the event
 * (a *fault plan*), the machine consumes passes from its copy with `consumePass`, and
 * the handler stores what is left back with `storePlan`. Both sides use the same
 * counting rule, so the world and the machine agree on every pass.
 */
import type { World } from './types.js';

/** Every site a `fault` event can arm, with the kernel step one pass stands for. */
export const FAULT_SITES = {
  /** ttm_backup_backup_page(): one page copied to the shmem backup (ttm_pool_backup, legacy ttm_tt_swapout). */
  'ttm.backup_page': 0,
  /** ttm_backup_copy_page(): one handle read back from shmem (restore, legacy ttm_tt_swapin). */
  'ttm.copy_page': 1,
  /** An allocation of ttm_pool_restore_and_alloc(): the restore struct (fresh restore), then one per block. */
  'ttm.restore_alloc': 2,
  /** ttm_backup_bytes_avail() == 0 (no swap space), checked once per ttm_pool_backup(). */
  'ttm.no_swap': 3,
  /** i915_gem_obj_copy_ttm() / the eviction move: one object copied (backup, restore, eviction to SMEM). */
  'i915.copy': 4,
  /** The GT is (declared) wedged: i915_gem_suspend() idling it, intel_gt_resume() re-initialising it. */
  'i915.gt_wedged': 5,
  /** ttm_tt_populate() of an i915 SMEM backup object (backup step 8, restore step 4). */
  'i915.populate': 6,
  /** xe_bo_evict_pinned() / xe_bo_restore_pinned() / the user-BO eviction move: one BO copied. */
  'xe.copy': 7,
  /**
   * A block allocation of __ttm_pool_alloc without a restore (ttm_pool_alloc: the populate of an
   * unpopulated or SWAPPED tt), one pass per block tried: a failing pass at order > 0 retries one
   * order lower; at order 0 the populate fails with -ENOMEM and frees what it took.
   */
  'ttm.alloc': 8,
} as const;

export type FaultSite = keyof typeof FAULT_SITES;

export const FAULT_SITE_NAMES = Object.keys(FAULT_SITES) as FaultSite[];

/** An armed site: `errno` is positive (the failing pass returns -errno). */
export interface ArmedFault {
  errno: number;
  after: number;
  count: number;
}

/** The armed faults of some sites, as a handler passes them to a machine. */
export type FaultPlan = Partial<Record<FaultSite, ArmedFault>>;

/**
 * One pass through `site` of a plan that the caller owns (it is updated in place):
 * 0 when the pass succeeds, `-errno` when it fails.
 */
export function consumePass(plan: Partial<Record<string, ArmedFault>>, site: FaultSite): number {
  const f = plan[site];
  if (!f) return 0;
  if (f.after > 0) {
    f.after -= 1;
    return 0;
  }
  f.count -= 1;
  const ret = -f.errno;
  if (f.count <= 0) delete plan[site];
  return ret;
}

/** One pass through `site` of the world's armed faults: 0, or `-errno` when it fails. */
export function faultHit(w: World, site: FaultSite): number | 0 {
  w.faults ??= {};
  return consumePass(w.faults, site);
}

/** Arm (count > 0) or disarm (count 0) a site. */
export function armFault(w: World, site: FaultSite, fault: ArmedFault): void {
  w.faults ??= {};
  if (fault.count <= 0) delete w.faults[site];
  else w.faults[site] = { ...fault };
}

/** A copy of the world's armed faults of `sites` (what an operation may pass through). */
export function planOf(w: World, sites: readonly FaultSite[]): FaultPlan {
  const plan: FaultPlan = {};
  for (const s of sites) {
    const f = w.faults?.[s];
    if (f) plan[s] = { ...f };
  }
  return plan;
}

/** Store back what an operation left of the plan of `sites` (consumed passes, disarmed sites). */
export function storePlan(w: World, sites: readonly FaultSite[], plan: FaultPlan): void {
  w.faults ??= {};
  for (const s of sites) {
    const f = plan[s];
    if (f) w.faults[s] = { ...f };
    else delete w.faults[s];
  }
}
