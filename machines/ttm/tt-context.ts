/**
 * One `struct ttm_tt` as the model holds it (spec A.2): its flags, its page vector and
 * restore state, the ledger that checks every page is freed and every shmem handle
 * dropped exactly once, and the A.7 state its flags and slots stand for.
 *
 * The page vector (A.2.3) is `slots`: a real page `{t:'page', id, v}` (its 4 KiB page id
 * in the tt's page ledger and its u32 content), an encoded backup handle `{t:'handle', h}`
 * (h ≥ 1: the shmem page `h − 1` of the backup file; h = 0: the "already copied"
 * marker written by ttm_pool_restore_commit), or `null` (no page).
 */
import type { AlgorithmResult } from '../algorithm.js';
import { contextSchema, type SchemaKit } from '../context-schema.js';
import { MAX_PAGE_ORDER } from './pool-pages.js';

/** Largest tt the model creates (pages); ttm.create refuses larger ones as kvcalloc would (-ENOMEM). */
export const MAX_TT_PAGES = 1 << 20;

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
  /** tt->caching: the caching the tt was created with; the kernel never changes it. */
  caching: Caching;
  /**
   * The caching the real pages in the vector have (x86 set_pages_array_*), null while the
   * vector holds none. ttm_pool_apply_caching sets tt->caching when a populate or a restore
   * completes; ttm_pool_backup sets write-back (step 3) before backing up any page, so a
   * backup whose first page fails leaves a populated tt whose pages are WB while
   * tt->caching says otherwise (spec A.4.2 Notes, [UNCONFIRMED] whether upstream calls it
   * a bug). A restore's committed blocks take their caching when it completes.
   */
  pages_caching: Caching | null;
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

/** A 4 KiB page id of the tt's ledger: 1, 2, … (TtLedger.next_page starts at 1 and only grows). */
const pageId = (z: SchemaKit['z']) => z.number().int().min(1);
/** A page's content where the vector or a restore block holds it, as `pageValues` holds it elsewhere. */
const pageValue = (z: SchemaKit['z']) => z.number();

const caching = (z: SchemaKit['z']) => z.enum(['cached', 'wc', 'uc']);

/** TtContext read back from a snapshot (machines/context-schema.ts). */
export const ttContextSpec = contextSchema<TtContext>()(({ z, u32, intKey, pageValues }) =>
  z
    .strictObject({
      num_pages: z.number().int().min(1).max(MAX_TT_PAGES),
      caching: caching(z),
      pages_caching: caching(z).nullable(),
      dma_alloc: z.boolean(),
      external: z.boolean(),
      backup: z.boolean(),
      variant: z.enum(['fixed', 'unfixed-restore-drop']),
      flags: z.strictObject({ populated: z.boolean(), backed_up: z.boolean(), swapped: z.boolean() }),
      slots: z.array(
        z
          .discriminatedUnion('t', [
            z.strictObject({ t: z.literal('page'), id: pageId(z), v: pageValue(z) }),
            z.strictObject({ t: z.literal('handle'), h: u32 }),
          ])
          .nullable(),
      ),
      shmem: pageValues,
      swap_storage: pageValues.nullable(),
      restore: z
        .strictObject({
          snap: z.strictObject({ pos: u32, remaining: u32 }),
          block: z.strictObject({ head: pageId(z), values: z.array(pageValue(z)) }).nullable(),
          order: z.number().int().min(0).max(MAX_PAGE_ORDER),
          restored_pages: u32,
          alloced_pages: u32,
        })
        .nullable(),
      content: pageValues,
      ledger: z.strictObject({
        next_page: pageId(z),
        live: z.record(intKey(1), z.literal(true)),
        bad_frees: u32,
        bad_drops: u32,
      }),
      destroyed: z.boolean(),
    })
    .superRefine((c, ctx) => ttRules(c, (path, message) => ctx.addIssue({ code: 'custom', path, message }))),
);

/** Reports a rule broken at a path of the context. */
type Issue = (path: PropertyKey[], message: string) => void;

/** The rules between a tt's fields that its field types cannot say (what a snapshot load checks). */
function ttRules(c: TtContext, at: Issue): void {
  // Every algorithm indexes the vector by page (0 … num_pages − 1) and writes slots in
  // place: a shorter vector gets holes, which no world value may hold (canonical.ts).
  if (c.slots.length !== c.num_pages) at(['slots'], `a list of num_pages (${c.num_pages}) slots`);
  // ttm.swapin finds a page to copy into and succeeds, which the handler takes for a model bug (throws).
  if (c.flags.swapped && c.slots.some((s) => s?.t === 'page'))
    at(['slots'], 'no page in a SWAPPED tt (swapout freed them)');
  // A backed-up tt has its backup file until ttm.fini: without it ttm_tt_backup returns 0, which
  // the machine refuses in a backed-up state and the handler takes for a model bug (throws).
  if (c.flags.backed_up && !c.destroyed && !c.backup) at(['backup'], 'true in a BACKED_UP tt');
  if (c.restore) restoreRules(c.num_pages, c.restore, at);
}

/**
 * The rules of a resumable restore's state: the restore writes the vector from the snapshot on
 * (the open block, then the pages still to allocate) and frees it up to alloced_pages, all of it
 * within the num_pages slots.
 */
function restoreRules(numPages: number, r: NonNullable<TtContext['restore']>, at: Issue): void {
  if (r.snap.pos > numPages) at(['restore', 'snap', 'pos'], `a value ≤ num_pages (${numPages})`);
  else if (r.snap.remaining > numPages - r.snap.pos)
    at(['restore', 'snap', 'remaining'], `a value ≤ num_pages − snap.pos (${numPages - r.snap.pos})`);
  if (r.alloced_pages > numPages) at(['restore', 'alloced_pages'], `a value ≤ num_pages (${numPages})`);
  if (!restoreValid(r)) return;
  // An open block is allocated, among the pages remaining, and holds the content of the pages restored into it.
  if (r.block === null) at(['restore', 'block'], 'the open block (restored_pages < 1 << order)');
  else if (r.block.values.length !== r.restored_pages)
    at(['restore', 'block', 'values'], `a list of restored_pages (${r.restored_pages}) values`);
  if (1 << r.order > r.snap.remaining)
    at(['restore', 'order'], `an order whose block (1 << order pages) fits snap.remaining (${r.snap.remaining})`);
}

export interface TtInput {
  num_pages: number;
  caching: Caching;
  dma_alloc: boolean;
  backup: boolean;
  variant: TtVariant;
}

/** What a tt algorithm returns (`ret`: 0, a count of pages, or a negative errno). */
export type TtResult = AlgorithmResult<TtContext>;

export function initialTt(input: TtInput): TtContext {
  return {
    num_pages: input.num_pages,
    caching: input.caching,
    pages_caching: null,
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

/** ttm_pool_restore_valid(): a restore whose current block is partly restored. */
export function restoreValid(r: TtRestore | null): boolean {
  return r !== null && r.restored_pages < 1 << r.order;
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
