/**
 * The kernel algorithms behind one `struct ttm_tt` (spec A.3–A.6), as pure functions
 * over its context: `(context, arguments, fault plan) → { context, ret, plan }`.
 *
 * Both the tt machine (machines/ttm/tt.ts: its guards choose the target state from the
 * result, its assign action stores the result) and the handlers (src/ioctls/ttm/: the
 * return value and the fault passes consumed) run them, so the two always agree. The
 * input context is never changed (it may be a frozen value or an immer draft).
 *
 * The page vector (A.2.3) is `slots`: a real page `{t:'page', id, v}` (its 4 KiB page id
 * in the tt's page ledger and its u32 content), an encoded backup handle `{t:'handle', h}`
 * (h ≥ 1: the shmem page `h − 1` of the backup file; h = 0: the "already copied"
 * marker written by ttm_pool_restore_commit), or `null` (no page).
 */
import { current, isDraft } from 'immer';
import { consumePass, type FaultPlan } from '../../src/world/faults.js';

export type Caching = 'cached' | 'wc' | 'uc';

export type Slot = { t: 'page'; id: number; v: number } | { t: 'handle'; h: number } | null;

/** struct ttm_pool_tt_restore (A.2.4), reduced to what the algorithm reads. */
export interface TtRestore {
  /** snapshot_alloc: the next slot to fill (`pages − tt->pages`) and remaining_pages. */
  snap: { pos: number; remaining: number };
  /** alloced_page: the block allocated last, as the id of its head page and the content copied into it so far. */
  block: { head: number; values: number[] } | null;
  /** order of alloced_page. */
  order: number;
  /** 4 KiB pages of alloced_page already restored; the block is open while this is < 1 << order. */
  restored_pages: number;
  /** Pages committed into the page vector by this restore session. */
  alloced_pages: number;
}

/** Allocation and release of pages and shmem handles, to check "freed / dropped exactly once" (A.8 2, 3). */
export interface TtLedger {
  /** Next 4 KiB page id. */
  next_page: number;
  /** Pages allocated for this tt and not yet freed. */
  live: Record<number, true>;
  /** Frees of a page that was not live (a double free), and frees of a slot that holds no page. */
  bad_frees: number;
  /** ttm_backup_drop of a handle whose shmem page was already dropped (or of handle 0). */
  bad_drops: number;
}

export type TtVariant = 'fixed' | 'unfixed-restore-drop';

export interface TtContext {
  num_pages: number;
  caching: Caching;
  /** The device's pool uses the DMA-coherent allocator (ttm_pool_uses_dma_alloc). */
  dma_alloc: boolean;
  /** TTM_TT_FLAG_EXTERNAL | EXTERNAL_MAPPABLE (as Xe sets on backup-capable tts): never swapped the legacy way. */
  external: boolean;
  /** tt->backup: the shmem backup file (ttm_tt_setup_backup at creation) is attached. */
  backup: boolean;
  variant: TtVariant;
  flags: { populated: boolean; backed_up: boolean; swapped: boolean };
  slots: Slot[];
  /** Content of the backup file by shmem index (only pages not yet dropped). */
  shmem: Record<number, number>;
  /** tt->swap_storage of the legacy path: content by page index, or null. */
  swap_storage: Record<number, number> | null;
  restore: TtRestore | null;
  /** What the workload wrote and nothing has discarded on purpose: page → value (absent = 0). */
  content: Record<number, number>;
  ledger: TtLedger;
  destroyed: boolean;
}

export interface TtInput {
  num_pages: number;
  caching: Caching;
  dma_alloc: boolean;
  backup: boolean;
  variant: TtVariant;
}

export interface TtResult {
  ctx: TtContext;
  /** What the kernel function returns: 0, a count of pages, or a negative errno. */
  ret: number;
  /** The fault plan after the passes the operation made. */
  plan: FaultPlan;
}

/** MAX_PAGE_ORDER on x86-64 (include/linux/mmzone.h). */
export const MAX_PAGE_ORDER = 10;

const EINVAL = -22;
const ENOMEM = -12;
const EBUSY = -16;

export function initialTt(input: TtInput): TtContext {
  return {
    num_pages: input.num_pages,
    caching: input.caching,
    dma_alloc: input.dma_alloc,
    external: input.backup,
    backup: input.backup,
    variant: input.variant,
    flags: { populated: false, backed_up: false, swapped: false },
    slots: Array.from({ length: input.num_pages }, () => null),
    shmem: {},
    swap_storage: null,
    restore: null,
    content: {},
    ledger: { next_page: 1, live: {}, bad_frees: 0, bad_drops: 0 },
    destroyed: false,
  };
}

/** A private, mutable deep copy of a context (which may be frozen or an immer draft). */
function copy<T>(v: T): T {
  return structuredClone(isDraft(v) ? (current(v as never) as T) : v);
}

/** ttm_pool_restore_valid(): a restore whose current block is partly restored. */
export function restoreValid(r: TtRestore | null): boolean {
  return r !== null && r.restored_pages < 1 << r.order;
}

/** __fls(n): index of the most significant set bit (n > 0). */
function fls(n: number): number {
  return 31 - Math.clz32(n);
}

class Op {
  readonly c: TtContext;
  readonly plan: FaultPlan;
  constructor(ctx: TtContext, plan: FaultPlan) {
    this.c = copy(ctx);
    this.plan = copy(plan);
  }
  pass(site: Parameters<typeof consumePass>[1]): number {
    return consumePass(this.plan, site);
  }
  done(ret: number): TtResult {
    return { ctx: this.c, ret, plan: this.plan };
  }
  allocPages(n: number): number {
    const head = this.c.ledger.next_page;
    for (let i = 0; i < n; i++) this.c.ledger.live[head + i] = true;
    this.c.ledger.next_page += n;
    return head;
  }
  freePage(id: number): void {
    if (this.c.ledger.live[id]) delete this.c.ledger.live[id];
    else this.c.ledger.bad_frees += 1;
  }
  /** ttm_backup_drop() */
  drop(h: number): void {
    if (h >= 1 && Object.hasOwn(this.c.shmem, h - 1)) delete this.c.shmem[h - 1];
    else this.c.ledger.bad_drops += 1;
  }
  /**
   * ttm_pool_free_range(): a handle ≥ 1 is dropped, handle 0 skipped, a page freed;
   * every slot of the range is left NULL.
   */
  freeRange(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const s = this.c.slots[i];
      if (s?.t === 'handle') {
        if (s.h !== 0) this.drop(s.h);
      } else if (s?.t === 'page') this.freePage(s.id);
      this.c.slots[i] = null;
    }
  }
}

/** ttm_tt_populate → ttm_pool_alloc (+ legacy ttm_tt_swapin of a SWAPPED tt). Sites: ttm.copy_page (swapin). */
export function ttPopulate(ctx: TtContext, plan: FaultPlan): TtResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  if (c.flags.populated) return op.done(0);
  // ttm_pool_alloc: WARN_ON(ttm_tt_is_backed_up(tt)) → -EINVAL.
  if (c.flags.backed_up) return op.done(EINVAL);
  const head = op.allocPages(c.num_pages);
  for (let i = 0; i < c.num_pages; i++) c.slots[i] = { t: 'page', id: head + i, v: 0 };
  // Success of ttm_pool_alloc frees any (stale) restore state.
  c.restore = null;
  c.flags.populated = true;
  c.flags.backed_up = false;
  if (c.flags.swapped) {
    // ttm_tt_swapin: read every page back from the swap file.
    const storage = c.swap_storage ?? {};
    for (let i = 0; i < c.num_pages; i++) {
      const r = op.pass('ttm.copy_page');
      if (r) {
        op.freeRange(0, c.num_pages);
        c.flags.populated = false;
        return op.done(r);
      }
      const s = c.slots[i];
      if (s?.t === 'page') s.v = storage[i] ?? 0;
    }
    c.swap_storage = null;
    c.flags.swapped = false;
  }
  if (!ctx.flags.swapped) c.content = {};
  return op.done(0);
}

/** ttm_tt_unpopulate → ttm_pool_free. The pages and their content are released on request. */
export function ttUnpopulate(ctx: TtContext): TtResult {
  const op = new Op(ctx, {});
  if (!op.c.flags.populated) return op.done(0);
  op.freeRange(0, op.c.num_pages);
  op.c.flags.populated = false;
  op.c.content = {};
  return op.done(0);
}

/**
 * ttm_tt_backup → ttm_pool_backup (A.4.2, A.5). Sites: ttm.no_swap (one pass per call
 * that reaches the swap-space check), ttm.backup_page (one pass per page).
 */
export function ttBackup(ctx: TtContext, flags: { purge: boolean }, plan: FaultPlan): TtResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  // ttm_tt_backup: WARN_ON(IS_ERR_OR_NULL(tt->backup)) → 0.
  if (!c.backup) return op.done(0);
  if (c.flags.backed_up) return op.done(EINVAL);
  const noSwap = op.pass('ttm.no_swap') !== 0;
  if ((noSwap && !flags.purge) || c.dma_alloc) return op.done(EBUSY);
  let shrunken = 0;
  let ret = 0;
  if (flags.purge) {
    for (let i = 0; i < c.num_pages; i++) {
      const s = c.slots[i];
      if (s?.t !== 'page') continue;
      op.freePage(s.id);
      c.slots[i] = null;
      shrunken += 1;
    }
    if (shrunken > 0) c.content = {};
  } else {
    for (let i = 0; i < c.num_pages; i++) {
      const s = c.slots[i];
      if (s?.t !== 'page') continue;
      const r = op.pass('ttm.backup_page');
      if (r) {
        ret = r;
        break;
      }
      // ttm_backup_backup_page: shmem index i, handle i + 1; the page is released at once.
      c.shmem[i] = s.v;
      c.slots[i] = { t: 'handle', h: i + 1 };
      op.freePage(s.id);
      shrunken += 1;
    }
  }
  ret = shrunken ? shrunken : ret;
  if (ret > 0) {
    c.flags.populated = false;
    c.flags.backed_up = true;
  }
  return op.done(ret);
}

/**
 * ttm_pool_restore_commit (A.4.4): copy the slots of the current block, from
 * restored_pages on, into the allocated block; commit it when complete.
 */
function restoreCommit(op: Op, r: TtRestore, alloc: { pos: number; remaining: number }): number {
  const c = op.c;
  const nr = 1 << r.order;
  const block = r.block ?? { head: 0, values: [] };
  let ret = 0;
  for (let i = r.restored_pages; i < nr; i++) {
    const idx = alloc.pos + i;
    const s = c.slots[idx] ?? null;
    if (s?.t === 'handle') {
      if (s.h === 0) {
        r.restored_pages += 1;
        continue;
      }
      const e = op.pass('ttm.copy_page');
      if (e) {
        ret = e;
        break;
      }
      block.values[i] = c.shmem[s.h - 1] ?? 0;
      op.drop(s.h);
    } else if (s?.t === 'page') {
      // A page retained by a partial backup: copied, then freed.
      block.values[i] = s.v;
      op.freePage(s.id);
    } else {
      // NULL (purged): nothing to copy; the fresh page's content is unspecified (model: 0).
      block.values[i] = 0;
    }
    r.restored_pages += 1;
    c.slots[idx] = { t: 'handle', h: 0 };
  }
  if (ret) {
    if (r.restored_pages === 0) {
      for (let i = 0; i < nr; i++) op.freePage(block.head + i);
      r.restored_pages = nr;
      r.block = null;
    } else r.block = block;
    return ret;
  }
  for (let i = 0; i < nr; i++) c.slots[alloc.pos + i] = { t: 'page', id: block.head + i, v: block.values[i] ?? 0 };
  alloc.pos += nr;
  alloc.remaining -= nr;
  r.snap = { ...alloc };
  r.alloced_pages += nr;
  r.block = null;
  return 0;
}

/**
 * ttm_tt_restore → ttm_pool_restore_and_alloc (A.4.3), as called from a driver's
 * populate callback: on success BACKED_UP is cleared and the caller (ttm_tt_populate)
 * sets POPULATED. Sites: ttm.restore_alloc (the restore struct, then one pass per block
 * allocation attempt), ttm.copy_page (one pass per handle read back).
 */
export function ttRestore(ctx: TtContext, plan: FaultPlan): TtResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  if (!c.flags.backed_up) return op.done(EINVAL);
  let r = c.restore;
  let alloc: { pos: number; remaining: number };
  if (r === null) {
    if (op.pass('ttm.restore_alloc')) return op.done(ENOMEM);
    r = { snap: { pos: 0, remaining: c.num_pages }, block: null, order: 0, restored_pages: 1, alloced_pages: 0 };
    c.restore = r;
    alloc = { pos: 0, remaining: c.num_pages };
  } else {
    alloc = { ...r.snap };
    if (restoreValid(r)) {
      const e = restoreCommit(op, r, alloc);
      if (e) return op.done(e);
    }
    if (alloc.remaining === 0) {
      // Spec A.9 F1: the fix applies caching and frees tt->restore; the unfixed code returns with it attached.
      if (c.variant === 'fixed') c.restore = null;
      return finishRestore(op);
    }
  }
  // __ttm_pool_alloc with a restore.
  let order = Math.min(MAX_PAGE_ORDER, fls(alloc.remaining));
  while (alloc.remaining > 0) {
    order = Math.min(order, fls(alloc.remaining));
    if (op.pass('ttm.restore_alloc')) {
      if (order > 0) {
        order -= 1;
        continue;
      }
      // error_free_all: with tt->restore set, nothing is freed.
      return op.done(ENOMEM);
    }
    const nr = 1 << order;
    const head = op.allocPages(nr);
    // ttm_pool_page_allocated_restore
    r.order = order;
    r.block = { head, values: [] };
    r.restored_pages = 0;
    r.snap = { ...alloc };
    const e = restoreCommit(op, r, alloc);
    if (e) return op.done(e);
  }
  c.restore = null;
  return finishRestore(op);
}

function finishRestore(op: Op): TtResult {
  op.c.flags.backed_up = false;
  op.c.flags.populated = true;
  return op.done(0);
}

/** ttm_pool_drop_backed_up (A.4.5). */
function dropBackedUp(op: Op): void {
  const c = op.c;
  const r = c.restore;
  let start = 0;
  if (r) {
    if (restoreValid(r) && r.block) {
      for (let i = 0; i < 1 << r.order; i++) op.freePage(r.block.head + i);
      r.restored_pages = 1 << r.order;
      r.block = null;
    }
    op.freeRange(0, r.alloced_pages);
    start = r.alloced_pages;
    c.restore = null;
  }
  op.freeRange(start, c.num_pages);
}

/**
 * ttm_bo_tt_destroy: ttm_tt_unpopulate (frees a populated tt's pages), then ttm_tt_fini:
 * fput(swap_storage), ttm_pool_drop_backed_up when backed up, ttm_backup_fini.
 */
export function ttFini(ctx: TtContext): TtResult {
  const op = new Op(ctx, {});
  const c = op.c;
  if (c.flags.populated) {
    op.freeRange(0, c.num_pages);
    c.flags.populated = false;
  }
  c.swap_storage = null;
  c.flags.swapped = false;
  if (c.flags.backed_up) dropBackedUp(op);
  // ttm_backup_fini: fput(backup). Shmem pages never dropped stay in `shmem` as evidence.
  c.backup = false;
  c.content = {};
  c.destroyed = true;
  return op.done(0);
}

/** ttm_tt_clear_backed_up: clears BACKED_UP (the driver's way to re-validate a purged tt). */
export function ttClearBackedUp(ctx: TtContext): TtResult {
  const op = new Op(ctx, {});
  op.c.flags.backed_up = false;
  return op.done(0);
}

/** Whether ttm_tt_clear_backed_up is what the model accepts: a purged tt, or one that is not backed up. */
export function clearBackedUpAllowed(c: TtContext): boolean {
  return !c.flags.backed_up || (c.restore === null && c.slots.every((s) => s === null));
}

/**
 * Legacy swapout (A.6.4 checks of ttm_bo_swapout_cb, then ttm_tt_swapout, A.5): copy
 * every page to a new swap file, unpopulate, set SWAPPED; returns num_pages. Site:
 * ttm.backup_page (one pass per page copied).
 */
export function ttSwapout(ctx: TtContext, plan: FaultPlan): TtResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  if (c.external || !c.flags.populated || c.flags.swapped) return op.done(EBUSY);
  const storage: Record<number, number> = {};
  for (let i = 0; i < c.num_pages; i++) {
    const s = c.slots[i];
    if (s?.t !== 'page') continue;
    const e = op.pass('ttm.backup_page');
    if (e) return op.done(e);
    if (s.v !== 0) storage[i] = s.v;
  }
  op.freeRange(0, c.num_pages);
  c.flags.populated = false;
  c.swap_storage = storage;
  c.flags.swapped = true;
  return op.done(c.num_pages);
}

/** ttm_tt_swapin on its own (A.5): reads page 0 back, finds no page to copy into → -ENOMEM. Site: ttm.copy_page. */
export function ttSwapin(ctx: TtContext, plan: FaultPlan): TtResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  // BUG_ON(!swap_storage) in the kernel; the model refuses.
  if (!c.flags.swapped || c.swap_storage === null) return op.done(EINVAL);
  for (let i = 0; i < c.num_pages; i++) {
    const e = op.pass('ttm.copy_page');
    if (e) return op.done(e);
    const s = c.slots[i];
    if (s?.t !== 'page') return op.done(ENOMEM);
    s.v = c.swap_storage[i] ?? 0;
  }
  c.swap_storage = null;
  c.flags.swapped = false;
  return op.done(0);
}

/** A workload store into page `page` of a populated tt. */
export function ttWrite(ctx: TtContext, page: number, value: number): TtResult {
  const op = new Op(ctx, {});
  const s = op.c.slots[page];
  if (s?.t !== 'page' || !op.c.flags.populated) return op.done(-14);
  s.v = value;
  if (value === 0) delete op.c.content[page];
  else op.c.content[page] = value;
  return op.done(0);
}

/**
 * The A.7 state whose predicate the context satisfies (used by the invariants): the
 * state names of the machine.
 */
export function ttStateOf(c: TtContext): string {
  if (c.destroyed) return 'destroyed';
  if (c.flags.populated) return 'populated';
  if (c.flags.swapped) return 'swapped';
  if (c.flags.backed_up) {
    if (c.restore) return restoreValid(c.restore) ? 'restoring.blockOpen' : 'restoring.betweenBlocks';
    if (c.slots.every((s) => s === null)) return 'purged';
    return c.slots.some((s) => s?.t === 'page') ? 'backedUp.partial' : 'backedUp.full';
  }
  return 'unpopulated';
}
