/**
 * Spec A.4–A.6: every error return of the TTM functions the model runs, and the state
 * each leaves (A.7 "errors leave state unchanged unless stated").
 */
import { describe, expect, it } from 'vitest';
import { ttPopulate } from '../../machines/ttm/pool.js';
import { checkTtm } from '../../src/invariants/ttm.js';
import { E, fillTt, readTt, Sim, stateOf, ttCtx } from './ttm-harness.js';

function backedUp(pages = 4): { s: Sim; tt: number } {
  const s = new Sim();
  const tt = s.createTt({ num_pages: pages, caching: 'cached', backup: true });
  s.ret('ttm.populate', { tt });
  fillTt(
    s,
    tt,
    Array.from({ length: pages }, (_, i) => 100 + i),
  );
  expect(s.ret('ttm.backup', { tt })).toBe(pages);
  return { s, tt };
}

describe('spec A.4.2 ttm_pool_backup', () => {
  it('spec A.4.2 step 1: an already backed-up tt → -EINVAL before the swap-space check (no ttm.no_swap pass)', () => {
    const { s, tt } = backedUp();
    s.fault('ttm.no_swap');
    expect(s.ret('ttm.backup', { tt })).toBe(E.EINVAL);
    expect(s.world.faults?.['ttm.no_swap']).toEqual({ errno: 28, after: 0, count: 1 });
  });

  it('spec A.4.2 step 9: the first page fails → that errno, the tt stays POPULATED with its content', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'wc', backup: true });
    s.ret('ttm.populate', { tt });
    fillTt(s, tt, [5, 6]);
    s.fault('ttm.backup_page', { errno: 'ENOSPC' });
    expect(s.ret('ttm.backup', { tt })).toBe(E.ENOSPC);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
    expect(readTt(s, tt, 2)).toEqual([5, 6]);
  });

  it('spec A.4.2 step 9: a tt with no pages → 0, nothing changes', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'wc', backup: true });
    expect(s.ret('ttm.backup', { tt })).toBe(0);
    expect(s.ret('ttm.backup', { tt, purge: true })).toBe(0);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('unpopulated');
  });

  it('spec A.4.2 step 8: a backed-up page is released at once (the pages of the handles are freed)', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 3, caching: 'wc', backup: true });
    s.ret('ttm.populate', { tt });
    s.fault('ttm.backup_page', { after: 1 });
    expect(s.ret('ttm.backup', { tt })).toBe(1);
    expect(Object.keys(ttCtx(s, tt).ledger.live)).toHaveLength(2);
  });
});

describe('spec A.4.1 ttm_pool_alloc (populate)', () => {
  it('spec A.4.1, A.7: an order-0 failure → -ENOMEM; the pages taken so far are freed and the tt stays UNPOPULATED; a retry populates it', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 6, caching: 'wc', backup: true });
    // the order-2 block (pages 0-3) succeeds; for the 2 pages left order 1 fails, then order 0
    s.fault('ttm.alloc', { after: 1, count: 2 });
    expect(s.ret('ttm.populate', { tt })).toBe(E.ENOMEM);
    const c = ttCtx(s, tt);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('unpopulated');
    expect(c.slots.every((x) => x === null)).toBe(true);
    expect(Object.keys(c.ledger.live)).toHaveLength(0);
    expect(checkTtm(s.world)).toEqual([]);
    // the kernel function itself (the machine keeps the tt as it was): four pages taken, all freed
    const run = ttPopulate(c, { 'ttm.alloc': { errno: 12, after: 1, count: 2 } });
    expect(run.ret).toBe(E.ENOMEM);
    expect(run.ctx.ledger.next_page - c.ledger.next_page).toBe(4);
    expect([Object.keys(run.ctx.ledger.live).length, run.ctx.ledger.bad_frees]).toEqual([0, 0]);
    expect(run.ctx.slots.every((x) => x === null)).toBe(true);
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
  });

  it('spec A.4.1: a failed block is retried one order lower: a failure at order 1 of two pages populates them as two order-0 blocks', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'wc', backup: true });
    s.fault('ttm.alloc', { count: 1 });
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    expect(Object.keys(ttCtx(s, tt).ledger.live)).toHaveLength(2);
    expect(s.world.faults?.['ttm.alloc']).toBeUndefined();
  });

  it('spec A.4.1, A.5: a SWAPPED tt whose allocation fails stays SWAPPED, its swap file kept (-ENOMEM)', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: false });
    s.ret('ttm.populate', { tt });
    fillTt(s, tt, [7, 8]);
    expect(s.ret('ttm.swapout', { tt })).toBe(2);
    s.fault('ttm.alloc', { count: 2 });
    expect(s.ret('ttm.populate', { tt })).toBe(E.ENOMEM);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('swapped');
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    expect(readTt(s, tt, 2)).toEqual([7, 8]);
  });
});

describe('spec A.4.3 ttm_pool_restore_and_alloc', () => {
  it('spec A.4.3 step 2: the restore struct cannot be allocated → -ENOMEM, tt unchanged (restore NULL)', () => {
    const { s, tt } = backedUp();
    s.fault('ttm.restore_alloc');
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(E.ENOMEM);
    expect(ttCtx(s, tt).restore).toBeNull();
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('backedUp.full');
  });

  it('spec A.4.1: a failed block allocation is retried one order lower; only order 0 failing is -ENOMEM', () => {
    const { s, tt } = backedUp();
    // kzalloc passes; order 2 fails once; order 1 then succeeds, and every later block too.
    s.fault('ttm.restore_alloc', { after: 1 });
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(0);
    expect(readTt(s, tt, 4)).toEqual([100, 101, 102, 103]);
  });

  it('spec A.4.3: an order-0 allocation failure → -ENOMEM, tt->restore kept with what was committed', () => {
    const { s, tt } = backedUp(3);
    // kzalloc, the order-1 block pass; then order 0 fails (the order stays lowered: min(order, fls)).
    s.fault('ttm.restore_alloc', { after: 2 });
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(E.ENOMEM);
    const c = ttCtx(s, tt);
    expect(c.restore?.alloced_pages).toBe(2);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.betweenBlocks');
    expect(checkTtm(s.world)).toEqual([]);
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(0);
    expect(readTt(s, tt, 3)).toEqual([100, 101, 102]);
  });

  it('spec A.4.4: a failed copy does not drop its handle; the next restore copies it', () => {
    const { s, tt } = backedUp(2);
    s.fault('ttm.copy_page', { after: 1, errno: 'ENOMEM' });
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(E.ENOMEM);
    expect(Object.keys(ttCtx(s, tt).shmem).map(Number)).toEqual([1]);
    expect(ttCtx(s, tt).slots[1]).toEqual({ t: 'handle', h: 2 });
  });

  it('spec A.5: a restore error leaves BACKED_UP set and restore attached; populate is still refused', () => {
    const { s, tt } = backedUp(2);
    s.fault('ttm.copy_page', { after: 1 });
    s.ret('ttm.restore', { tt, interruptible: true });
    expect(ttCtx(s, tt).flags.backed_up).toBe(true);
    expect(s.ret('ttm.populate', { tt })).toBe(E.EINVAL);
    expect(s.ret('ttm.backup', { tt })).toBe(E.EINVAL);
  });
});

describe('spec A.5 ttm_tt layer', () => {
  it('spec A.5: populate of a populated tt → 0 (no-op), the pages and content kept', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'wc', backup: true });
    s.ret('ttm.populate', { tt });
    fillTt(s, tt, [1, 2]);
    const pages = ttCtx(s, tt).slots;
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    expect(ttCtx(s, tt).slots).toEqual(pages);
  });

  it('spec A.5: unpopulate of a backed-up tt is a no-op (the handles are not freed)', () => {
    const { s, tt } = backedUp(2);
    expect(s.ret('ttm.unpopulate', { tt })).toBe(0);
    expect(Object.keys(ttCtx(s, tt).shmem)).toHaveLength(2);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('backedUp.full');
  });

  it('spec A.5: a legacy swapout copy error → that errno, tt unchanged and still populated', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: false });
    s.ret('ttm.populate', { tt });
    fillTt(s, tt, [3, 4]);
    s.fault('ttm.backup_page', { after: 1, errno: 'ENOSPC' });
    expect(s.ret('ttm.swapout', { tt })).toBe(E.ENOSPC);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
    expect(readTt(s, tt, 2)).toEqual([3, 4]);
  });

  it('spec A.5: a swapin error during populate → unpopulated again, still SWAPPED, content still in the swap file', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: false });
    s.ret('ttm.populate', { tt });
    fillTt(s, tt, [3, 4]);
    s.ret('ttm.swapout', { tt });
    s.fault('ttm.copy_page', { after: 1, errno: 'ENOMEM' });
    expect(s.ret('ttm.populate', { tt })).toBe(E.ENOMEM);
    expect(ttCtx(s, tt).flags).toEqual({ populated: false, backed_up: false, swapped: true });
    expect(ttCtx(s, tt).ledger.live).toEqual({});
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    expect(readTt(s, tt, 2)).toEqual([3, 4]);
  });

  it('spec A.5 [DERIVED]: the two mechanisms are exclusive: a backup-capable (EXTERNAL) tt is never swapped the legacy way', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: true });
    s.ret('ttm.populate', { tt });
    expect(s.ret('ttm.swapout', { tt })).toBe(E.EBUSY);
  });

  it('spec A.6.4: swapout of a tt that is not populated, or already SWAPPED → -EBUSY', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: false });
    expect(s.ret('ttm.swapout', { tt })).toBe(E.EBUSY);
    s.ret('ttm.populate', { tt });
    s.ret('ttm.swapout', { tt });
    expect(s.ret('ttm.swapout', { tt })).toBe(E.EBUSY);
  });

  it('spec A.5: swapin of a tt that is not SWAPPED → refused (BUG_ON in the kernel; the model returns -EINVAL)', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: false });
    expect(s.ret('ttm.swapin', { tt })).toBe(E.EINVAL);
  });

  it('spec A.2.2: clear_backed_up of a tt that is not backed up is harmless (0)', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: true });
    expect(s.ret('ttm.clear_backed_up', { tt })).toBe(0);
    s.ret('ttm.populate', { tt });
    expect(s.ret('ttm.clear_backed_up', { tt })).toBe(0);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
  });

  it('model: clear_backed_up of a tt that still holds backed-up content → -EINVAL (it would orphan the handles)', () => {
    const { s, tt } = backedUp(2);
    expect(s.ret('ttm.clear_backed_up', { tt })).toBe(E.EINVAL);
  });

  it('spec A.5: fini of a POPULATED tt (ttm_bo_tt_destroy) frees its pages', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: true });
    s.ret('ttm.populate', { tt });
    expect(s.ret('ttm.fini', { tt })).toBe(0);
    expect(ttCtx(s, tt).ledger.live).toEqual({});
    expect(s.ret('ttm.populate', { tt })).toBe(E.EINVAL);
  });

  it('model: events on a tt that does not exist, and ttm.create bounds', () => {
    const s = new Sim();
    expect(s.ret('ttm.populate', { tt: 99 })).toBe(E.EINVAL);
    expect(s.call('ttm.create', { num_pages: 0 }).ret).toBe(E.EINVAL);
    expect(s.call('ttm.create', { num_pages: (1 << 20) + 1 }).ret).toBe(E.ENOMEM);
  });
});

describe('content events on a tt', () => {
  it('gpu_write / gpu_read need a populated tt (-EFAULT) and a page within it (-EINVAL)', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: true });
    expect(s.ret('gpu_write', { tt, page: 0, value: 1 })).toBe(E.EFAULT);
    s.ret('ttm.populate', { tt });
    expect(s.ret('gpu_write', { tt, page: 2, value: 1 })).toBe(E.EINVAL);
    expect(s.ret('gpu_write', { tt, page: 1, value: 9 })).toBe(0);
    expect(s.read({ tt, page: 1 })).toEqual({ ret: 0, value: 9 });
    expect(s.ret('gpu_write', { tt, obj: 3, page: 1, value: 9 })).toBe(E.EINVAL);
  });
});
