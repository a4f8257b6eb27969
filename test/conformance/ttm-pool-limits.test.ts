/**
 * Spec B.2 / A.4.1 / A.4.3: the page-order cap of the pool's block allocations on a tt
 * larger than one maximal block (1024 pages), as the resumable restore allocates them;
 * spec B.1 / A.5: the legacy swap storage set by swapout and released by swapin.
 *
 * The model allocates blocks only on the restore path (`ttm.populate` takes all the
 * pages at once, with no block order to observe), so the cap is asserted on restores.
 * A block is observed through tt->restore after a copy fails on its first page: A.4.4
 * frees the block, keeps `order` ("order of alloced_page", A.2.4) and leaves
 * `alloced_pages` at the pages committed before it.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PAGE_ORDER } from '../../machines/ttm/pool.js';
import { checkTtm } from '../../src/invariants/ttm.js';
import { E, fillTt, readTt, Sim, stateOf, ttCtx } from './ttm-harness.js';

/**
 * MAX_PAGE_ORDER on x86-64 (include/linux/mmzone.h): 1024 pages. The spec names the
 * constant but not its value.
 */
const MAX_ORDER = 10;

/**
 * A backup-capable tt of `pages` pages, populated, written and fully backed up. Every
 * 7th page and the last one hold 0x1000 + i (every block of 8 pages or more gets one),
 * the others 0: the values every page must read back.
 */
function backedUp(pages: number): { s: Sim; tt: number; values: number[] } {
  const s = new Sim();
  const tt = s.createTt({ num_pages: pages, caching: 'wc', backup: true });
  expect(s.ret('ttm.populate', { tt })).toBe(0);
  const values = Array.from({ length: pages }, (_, i) => (i % 7 === 0 || i === pages - 1 ? 0x1000 + i : 0));
  values.forEach((value, page) => {
    if (value !== 0) expect(s.ret('gpu_write', { tt, page, value })).toBe(0);
  });
  // A.4.2 step 9: a full backup returns the number of pages backed up.
  expect(s.ret('ttm.backup', { tt })).toBe(pages);
  return { s, tt, values };
}

/**
 * Restore block by block: each attempt copies the block the previous attempt freed and
 * fails on the first page of the next one. Returns the first page and order of every
 * block the restore allocated, and leaves the tt restored.
 */
function restoreBlockByBlock(s: Sim, tt: number): { start: number; order: number }[] {
  const blocks: { start: number; order: number }[] = [];
  let after = 0;
  for (let attempt = 0; attempt < 64; attempt++) {
    s.fault('ttm.copy_page', { after, errno: 'EINTR' });
    const ret = s.ret('ttm.restore', { tt, interruptible: true });
    if (ret === 0) {
      s.disarm();
      return blocks;
    }
    expect(ret).toBe(E.EINTR);
    const r = ttCtx(s, tt).restore!;
    // A.4.4: "if restored_pages == 0 → free the allocated block … and set restored_pages = nr
    // (so the block is re-allocated on resume)".
    expect(r.restored_pages).toBe(1 << r.order);
    expect(r.block).toBeNull();
    blocks.push({ start: r.alloced_pages, order: r.order });
    after = 1 << r.order;
  }
  throw new Error('restore did not complete');
}

/** Every block at most MAX_ORDER, the blocks back to back from page 0 to the last page. */
function expectCappedCover(blocks: { start: number; order: number }[], pages: number): void {
  let next = 0;
  for (const b of blocks) {
    expect(b.order).toBeLessThanOrEqual(MAX_ORDER);
    expect(b.start).toBe(next);
    next += 1 << b.order;
  }
  expect(next).toBe(pages);
}

describe('spec B.2: blocks above the allocation limit (MAX_PAGE_ORDER)', () => {
  it('spec B.2: the model caps at MAX_PAGE_ORDER = 10 (x86-64), 1024 pages', () => {
    expect(MAX_PAGE_ORDER).toBe(MAX_ORDER);
  });

  it('spec B.2: 2048 pages ("Above the allocation limit", 2^(MAX_PAGE_ORDER+1)) → first block of order min(MAX_PAGE_ORDER, 11) = 10, none above; content survives', () => {
    // B.2 ttm_pool_alloc_basic "Above the allocation limit"(MAX_PAGE_ORDER+1): "`min(MAX_PAGE_ORDER, order)`
    // first block". A.4.1: "Loop from `min(MAX_PAGE_ORDER, __fls(remaining))` … else lower order";
    // A.4.3 step 4: the restore allocates through the same `__ttm_pool_alloc`.
    const { s, tt, values } = backedUp(2048);
    const blocks = restoreBlockByBlock(s, tt);
    expect(blocks[0]).toEqual({ start: 0, order: MAX_ORDER });
    expectCappedCover(blocks, 2048);
    // B.6 1: "populate → backup(full) → restore → content identical; flags POPULATED, ¬BACKED_UP;
    // backup file holds no handles".
    expect(readTt(s, tt, 2048)).toEqual(values);
    const c = ttCtx(s, tt);
    expect(c.flags).toEqual({ populated: true, backed_up: false, swapped: false });
    expect(c.restore).toBeNull();
    expect(c.shmem).toEqual({});
    expect(checkTtm(s.world)).toEqual([]);
  });

  it('spec B.2: 3000 pages (__fls = 11) → first block of order 10, every block ≤ 10 and back to back; content survives', () => {
    const { s, tt, values } = backedUp(3000);
    const blocks = restoreBlockByBlock(s, tt);
    expect(blocks[0]).toEqual({ start: 0, order: MAX_ORDER });
    expectCappedCover(blocks, 3000);
    expect(readTt(s, tt, 3000)).toEqual(values);
    expect(ttCtx(s, tt).shmem).toEqual({});
    expect(checkTtm(s.world)).toEqual([]);
  });

  it('spec B.2, A.4.4: an uninterrupted restore of 2048 pages opens a first block of 2^10 pages and commits exactly 1024 pages with it', () => {
    const { s, tt, values } = backedUp(2048);
    // Fail on page 1000: inside the first block (A.4.4: restored_pages > 0 → the block is kept open).
    const open = s.clone();
    open.fault('ttm.copy_page', { after: 1000 });
    expect(open.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINTR);
    expect(ttCtx(open, tt).restore).toMatchObject({ order: MAX_ORDER, restored_pages: 1000, alloced_pages: 0 });
    expect(stateOf(open, `ttm.tt#${tt}`)).toBe('restoring.blockOpen');
    // Fail on page 1024: the first block is complete and committed ("alloced_pages += nr").
    s.fault('ttm.copy_page', { after: 1024 });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINTR);
    expect(ttCtx(s, tt).restore?.alloced_pages).toBe(1 << MAX_ORDER);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.betweenBlocks');
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    expect(readTt(s, tt, 2048)).toEqual(values);
    expect(checkTtm(s.world)).toEqual([]);
  });

  it('spec A.4.1: above the limit a failing block allocation tries orders 10, 9, …, 0 (11 attempts), then -ENOMEM; restore kept, resumable', () => {
    // A.4.1: "Loop from `min(MAX_PAGE_ORDER, __fls(remaining))`: try pool type, else system alloc, else
    // lower order; order-0 failure → -ENOMEM". A.4.3: "On any error with tt->restore set: return r
    // without freeing anything".
    const { s, tt, values } = backedUp(2048);
    // The first pass is the restore struct (kzalloc); then every block allocation attempt fails.
    s.fault('ttm.restore_alloc', { after: 1, count: 20 });
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(E.ENOMEM);
    // 11 of the 20 armed failures consumed: orders 10..0, not 11..0.
    expect(s.world.faults?.['ttm.restore_alloc']).toMatchObject({ after: 0, count: 9 });
    const c = ttCtx(s, tt);
    expect(c.restore?.alloced_pages).toBe(0);
    expect(c.ledger.live).toEqual({});
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.betweenBlocks');
    s.disarm();
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(0);
    expect(readTt(s, tt, 2048)).toEqual(values);
    expect(checkTtm(s.world)).toEqual([]);
  });
});

describe('spec B.1: legacy swap storage', () => {
  function legacy(): { s: Sim; tt: number } {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 3, caching: 'cached', backup: false });
    // B.1 ttm_tt_init_basic: "`swap_storage == NULL`".
    expect(ttCtx(s, tt).swap_storage).toBeNull();
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    fillTt(s, tt, [7, 8, 9]);
    return { s, tt };
  }

  it('spec B.1 ttm_tt_swapin_basic: swapout → num_pages, swap_storage != NULL, SWAPPED; populate + swapin → swap_storage == NULL, SWAPPED cleared', () => {
    // B.1: "`ttm_tt_swapout(...)` returns `BO_SIZE>>PAGE_SHIFT`, `swap_storage != NULL`, SWAPPED set; then
    // `ttm_pool_alloc` (swapout depopulated) and `ttm_tt_swapin` → 0, `swap_storage == NULL`, SWAPPED cleared".
    const { s, tt } = legacy();
    expect(s.ret('ttm.swapout', { tt })).toBe(3);
    let c = ttCtx(s, tt);
    expect(c.swap_storage).not.toBeNull();
    // A.5 ttm_tt_swapout: "copy every non-NULL page", then ttm_tt_unpopulate.
    expect(c.swap_storage).toEqual({ 0: 7, 1: 8, 2: 9 });
    expect(c.flags).toEqual({ populated: false, backed_up: false, swapped: true });
    expect(c.ledger.live).toEqual({});
    // A.5 ttm_tt_populate: ttm_pool_alloc, then "if SWAPPED → ttm_tt_swapin()"; swapin "success `fput`, clear SWAPPED".
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    c = ttCtx(s, tt);
    expect(c.swap_storage).toBeNull();
    expect(c.flags).toEqual({ populated: true, backed_up: false, swapped: false });
    expect(readTt(s, tt, 3)).toEqual([7, 8, 9]);
  });

  it('spec A.5: a failed swapin keeps SWAPPED and the swap storage', () => {
    // A.5 ttm_tt_swapin: "NULL target → -ENOMEM … errors leave SWAPPED set; success `fput`".
    const { s, tt } = legacy();
    s.ret('ttm.swapout', { tt });
    expect(s.ret('ttm.swapin', { tt })).toBe(E.ENOMEM);
    const c = ttCtx(s, tt);
    expect(c.flags.swapped).toBe(true);
    expect(c.swap_storage).toEqual({ 0: 7, 1: 8, 2: 9 });
  });

  it('spec B.1 ttm_tt_fini_shmem: fini of a SWAPPED tt releases the swap storage (fput)', () => {
    // B.1: "swap_storage set to a shmem file → NULL after fini (fput)".
    const { s, tt } = legacy();
    s.ret('ttm.swapout', { tt });
    expect(ttCtx(s, tt).swap_storage).not.toBeNull();
    expect(s.ret('ttm.fini', { tt })).toBe(0);
    expect(ttCtx(s, tt).swap_storage).toBeNull();
  });
});
