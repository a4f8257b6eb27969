/**
 * ttm_tt_backup → ttm_pool_backup (spec A.4.2, A.5): purge a tt's pages, or exchange
 * them for shmem backup handles one by one. A page whose backup fails stays in the
 * vector, so a tt may end partially backed up; it is marked BACKED_UP all the same,
 * which stops a second backup (v15 commit text, S6). Its step 3 makes the pages write-back
 * first, whatever happens next (`pages_caching`, tt-context.ts).
 */
import type { FaultPlan } from '../../src/world/faults.js';
import { EBUSY, EINVAL, TtRun } from './pool-pages.js';
import type { TtContext, TtResult } from './tt-context.js';

/** Purge (A.4.2 step 4): every page freed to the system, its slot left NULL. Returns the pages freed. */
function ttmPoolPurge(run: TtRun): number {
  const c = run.c;
  let shrunken = 0;
  for (let i = 0; i < c.num_pages; i++) {
    const s = c.slots[i];
    if (s?.t !== 'page') continue;
    run.freePage(s.id);
    c.slots[i] = null;
    shrunken += 1;
  }
  // The content of purged pages is discarded on purpose.
  if (shrunken > 0) c.content = {};
  return shrunken;
}

/** ttm_backup_backup_page for page `i`: shmem index i, handle i + 1; the page is released at once. */
function ttmBackupBackupPage(run: TtRun, i: number, page: { id: number; v: number }): void {
  run.c.shmem[i] = page.v;
  run.c.slots[i] = { t: 'handle', h: i + 1 };
  run.freePage(page.id);
}

/**
 * Backup (A.4.2 step 7): each page in turn through ttm_backup_backup_page; the first
 * failure stops the walk. Returns the pages backed up and the errno of the failure (or 0).
 */
function ttmPoolBackupPages(run: TtRun): { shrunken: number; err: number } {
  const c = run.c;
  let shrunken = 0;
  for (let i = 0; i < c.num_pages; i++) {
    const s = c.slots[i];
    if (s?.t !== 'page') continue;
    const err = run.pass('ttm.backup_page');
    if (err) return { shrunken, err };
    ttmBackupBackupPage(run, i, s);
    shrunken += 1;
  }
  return { shrunken, err: 0 };
}

/**
 * Step 3 on x86: `if (tt->caching != ttm_cached) set_pages_array_wb(tt->pages, num_pages)`
 * ("Anything returned to the system needs to be cached"), before any page is backed up or
 * freed, so it stays done when the walk then fails at its first page and the tt stays
 * populated (spec A.4.2 Notes): tt->caching is not changed, the pages are WB.
 */
function ttmPoolSetPagesWb(c: TtContext): void {
  if (c.caching !== 'cached' && c.pages_caching !== null) c.pages_caching = 'cached';
}

/**
 * ttm_tt_backup → ttm_pool_backup (A.4.2, A.5). Sites: ttm.no_swap (one pass per call
 * that reaches the swap-space check), ttm.backup_page (one pass per page).
 */
export function ttBackup(ctx: TtContext, flags: { purge: boolean }, plan: FaultPlan): TtResult {
  const run = new TtRun(ctx, plan);
  const c = run.c;
  // ttm_tt_backup: WARN_ON(IS_ERR_OR_NULL(tt->backup)) → 0.
  if (!c.backup) return run.done(0);
  if (c.flags.backed_up) return run.done(EINVAL);
  const noSwap = run.pass('ttm.no_swap') !== 0;
  if ((noSwap && !flags.purge) || c.dma_alloc) return run.done(EBUSY);
  ttmPoolSetPagesWb(c);
  const { shrunken, err } = flags.purge ? { shrunken: ttmPoolPurge(run), err: 0 } : ttmPoolBackupPages(run);
  // Pages the walk retained (a partial backup, or a first page that failed) stay write-back.
  if (!c.slots.some((s) => s?.t === 'page')) c.pages_caching = null;
  // The number of pages backed up or freed, else the error.
  const ret = shrunken ? shrunken : err;
  if (ret > 0) {
    c.flags.populated = false;
    c.flags.backed_up = true;
  }
  return run.done(ret);
}
