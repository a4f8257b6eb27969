/**
 * The `ttm.*` events (docs/ttm-i915-events.md): kernel-internal calls on one
 * `struct ttm_tt`, spec A.3–A.7. Each runs the tt's algorithm (machines/ttm/pool.ts)
 * with the armed faults of the sites it passes through, sends the event to the tt's
 * machine when the machine accepts it, stores the faults back and returns what the
 * kernel function returns (a count of pages for backup, swapout and shrink).
 */
import type { TtContext, TtVariant } from '../../../machines/ttm/pool.js';
import { ttSwapin } from '../../../machines/ttm/pool.js';
import { type TtEvent, ttMachine, ttResult } from '../../../machines/ttm/tt.js';
import { MAX_TT_PAGES, ttContextSpec } from '../../../machines/ttm/tt-context.js';
import { ERRNO } from '../../uapi/errno.js';
import { type FaultSite, planOf, storePlan } from '../../world/faults.js';
import { contextOf, createObject, registerMachine } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { liveObjectId, type NoFaults, objectNumber, registerInternal, sendWithFaults } from '../internal-objects.js';
import { bool, enumOf, u32 } from '../schema.js';

export const TT_KIND = 'ttm.tt';
registerMachine(TT_KIND, ttMachine, ttContextSpec);

/** enum ttm_caching, by the names the log uses. */
export const TTM_CACHING = { cached: 0, wc: 1, uc: 2 } as const;
const CACHING_NAMES = ['cached', 'wc', 'uc'] as const;

/** Largest tt the model creates (pages); larger requests fail as kvcalloc would (-ENOMEM). */
export { MAX_TT_PAGES };

/** The world id of tt number `n` (the `tt` of ttm.create's out), if it names a live tt. */
export function ttId(w: World, n: number): string | undefined {
  return liveObjectId(w, TT_KIND, n);
}

/** The number a world id of a tt carries (`ttm.tt#7` → 7). */
export const ttNumber: (id: string) => number = objectNumber;

const SITES: Record<TtEvent['type'], readonly FaultSite[]> = {
  POPULATE: ['ttm.alloc', 'ttm.copy_page'],
  UNPOPULATE: [],
  BACKUP: ['ttm.no_swap', 'ttm.backup_page'],
  RESTORE: ['ttm.restore_alloc', 'ttm.copy_page'],
  CLEAR_BACKED_UP: [],
  SWAPOUT: ['ttm.backup_page'],
  FINI: [],
  WRITE: [],
};

/** A tt event without its fault plan (the handler adds it). */
export type TtCall = NoFaults<TtEvent>;

/**
 * Run one tt event: its algorithm's return value, after the machine took the event
 * (or refused it: then nothing but the fault passes changed, and an accepted-looking
 * result of a refused event is the model's refusal, -EINVAL).
 */
export function ttEvent(w: World, id: string, e: TtCall): number {
  const sites = SITES[e.type];
  return sendWithFaults(w, id, e, sites, ttResult, (event: TtEvent) => ttRefused(w, id, event, sites));
}

/**
 * A tt event its machine refuses. Unlike an i915 object or an Xe BO, a tt's machine
 * refuses the calls the kernel refuses before doing anything (machines/ttm/tt.ts), so
 * the algorithm still runs: its errno is the call's, and its fault passes are kept.
 * Only ttm_tt_clear_backed_up, a void kernel function, can look accepted and be
 * refused (content left: the model's -EINVAL).
 */
function ttRefused(w: World, id: string, event: TtEvent, sites: readonly FaultSite[]): number {
  const r = ttResult(contextOf<TtContext>(w, id), event);
  if (r.ret >= 0) {
    if (event.type !== 'CLEAR_BACKED_UP') throw new Error(`ttm.tt ${id}: ${event.type} returned ${r.ret} but refused`);
    return -ERRNO.EINVAL;
  }
  if (sites.length) storePlan(w, sites, r.plan);
  return r.ret;
}

/** Wrap the common "look the tt up, run the event" shape. */
function onTt<A extends { tt: number }>(make: (a: A) => TtCall) {
  return (w: World, a: A): number => {
    const id = ttId(w, a.tt);
    if (!id) return -ERRNO.EINVAL;
    return ttEvent(w, id, make(a));
  };
}

const NO_TT = 'tt not a live ttm_tt (never created, or after ttm.fini) → -EINVAL (model)';

export const ttmCreate = registerInternal<{
  num_pages: number;
  caching: number;
  backup: boolean;
  dma_alloc: boolean;
  tt?: number;
}>({
  name: 'ttm.create',
  models:
    'a driver ttm_tt_create callback: ttm_tt_init, and with backup (as xe_ttm_tt_create) TTM_TT_FLAG_EXTERNAL | EXTERNAL_MAPPABLE and ttm_tt_setup_backup (spec A.2.1, A.5, A.10)',
  checks: ['num_pages 0 → -EINVAL', `num_pages above ${MAX_TT_PAGES} → -ENOMEM (page-vector allocation, model bound)`],
  args: { num_pages: u32, caching: enumOf(TTM_CACHING, 'ttm_'), backup: bool, dma_alloc: bool },
  out: ['tt'],
  run(w, a) {
    if (a.num_pages === 0) return -ERRNO.EINVAL;
    if (a.num_pages > MAX_TT_PAGES) return -ERRNO.ENOMEM;
    const id = createObject(w, TT_KIND, {
      num_pages: a.num_pages,
      caching: CACHING_NAMES[a.caching] ?? 'cached',
      backup: a.backup,
      dma_alloc: a.dma_alloc,
      variant: (w.variants.ttm ?? 'fixed') as TtVariant,
    });
    a.tt = ttNumber(id);
    return 0;
  },
});

export const ttmPopulate = registerInternal<{ tt: number }>({
  name: 'ttm.populate',
  models:
    'ttm_tt_populate → ttm_pool_alloc, and ttm_tt_swapin for a SWAPPED tt (spec A.4.1, A.5); fault sites ttm.alloc (one per block), ttm.copy_page (swapin)',
  checks: [
    NO_TT,
    'already populated → 0 (no-op)',
    'backed up (or purged, or restoring) → -EINVAL (ttm_pool_alloc: WARN_ON(ttm_tt_is_backed_up))',
    'ttm_pool_alloc: blocks of the largest order that fits, a failed one retried one order lower; an order-0 failure → -ENOMEM, the pages taken so far freed, the tt unchanged (a SWAPPED tt stays SWAPPED)',
    'SWAPPED: a swapin read fails → that errno; the tt is unpopulated again and stays SWAPPED',
  ],
  args: { tt: u32 },
  run: onTt(() => ({ type: 'POPULATE' })),
});

export const ttmUnpopulate = registerInternal<{ tt: number }>({
  name: 'ttm.unpopulate',
  models: 'ttm_tt_unpopulate → ttm_pool_free (spec A.4.6, A.5)',
  checks: [NO_TT, 'not populated (also backed up, purged, restoring, swapped) → 0 (no-op)'],
  args: { tt: u32 },
  run: onTt(() => ({ type: 'UNPOPULATE' })),
});

const BACKUP_CHECKS = [
  NO_TT,
  'no backup file (tt created without backup) → 0 (ttm_tt_backup: WARN_ON(IS_ERR_OR_NULL(tt->backup)))',
  'already backed up (partially, fully, purged or restoring) → -EINVAL (WARN_ON(ttm_tt_is_backed_up))',
  'no swap space (fault site ttm.no_swap) and not purge, or a DMA-alloc pool → -EBUSY',
  'purge → every page freed; returns the number freed',
  'a page fails to back up (fault site ttm.backup_page) → stop; returns the pages backed up so far if any (partial backup), else that errno',
];

export const ttmBackup = registerInternal<{ tt: number; purge: boolean; writeback: boolean }>({
  name: 'ttm.backup',
  models: 'ttm_tt_backup → ttm_pool_backup (spec A.4.2, A.5): returns pages backed up or freed (> 0), 0, or -errno',
  checks: BACKUP_CHECKS,
  args: { tt: u32, purge: bool, writeback: bool },
  run: onTt((a) => ({ type: 'BACKUP', purge: a.purge, writeback: a.writeback })),
});

export const ttmShrink = registerInternal<{ tt: number; purge: boolean; writeback: boolean }>({
  name: 'ttm.shrink',
  models:
    'ttm_bo_shrink with allow_move = false on an idle BO (spec A.6.1): ttm_tt_backup, then every error but -EINTR becomes -EBUSY',
  checks: [...BACKUP_CHECKS, 'a negative result other than -EINTR → -EBUSY'],
  args: { tt: u32, purge: bool, writeback: bool },
  run(w, a) {
    const id = ttId(w, a.tt);
    if (!id) return -ERRNO.EINVAL;
    const lret = ttEvent(w, id, { type: 'BACKUP', purge: a.purge, writeback: a.writeback });
    return lret < 0 && lret !== -ERRNO.EINTR ? -ERRNO.EBUSY : lret;
  },
});

export const ttmRestore = registerInternal<{ tt: number; interruptible: boolean }>({
  name: 'ttm.restore',
  models:
    'ttm_tt_restore → ttm_pool_restore_and_alloc as a driver populate callback calls it (xe_ttm_tt_populate): on success the tt is POPULATED, not BACKED_UP (spec A.4.3, A.4.4, A.5)',
  checks: [
    NO_TT,
    'not backed up → -EINVAL (WARN_ON(!ttm_tt_is_backed_up))',
    'fresh restore: the restore struct cannot be allocated (fault site ttm.restore_alloc) → -ENOMEM, nothing changed',
    'a block allocation fails at order 0 (ttm.restore_alloc; a higher order is retried one lower) → -ENOMEM, restore kept',
    'a handle read back fails (fault site ttm.copy_page) → that errno, restore kept; a block of which nothing was restored is freed',
    'resumed restore: continues the open block, then allocates from the snapshot',
  ],
  args: { tt: u32, interruptible: bool },
  run: onTt((a) => ({ type: 'RESTORE', interruptible: a.interruptible })),
});

export const ttmClearBackedUp = registerInternal<{ tt: number }>({
  name: 'ttm.clear_backed_up',
  models: 'ttm_tt_clear_backed_up (spec A.2.2, A.10: xe before re-allocating a purged tt)',
  checks: [
    NO_TT,
    'not backed up → 0 (no-op)',
    'backed up with content left (handles or retained pages) or a restore under way → -EINVAL (model: the void kernel function would orphan them; drivers call it only on purged tts)',
  ],
  args: { tt: u32 },
  run: onTt(() => ({ type: 'CLEAR_BACKED_UP' })),
});

export const ttmSwapout = registerInternal<{ tt: number }>({
  name: 'ttm.swapout',
  models:
    'legacy ttm_tt_swapout with the tt checks of ttm_bo_swapout_cb (spec A.5, A.6.4): returns num_pages; fault site ttm.backup_page (one pass per page)',
  checks: [
    NO_TT,
    'EXTERNAL (a backup-capable tt), not populated, or already SWAPPED → -EBUSY',
    'a page copy fails (fault site ttm.backup_page) → that errno, tt unchanged and populated',
  ],
  args: { tt: u32 },
  run: onTt(() => ({ type: 'SWAPOUT' })),
});

export const ttmSwapin = registerInternal<{ tt: number }>({
  name: 'ttm.swapin',
  models:
    'legacy ttm_tt_swapin on its own (spec A.5; ttm.populate of a SWAPPED tt runs it after allocating); fault site ttm.copy_page',
  checks: [
    NO_TT,
    'not SWAPPED → -EINVAL (BUG_ON(!swap_storage) in the kernel; the model refuses)',
    'a page read fails (ttm.copy_page) → that errno',
    'the target page is NULL (the tt was unpopulated by swapout) → -ENOMEM',
  ],
  args: { tt: u32 },
  run(w, a) {
    const id = ttId(w, a.tt);
    if (!id) return -ERRNO.EINVAL;
    const sites: FaultSite[] = ['ttm.copy_page'];
    const r = ttSwapin(contextOf<TtContext>(w, id), planOf(w, sites));
    if (r.ret === 0) throw new Error(`ttm.swapin ${id}: a swapped tt always has NULL pages in the model`);
    storePlan(w, sites, r.plan);
    return r.ret;
  },
});

export const ttmFini = registerInternal<{ tt: number }>({
  name: 'ttm.fini',
  models:
    'ttm_bo_tt_destroy: ttm_tt_unpopulate, then ttm_tt_fini: fput(swap_storage), ttm_pool_drop_backed_up when backed up, ttm_backup_fini (spec A.4.5, A.5)',
  checks: [NO_TT],
  args: { tt: u32 },
  run: onTt(() => ({ type: 'FINI' })),
});
