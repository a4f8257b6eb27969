/**
 * Spec B.6: the candidate conformance scenarios of TTM page backup, one describe each,
 * with the expected values the spec states (A.4–A.7, A.9).
 */
import { describe, expect, it } from 'vitest';
import { TTM_INVARIANTS, checkTtm } from '../../src/invariants/ttm.js';
import { E, fillTt, readTt, Sim, stateOf, ttCtx } from './ttm-harness.js';

const CONTENT = [0x11, 0x22, 0x33, 0x44];

/** A 4-page backup-capable tt (one order-2 block), populated and written with CONTENT. */
function written(variants: ConstructorParameters<typeof Sim>[0] = {}, pages = 4): { s: Sim; tt: number } {
  const s = new Sim(variants);
  const tt = s.createTt({ num_pages: pages, caching: 'wc', backup: true });
  expect(s.ret('ttm.populate', { tt })).toBe(0);
  fillTt(s, tt, CONTENT.slice(0, pages));
  return { s, tt };
}

describe('spec B.6 1: populate → backup (full) → restore', () => {
  it('spec A.4.2, A.5: a full backup returns the number of pages and leaves BACKED_UP, not POPULATED', () => {
    const { s, tt } = written();
    expect(s.ret('ttm.backup', { tt })).toBe(4);
    const c = ttCtx(s, tt);
    expect(c.flags).toEqual({ populated: false, backed_up: true, swapped: false });
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('backedUp.full');
    // Slot i holds handle i + 1 (A.2.3): the shmem index is the page index.
    expect(c.slots).toEqual([1, 2, 3, 4].map((h) => ({ t: 'handle', h })));
  });

  it('spec B.6 1: restore → identical content, POPULATED and not BACKED_UP, no handle left in the backup file', () => {
    const { s, tt } = written();
    s.ret('ttm.backup', { tt });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    expect(readTt(s, tt, 4)).toEqual(CONTENT);
    const c = ttCtx(s, tt);
    expect(c.flags).toEqual({ populated: true, backed_up: false, swapped: false });
    expect(c.shmem).toEqual({});
    expect(c.restore).toBeNull();
    expect(checkTtm(s.world)).toEqual([]);
  });
});

describe('spec B.6 2: partial backup', () => {
  it('spec A.4.2 step 9: a page failing after k = 2 pages → returns 2; BACKED_UP, not POPULATED', () => {
    const { s, tt } = written();
    s.fault('ttm.backup_page', { after: 2, errno: 'ENOSPC' });
    expect(s.ret('ttm.backup', { tt })).toBe(2);
    const c = ttCtx(s, tt);
    expect(c.flags.backed_up).toBe(true);
    expect(c.flags.populated).toBe(false);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('backedUp.partial');
    expect(c.slots.map((x) => x?.t)).toEqual(['handle', 'handle', 'page', 'page']);
  });

  it('spec A.4.2 [DERIVED]: a second backup of a partially backed-up tt → -EINVAL (not -EBUSY, not a retry)', () => {
    const { s, tt } = written();
    s.fault('ttm.backup_page', { after: 2 });
    s.ret('ttm.backup', { tt });
    expect(s.ret('ttm.backup', { tt })).toBe(E.EINVAL);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('backedUp.partial');
  });

  it('spec B.6 2: restore of the partial backup → identical content (retained pages copied, handles read back)', () => {
    const { s, tt } = written();
    s.fault('ttm.backup_page', { after: 2 });
    s.ret('ttm.backup', { tt });
    expect(s.ret('ttm.restore', { tt, interruptible: false })).toBe(0);
    expect(readTt(s, tt, 4)).toEqual(CONTENT);
    expect(checkTtm(s.world)).toEqual([]);
  });
});

describe('spec B.6 3: interrupted restore', () => {
  it('spec A.4.4: -EINTR after 2 pages of the 4-page block leaves the block open; resume → identical content', () => {
    const { s, tt } = written();
    s.ret('ttm.backup', { tt });
    s.fault('ttm.copy_page', { after: 2, errno: 'EINTR' });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINTR);
    const c = ttCtx(s, tt);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.blockOpen');
    expect(c.restore?.order).toBe(2);
    expect(c.restore?.restored_pages).toBe(2);
    // Slots of copied pages hold the handle-0 marker; their handles were dropped (A.4.4).
    expect(c.slots.slice(0, 2)).toEqual([
      { t: 'handle', h: 0 },
      { t: 'handle', h: 0 },
    ]);
    expect(Object.keys(c.shmem).map(Number)).toEqual([2, 3]);
    expect(checkTtm(s.world)).toEqual([]);
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    expect(readTt(s, tt, 4)).toEqual(CONTENT);
    expect(ttCtx(s, tt).restore).toBeNull();
  });

  it('spec A.4.4: an interrupt before any page of a block frees the block; the resume allocates it again', () => {
    const { s, tt } = written();
    s.ret('ttm.backup', { tt });
    s.fault('ttm.copy_page', { after: 0, errno: 'EINTR' });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINTR);
    const c = ttCtx(s, tt);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.betweenBlocks');
    // restored_pages = 1 << order: not "valid"; the block's pages are freed, no page is held.
    expect(c.restore?.restored_pages).toBe(1 << c.restore!.order);
    expect(Object.keys(c.ledger.live)).toEqual([]);
    expect(c.slots).toEqual([1, 2, 3, 4].map((h) => ({ t: 'handle', h })));
    const before = c.ledger.next_page;
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    expect(ttCtx(s, tt).ledger.next_page).toBe(before + 4);
    expect(readTt(s, tt, 4)).toEqual(CONTENT);
  });

  it('spec A.4.3: an interrupted restore is resumed as many times as it is interrupted', () => {
    const { s, tt } = written();
    s.ret('ttm.backup', { tt });
    for (let i = 0; i < 3; i++) {
      s.fault('ttm.copy_page', { after: 1, errno: 'EINTR' });
      expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINTR);
      expect(checkTtm(s.world)).toEqual([]);
    }
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    expect(readTt(s, tt, 4)).toEqual(CONTENT);
  });
});

describe('spec B.6 4: restore interrupted in the last block, resumed, then backed up and restored again (A.9 F1)', () => {
  function cycle(variant: 'fixed' | 'unfixed-restore-drop') {
    // 3 pages: an order-1 block, then an order-0 one; 2 pages: one order-1 (last) block.
    const { s, tt } = written({ ttm: variant }, 2);
    s.ret('ttm.backup', { tt });
    s.fault('ttm.copy_page', { after: 1, errno: 'EINTR' });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINTR);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.blockOpen');
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    const afterResume = ttCtx(s, tt).restore;
    expect(s.ret('ttm.backup', { tt })).toBe(2);
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(0);
    return { s, tt, afterResume };
  }

  it('spec A.9 F1 (fixed): the completed resume frees tt->restore, and the second cycle restores the content', () => {
    const { s, tt, afterResume } = cycle('fixed');
    expect(afterResume).toBeNull();
    expect(readTt(s, tt, 2)).toEqual(CONTENT.slice(0, 2));
    expect(checkTtm(s.world)).toEqual([]);
  });

  it('spec A.9 F1 (unfixed-restore-drop): the stale restore makes the second restore "succeed" with handles still installed', () => {
    const { s, tt, afterResume } = cycle('unfixed-restore-drop');
    expect(afterResume).not.toBeNull();
    // "shmem handles are still installed in tt->pages" while the tt is POPULATED.
    expect(ttCtx(s, tt).slots.every((x) => x?.t === 'handle')).toBe(true);
    expect(readTt(s, tt, 2)).toBe(E.EFAULT);
    expect(TTM_INVARIANTS['ttm.state-predicate']!(s.world)).not.toEqual([]);
  });
});

describe('spec B.6 5: destroy (ttm_tt_fini) of a backed-up tt frees everything once', () => {
  const cases: [string, (s: Sim, tt: number) => void][] = [
    ['BACKED_UP_FULL', (s, tt) => s.ret('ttm.backup', { tt })],
    [
      'BACKED_UP_PARTIAL',
      (s, tt) => {
        s.fault('ttm.backup_page', { after: 1 });
        s.ret('ttm.backup', { tt });
      },
    ],
    [
      'RESTORING',
      (s, tt) => {
        s.ret('ttm.backup', { tt });
        s.fault('ttm.restore_alloc', { after: 1, count: 3 });
        expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.ENOMEM);
        expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.betweenBlocks');
      },
    ],
    [
      'RESTORING_BLOCK_OPEN',
      (s, tt) => {
        s.ret('ttm.backup', { tt });
        s.fault('ttm.copy_page', { after: 3 });
        s.ret('ttm.restore', { tt, interruptible: true });
        expect(stateOf(s, `ttm.tt#${tt}`)).toBe('restoring.blockOpen');
      },
    ],
    [
      'RESTORING with committed blocks (3 pages: order-1 block done, order-0 block failed)',
      (s, tt) => {
        s.ret('ttm.backup', { tt });
        s.fault('ttm.copy_page', { after: 2 });
        s.ret('ttm.restore', { tt, interruptible: true });
      },
    ],
  ];
  for (const [name, reach] of cases)
    it(`spec A.4.5: fini in ${name} → every page freed once, every handle ≥ 1 dropped once, restore freed, backup released`, () => {
      const { s, tt } = written({}, name.includes('3 pages') ? 3 : 4);
      reach(s, tt);
      expect(s.ret('ttm.fini', { tt })).toBe(0);
      const c = ttCtx(s, tt);
      expect(c.ledger.live).toEqual({});
      expect(c.ledger.bad_frees).toBe(0);
      expect(c.ledger.bad_drops).toBe(0);
      expect(c.shmem).toEqual({});
      expect(c.restore).toBeNull();
      expect(c.backup).toBe(false);
      expect(stateOf(s, `ttm.tt#${tt}`)).toBe('destroyed');
      expect(checkTtm(s.world)).toEqual([]);
    });
});

describe('spec B.6 6: purge', () => {
  it('spec A.4.2 steps 4–5: purge frees every page (returns the count), slots NULL, BACKED_UP', () => {
    const { s, tt } = written();
    expect(s.ret('ttm.backup', { tt, purge: true })).toBe(4);
    const c = ttCtx(s, tt);
    expect(c.slots).toEqual([null, null, null, null]);
    expect(c.flags).toEqual({ populated: false, backed_up: true, swapped: false });
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('purged');
    expect(c.shmem).toEqual({});
  });

  it('spec A.10: the driver clears BACKED_UP and re-allocates: content not preserved', () => {
    const { s, tt } = written();
    s.ret('ttm.backup', { tt, purge: true });
    expect(s.ret('ttm.populate', { tt })).toBe(E.EINVAL);
    expect(s.ret('ttm.clear_backed_up', { tt })).toBe(0);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('unpopulated');
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    const back = readTt(s, tt, 4) as number[];
    expect(back).not.toEqual(CONTENT);
    expect(checkTtm(s.world)).toEqual([]);
  });

  it('spec A.4.2: purge needs no swap space', () => {
    const { s, tt } = written();
    s.fault('ttm.no_swap');
    expect(s.ret('ttm.backup', { tt, purge: true })).toBe(4);
  });
});

describe('spec B.6 7: when backup is refused', () => {
  it('spec A.4.2 step 2: no swap space and not purge → -EBUSY, the tt stays POPULATED with its content', () => {
    const { s, tt } = written();
    s.fault('ttm.no_swap');
    expect(s.ret('ttm.backup', { tt })).toBe(E.EBUSY);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
    expect(readTt(s, tt, 4)).toEqual(CONTENT);
  });

  it('spec A.4.2 step 2: a DMA-coherent pool → -EBUSY (purge too)', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'uc', backup: true, dma_alloc: true });
    s.ret('ttm.populate', { tt });
    expect(s.ret('ttm.backup', { tt })).toBe(E.EBUSY);
    expect(s.ret('ttm.backup', { tt, purge: true })).toBe(E.EBUSY);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
  });

  it('spec A.5: tt->backup == NULL → 0 (WARN), nothing backed up', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'cached', backup: false });
    s.ret('ttm.populate', { tt });
    expect(s.ret('ttm.backup', { tt })).toBe(0);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('populated');
  });
});

describe('spec B.6 8: allocation and restore refuse the wrong state', () => {
  it('spec A.4.1: ttm_pool_alloc (populate) of a backed-up tt → -EINVAL', () => {
    const { s, tt } = written();
    s.ret('ttm.backup', { tt });
    expect(s.ret('ttm.populate', { tt })).toBe(E.EINVAL);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('backedUp.full');
  });

  it('spec A.4.3 step 1: ttm_pool_restore_and_alloc of a tt that is not backed up → -EINVAL', () => {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 2, caching: 'wc', backup: true });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINVAL);
    s.ret('ttm.populate', { tt });
    expect(s.ret('ttm.restore', { tt, interruptible: true })).toBe(E.EINVAL);
  });
});

describe('spec B.6 9: legacy swap', () => {
  function legacy(): { s: Sim; tt: number } {
    const s = new Sim();
    const tt = s.createTt({ num_pages: 3, caching: 'cached', backup: false });
    s.ret('ttm.populate', { tt });
    fillTt(s, tt, [7, 8, 9]);
    return { s, tt };
  }

  it('spec A.5: swapout → returns num_pages; SWAPPED, unpopulated', () => {
    const { s, tt } = legacy();
    expect(s.ret('ttm.swapout', { tt })).toBe(3);
    expect(ttCtx(s, tt).flags).toEqual({ populated: false, backed_up: false, swapped: true });
    expect(ttCtx(s, tt).slots).toEqual([null, null, null]);
  });

  it('spec A.5: populate of a SWAPPED tt → swapin → POPULATED, not SWAPPED, content back', () => {
    const { s, tt } = legacy();
    s.ret('ttm.swapout', { tt });
    expect(s.ret('ttm.populate', { tt })).toBe(0);
    expect(ttCtx(s, tt).flags).toEqual({ populated: true, backed_up: false, swapped: false });
    expect(ttCtx(s, tt).swap_storage).toBeNull();
    expect(readTt(s, tt, 3)).toEqual([7, 8, 9]);
  });

  it('spec A.5: swapin with a NULL target page → -ENOMEM, still SWAPPED', () => {
    const { s, tt } = legacy();
    s.ret('ttm.swapout', { tt });
    expect(s.ret('ttm.swapin', { tt })).toBe(E.ENOMEM);
    expect(stateOf(s, `ttm.tt#${tt}`)).toBe('swapped');
  });
});

describe('spec B.6 10: ttm_bo_shrink error mapping', () => {
  it('spec A.6.1: a backup error other than -EINTR → -EBUSY', () => {
    const { s, tt } = written();
    s.fault('ttm.backup_page', { errno: 'ENOSPC' });
    expect(s.ret('ttm.shrink', { tt })).toBe(E.EBUSY);
    s.fault('ttm.no_swap');
    expect(s.ret('ttm.shrink', { tt })).toBe(E.EBUSY);
  });

  it('spec A.6.1: -EINTR passes through', () => {
    const { s, tt } = written();
    s.fault('ttm.backup_page', { errno: 'EINTR' });
    expect(s.ret('ttm.shrink', { tt })).toBe(E.EINTR);
  });

  it('spec A.6.1: a successful shrink returns the pages backed up', () => {
    const { s, tt } = written();
    expect(s.ret('ttm.shrink', { tt })).toBe(4);
    expect(s.ret('ttm.shrink', { tt })).toBe(E.EBUSY);
  });
});
