/**
 * The per-object functions of i915_gem_ttm_pm.c (spec C.2–C.4): `i915_ttm_backup`,
 * `i915_ttm_restore` and `i915_ttm_recover` / `i915_ttm_backup_free`, as algorithms of
 * one LMEM object (machines/algorithm.ts), with the reference counting of the SMEM
 * backup object they create, copy from and put.
 */
import type { FaultPlan } from '../../src/world/faults.js';
import { AlgorithmRun } from '../algorithm.js';
import type { CopyEngine, I915Backup, LmemObjectContext, LmemResult } from './lmem-object-context.js';

/** One object algorithm's run, with the references on `obj->ttm.backup`. */
export class I915Run extends AlgorithmRun<LmemObjectContext> {
  /** i915_gem_object_put(backup) */
  put(): void {
    const b = this.c.backup;
    if (!b) return;
    if (b.refs <= 0) this.c.bad_puts += 1;
    b.refs -= 1;
  }
  /** A use of the backup object behind the pointer (lock, populate, copy). */
  use(): void {
    if (this.c.backup && this.c.backup.refs <= 0) this.c.uaf += 1;
  }
}

/** i915_gem_object_evictable: no pins. */
export function evictable(c: LmemObjectContext): boolean {
  return c.pin_count === 0;
}

/** i915_ttm_backup(apply, obj) (C.2). Sites: i915.copy (eviction move, backup copy), i915.populate (backup tt). */
export function lmemBackup(
  ctx: LmemObjectContext,
  e: { allow_gpu: boolean; pinned: boolean; engine: CopyEngine },
  plan: FaultPlan,
): LmemResult {
  const run = new I915Run(ctx, plan);
  const c = run.c;
  // 1. in system memory already, or already backed up
  if (c.placement === 'smem' || c.backup) return run.done(0);
  // 2. evict an unpinned object to system with ttm_bo_validate
  if (e.allow_gpu && evictable(c)) {
    const err = run.pass('i915.copy');
    if (err) return run.done(err);
    c.placement = 'smem';
    return run.done(0);
  }
  // 3. pinned objects only in pinned passes; PM_EARLY ones only in the memcpy pass
  if (!e.pinned || (e.allow_gpu && c.early)) return run.done(0);
  // 4. PM_VOLATILE: allowed to lose the content
  if (c.volatile) return run.done(0);
  // 6.–8. create the SMEM backup object, populate its tt
  const perr = run.pass('i915.populate');
  if (perr) return run.done(perr);
  // 9. copy (blitter when allowed and the GT is not wedged, else memcpy)
  const cerr = run.pass('i915.copy');
  if (cerr) return run.done(cerr);
  // 10.
  c.backup = { refs: 1, content: { ...c.content }, method: e.engine };
  return run.done(0);
}

/** i915_ttm_restore's copy from the backup object into the object's LMEM pages (site i915.copy). */
function i915TtmRestoreCopy(run: I915Run, backup: I915Backup): void {
  const c = run.c;
  run.use(); // copy from the backup
  const cerr = run.pass('i915.copy');
  if (backup.refs <= 0) {
    // A copy from a freed backup object: whatever the memory holds now (silently).
    c.content = {};
  } else if (cerr) {
    // GEM_WARN_ON(err): the content is not copied back; the object keeps what LMEM holds.
    c.content = {};
    c.expected = {};
    c.loss = 'warned';
  } else c.content = { ...backup.content };
  c.lmem_valid = true;
}

/** i915_ttm_restore(apply, obj) (C.3). Sites: i915.populate (backup tt), i915.copy (copy back, errors only WARN). */
export function lmemRestore(
  ctx: LmemObjectContext,
  e: { allow_gpu: boolean; engine: CopyEngine },
  plan: FaultPlan,
): LmemResult {
  const run = new I915Run(ctx, plan);
  const c = run.c;
  const backup = c.backup;
  if (!backup) return run.done(0);
  if (!e.allow_gpu && !c.early) return run.done(0);
  run.use(); // lock
  const err = run.pass('i915.populate');
  if (!err) i915TtmRestoreCopy(run, backup);
  if (!err) {
    run.put();
    c.backup = null;
  } else if (c.variant === 'v2-restore-put') {
    // v2: the reference is dropped on failure too, while obj->ttm.backup is kept (C.8).
    run.put();
  }
  return run.done(err);
}

/** i915_ttm_recover → i915_ttm_backup_free (C.4). */
export function lmemRecover(ctx: LmemObjectContext): LmemResult {
  const run = new I915Run(ctx, {});
  const c = run.c;
  if (c.backup && !c.lmem_valid) {
    // The backup held the only copy: LMEM lost power and the restore at resume failed
    // (GEM_WARN_ON) or was skipped (GT wedged, dev_err). Recovering frees that copy.
    c.content = {};
    c.expected = {};
    c.loss = 'warned';
    c.lmem_valid = true;
  }
  run.put();
  c.backup = null;
  return run.done(0);
}
