/**
 * ttm_tt_restore → ttm_pool_restore_and_alloc (spec A.4.3, A.4.4) and
 * ttm_pool_drop_backed_up (A.4.5): the resumable restore of a backed-up tt.
 *
 * New blocks are allocated from the pool, the content of each slot (a handle read back
 * from shmem, or a page a partial backup retained) is copied in and the old backing
 * released. `tt->restore` (struct ttm_pool_tt_restore) records how far the restore
 * got, so that a restore interrupted by an allocation or read-back error resumes
 * where it stopped instead of losing data.
 */
import type { FaultPlan } from '../../src/world/faults.js';
import { EINVAL, ENOMEM, TtRun } from './pool-pages.js';
import { restoreValid, type Slot, type TtContext, type TtRestore, type TtResult } from './tt-context.js';

/** ttm_pool_alloc_state, reduced to the next slot to fill and the pages still to allocate. */
type AllocState = { pos: number; remaining: number };

/** The block being restored: the id of its head page and the content copied into it so far. */
type Block = NonNullable<TtRestore['block']>;

/**
 * Copy slot `s` into page `i` of the block and release what backed it: a handle is
 * read back (ttm_backup_copy_page) and dropped, a retained page copied and freed; a
 * NULL (purged) slot has nothing to copy. 0, or the errno of the read-back.
 */
function ttmPoolRestoreCopy(run: TtRun, s: Slot, block: Block, i: number): number {
  if (s?.t === 'handle') {
    const err = run.pass('ttm.copy_page');
    if (err) return err;
    block.values[i] = run.c.shmem[s.h - 1] ?? 0;
    run.drop(s.h);
  } else if (s?.t === 'page') {
    // A page retained by a partial backup: copied, then freed.
    block.values[i] = s.v;
    run.freePage(s.id);
  } else {
    // NULL (purged): nothing to copy; the fresh page's content is unspecified (model: 0).
    block.values[i] = 0;
  }
  return 0;
}

/**
 * A copy failed: the block stays open for the next attempt, unless nothing of it was
 * restored yet, in which case it is freed and the restore closes it.
 */
function ttmPoolRestoreUnwind(run: TtRun, r: TtRestore, block: Block): void {
  const nr = 1 << r.order;
  if (r.restored_pages === 0) {
    for (let i = 0; i < nr; i++) run.freePage(block.head + i);
    r.restored_pages = nr;
    r.block = null;
  } else r.block = block;
}

/** The block is complete: its pages enter the page vector and the snapshot moves past it. */
function ttmPoolRestoreCommitBlock(run: TtRun, r: TtRestore, block: Block, alloc: AllocState): void {
  const nr = 1 << r.order;
  for (let i = 0; i < nr; i++) run.c.slots[alloc.pos + i] = { t: 'page', id: block.head + i, v: block.values[i] ?? 0 };
  // The committed pages are as the system gave them, write-back, until the restore completes
  // and ttm_pool_apply_caching gives every page tt->caching (spec A.4.3).
  run.c.pages_caching ??= 'cached';
  alloc.pos += nr;
  alloc.remaining -= nr;
  r.snap = { ...alloc };
  r.alloced_pages += nr;
  r.block = null;
}

/**
 * ttm_pool_restore_commit (A.4.4): copy the slots of the current block, from
 * restored_pages on, into the allocated block; commit it when complete.
 */
function ttmPoolRestoreCommit(run: TtRun, r: TtRestore, alloc: AllocState): number {
  const c = run.c;
  const nr = 1 << r.order;
  const block = r.block ?? { head: 0, values: [] };
  for (let i = r.restored_pages; i < nr; i++) {
    const idx = alloc.pos + i;
    const s = c.slots[idx] ?? null;
    // Handle 0: this slot was copied by an earlier attempt.
    if (s?.t === 'handle' && s.h === 0) {
      r.restored_pages += 1;
      continue;
    }
    const err = ttmPoolRestoreCopy(run, s, block, i);
    if (err) {
      ttmPoolRestoreUnwind(run, r, block);
      return err;
    }
    r.restored_pages += 1;
    c.slots[idx] = { t: 'handle', h: 0 };
  }
  ttmPoolRestoreCommitBlock(run, r, block, alloc);
  return 0;
}

/** A fresh struct ttm_pool_tt_restore: nothing allocated, no block open. */
function ttmPoolRestoreNew(numPages: number): TtRestore {
  return { snap: { pos: 0, remaining: numPages }, block: null, order: 0, restored_pages: 1, alloced_pages: 0 };
}

/**
 * __ttm_pool_alloc with a restore: allocate blocks of the largest order that fits,
 * falling back to lower orders, and restore each into the vector. An order-0 failure
 * returns -ENOMEM and (error_free_all with tt->restore set) frees nothing.
 */
function ttmPoolAllocRestore(run: TtRun, r: TtRestore, alloc: AllocState): number {
  return run.allocBlocks(
    'ttm.restore_alloc',
    () => alloc.remaining,
    (head, order) => {
      // ttm_pool_page_allocated_restore
      r.order = order;
      r.block = { head, values: [] };
      r.restored_pages = 0;
      r.snap = { ...alloc };
      return ttmPoolRestoreCommit(run, r, alloc);
    },
  );
}

/**
 * Restore complete: BACKED_UP cleared; the caller (ttm_tt_populate) sets POPULATED. With
 * `applyCaching` (every path but the unfixed F1 return, spec A.9) ttm_pool_apply_caching
 * gives the pages tt->caching; without it the new pages stay as the system gave them: WB.
 */
function ttmPoolRestoreDone(run: TtRun, applyCaching = true): TtResult {
  run.c.flags.backed_up = false;
  run.c.flags.populated = true;
  run.c.pages_caching = applyCaching ? run.c.caching : 'cached';
  return run.done(0);
}

/**
 * ttm_tt_restore → ttm_pool_restore_and_alloc (A.4.3), as called from a driver's
 * populate callback: on success BACKED_UP is cleared and the caller (ttm_tt_populate)
 * sets POPULATED. Sites: ttm.restore_alloc (the restore struct, then one pass per block
 * allocation attempt), ttm.copy_page (one pass per handle read back).
 */
export function ttRestore(ctx: TtContext, plan: FaultPlan): TtResult {
  const run = new TtRun(ctx, plan);
  const c = run.c;
  if (!c.flags.backed_up) return run.done(EINVAL);
  let r = c.restore;
  let alloc: AllocState;
  if (r === null) {
    if (run.pass('ttm.restore_alloc')) return run.done(ENOMEM);
    r = ttmPoolRestoreNew(c.num_pages);
    c.restore = r;
    alloc = { pos: 0, remaining: c.num_pages };
  } else {
    // Resume: finish the block an earlier attempt left open.
    alloc = { ...r.snap };
    if (restoreValid(r)) {
      const err = ttmPoolRestoreCommit(run, r, alloc);
      if (err) return run.done(err);
    }
    if (alloc.remaining === 0) {
      // Spec A.9 F1: the fix applies caching and frees tt->restore; the unfixed code returns with it attached.
      if (c.variant === 'fixed') c.restore = null;
      return ttmPoolRestoreDone(run, c.variant === 'fixed');
    }
  }
  const err = ttmPoolAllocRestore(run, r, alloc);
  if (err) return run.done(err);
  c.restore = null;
  return ttmPoolRestoreDone(run);
}

/** ttm_pool_drop_backed_up (A.4.5): free the open block, the restored pages and every remaining page or handle. */
export function ttmPoolDropBackedUp(run: TtRun): void {
  const c = run.c;
  const r = c.restore;
  let start = 0;
  if (r) {
    if (restoreValid(r) && r.block) {
      for (let i = 0; i < 1 << r.order; i++) run.freePage(r.block.head + i);
      r.restored_pages = 1 << r.order;
      r.block = null;
    }
    run.freeRange(0, r.alloced_pages);
    start = r.alloced_pages;
    c.restore = null;
  }
  run.freeRange(start, c.num_pages);
}
