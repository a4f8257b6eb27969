/**
 * The legacy whole-tt swap (spec A.5, A.6.4): ttm_tt_swapout copies every page of a
 * populated tt to a new swap file and unpopulates it (TTM_TT_FLAG_SWAPPED);
 * ttm_tt_swapin reads every page back. Tts that can be backed up page by page
 * (EXTERNAL, as Xe creates them) never take this path.
 */
import type { FaultPlan } from '../../src/world/faults.js';
import { EBUSY, EINVAL, ENOMEM, TtRun } from './pool-pages.js';
import type { TtContext, TtResult } from './tt-context.js';

/**
 * ttm_tt_swapin as ttm_tt_populate runs it, after the pages were allocated: read every
 * page back from the swap file. 0, or the errno of a read (site ttm.copy_page), after
 * which the pages are freed again and the tt stays SWAPPED.
 */
export function ttmTtSwapinPopulated(run: TtRun): number {
  const c = run.c;
  const storage = c.swap_storage ?? {};
  for (let i = 0; i < c.num_pages; i++) {
    const err = run.pass('ttm.copy_page');
    if (err) {
      run.freeRange(0, c.num_pages);
      c.flags.populated = false;
      c.pages_caching = null;
      return err;
    }
    const s = c.slots[i];
    if (s?.t === 'page') s.v = storage[i] ?? 0;
  }
  c.swap_storage = null;
  c.flags.swapped = false;
  return 0;
}

/**
 * Legacy swapout (A.6.4 checks of ttm_bo_swapout_cb, then ttm_tt_swapout, A.5): copy
 * every page to a new swap file, unpopulate, set SWAPPED; returns num_pages. Site:
 * ttm.backup_page (one pass per page copied).
 */
export function ttSwapout(ctx: TtContext, plan: FaultPlan): TtResult {
  const run = new TtRun(ctx, plan);
  const c = run.c;
  if (c.external || !c.flags.populated || c.flags.swapped) return run.done(EBUSY);
  const storage: Record<number, number> = {};
  for (let i = 0; i < c.num_pages; i++) {
    const s = c.slots[i];
    if (s?.t !== 'page') continue;
    const err = run.pass('ttm.backup_page');
    if (err) return run.done(err);
    if (s.v !== 0) storage[i] = s.v;
  }
  run.freeRange(0, c.num_pages);
  c.flags.populated = false;
  c.pages_caching = null;
  c.swap_storage = storage;
  c.flags.swapped = true;
  return run.done(c.num_pages);
}

/** ttm_tt_swapin on its own (A.5): reads page 0 back, finds no page to copy into → -ENOMEM. Site: ttm.copy_page. */
export function ttSwapin(ctx: TtContext, plan: FaultPlan): TtResult {
  const run = new TtRun(ctx, plan);
  const c = run.c;
  // BUG_ON(!swap_storage) in the kernel; the model refuses.
  if (!c.flags.swapped || c.swap_storage === null) return run.done(EINVAL);
  for (let i = 0; i < c.num_pages; i++) {
    const err = run.pass('ttm.copy_page');
    if (err) return run.done(err);
    const s = c.slots[i];
    if (s?.t !== 'page') return run.done(ENOMEM);
    s.v = c.swap_storage[i] ?? 0;
  }
  c.swap_storage = null;
  c.flags.swapped = false;
  return run.done(0);
}
