/**
 * The kernel algorithms behind one `struct ttm_tt` (spec A.3–A.6), as pure functions
 * over its context: `(context, arguments, fault plan) → { context, ret, plan }`
 * (machines/algorithm.ts).
 *
 * Both the tt machine (machines/ttm/tt.ts: its guards choose the target state from the
 * result, its assign action stores the result) and the handlers (src/ioctls/ttm/: the
 * return value and the fault passes consumed) run them, so the two always agree. The
 * input context is never changed (it may be a frozen value or an immer draft).
 *
 * This module holds populate, unpopulate, destruction and the workload's stores, and
 * is the one entry point of the family; the rest lives next to it: the tt's context
 * (tt-context.ts), the page ledger (pool-pages.ts), ttm_pool_backup (pool-backup.ts),
 * the resumable restore (pool-restore.ts) and the legacy swap (tt-swap.ts).
 */
import type { FaultPlan } from '../../src/world/faults.js';
import { EINVAL, TtRun } from './pool-pages.js';
import { ttmPoolDropBackedUp } from './pool-restore.js';
import type { TtContext, TtResult } from './tt-context.js';
import { ttmTtSwapinPopulated } from './tt-swap.js';

export {
  type Caching,
  initialTt,
  restoreValid,
  type Slot,
  type TtContext,
  type TtInput,
  type TtLedger,
  type TtRestore,
  type TtResult,
  ttStateOf,
  type TtVariant,
} from './tt-context.js';
export { MAX_PAGE_ORDER } from './pool-pages.js';
export { ttBackup } from './pool-backup.js';
export { ttRestore } from './pool-restore.js';
export { ttSwapin, ttSwapout } from './tt-swap.js';

/**
 * ttm_tt_populate → ttm_pool_alloc (+ legacy ttm_tt_swapin of a SWAPPED tt). Sites: ttm.alloc
 * (one pass per block), ttm.copy_page (swapin).
 */
export function ttPopulate(ctx: TtContext, plan: FaultPlan): TtResult {
  const run = new TtRun(ctx, plan);
  const c = run.c;
  if (c.flags.populated) return run.done(0);
  // ttm_pool_alloc: WARN_ON(ttm_tt_is_backed_up(tt)) → -EINVAL.
  if (c.flags.backed_up) return run.done(EINVAL);
  const err = ttmPoolAlloc(run);
  if (err) return run.done(err);
  // Success of ttm_pool_alloc frees any (stale) restore state.
  c.restore = null;
  c.flags.populated = true;
  c.flags.backed_up = false;
  // ttm_pool_apply_caching: the new pages take tt->caching.
  c.pages_caching = c.caching;
  if (c.flags.swapped) {
    const err = ttmTtSwapinPopulated(run);
    if (err) return run.done(err);
  }
  if (!ctx.flags.swapped) c.content = {};
  return run.done(0);
}

/**
 * __ttm_pool_alloc without a restore (spec A.4.1): blocks of the largest order that fits the
 * pages left, a failed allocation retried one order lower; an order-0 failure is -ENOMEM, and
 * the pages taken so far are freed (the vector is all NULL again). Without a fault the pages
 * are one run of consecutive ids, as one allocation of them all would give.
 */
function ttmPoolAlloc(run: TtRun): number {
  const c = run.c;
  let pos = 0;
  const err = run.allocBlocks(
    'ttm.alloc',
    () => c.num_pages - pos,
    (head, order) => {
      for (let i = 0; i < 1 << order; i++) c.slots[pos + i] = { t: 'page', id: head + i, v: 0 };
      pos += 1 << order;
      return 0;
    },
  );
  if (err) run.freeRange(0, pos);
  return err;
}

/** ttm_tt_unpopulate → ttm_pool_free. The pages and their content are released on request. */
export function ttUnpopulate(ctx: TtContext): TtResult {
  const run = new TtRun(ctx, {});
  if (!run.c.flags.populated) return run.done(0);
  run.freeRange(0, run.c.num_pages);
  run.c.flags.populated = false;
  run.c.pages_caching = null;
  run.c.content = {};
  return run.done(0);
}

/**
 * ttm_bo_tt_destroy: ttm_tt_unpopulate (frees a populated tt's pages), then ttm_tt_fini:
 * fput(swap_storage), ttm_pool_drop_backed_up when backed up, ttm_backup_fini.
 */
export function ttFini(ctx: TtContext): TtResult {
  const run = new TtRun(ctx, {});
  const c = run.c;
  if (c.flags.populated) {
    run.freeRange(0, c.num_pages);
    c.flags.populated = false;
  }
  c.swap_storage = null;
  c.flags.swapped = false;
  if (c.flags.backed_up) ttmPoolDropBackedUp(run);
  // ttm_backup_fini: fput(backup). Shmem pages never dropped stay in `shmem` as evidence.
  c.backup = false;
  c.pages_caching = null;
  c.content = {};
  c.destroyed = true;
  return run.done(0);
}

/** ttm_tt_clear_backed_up: clears BACKED_UP (the driver's way to re-validate a purged tt). */
export function ttClearBackedUp(ctx: TtContext): TtResult {
  const run = new TtRun(ctx, {});
  run.c.flags.backed_up = false;
  return run.done(0);
}

/** Whether ttm_tt_clear_backed_up is what the model accepts: a purged tt, or one that is not backed up. */
export function clearBackedUpAllowed(c: TtContext): boolean {
  return !c.flags.backed_up || (c.restore === null && c.slots.every((s) => s === null));
}

/** A workload store into page `page` of a populated tt. */
export function ttWrite(ctx: TtContext, page: number, value: number): TtResult {
  const run = new TtRun(ctx, {});
  const s = run.c.slots[page];
  if (s?.t !== 'page' || !run.c.flags.populated) return run.done(-14);
  s.v = value;
  if (value === 0) delete run.c.content[page];
  else run.c.content[page] = value;
  return run.done(0);
}
