/**
 * The TTM invariants of spec A.8 (1–7), and the A.7 state predicates, as named checks
 * of a world (docs/machines/ttm-tt.md, "Invariants"). Each returns its violations,
 * `{invariant, object, message}`; `TTM_INVARIANTS` maps names to checks, and every
 * check is also registered with src/invariants/index.ts for `replay --check` and the
 * explorer.
 */
import { restoreValid, type TtContext } from '../../machines/ttm/pool.js';
import { objectsOfKind } from '../world/objects-by-kind.js';
import type { World } from '../world/types.js';
import { registerInvariant } from './index.js';

export interface TtViolation {
  invariant: string;
  /** World id of the tt. */
  object: string;
  message: string;
}

export type TtInvariant = (w: World) => TtViolation[];

const KIND = 'ttm.tt';

function tts(w: World): [string, TtContext, unknown][] {
  return objectsOfKind<TtContext>(w, KIND).map(([id, rec]) => [id, rec.context, rec.value]);
}

function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${k}.${stateName(v)}`;
}

/** The open block's slot range [from, to) whose content is in the block (handle-0 markers). */
function openRange(c: TtContext): [number, number] {
  const r = c.restore;
  if (!r || !restoreValid(r)) return [0, 0];
  return [r.snap.pos, r.snap.pos + r.restored_pages];
}

function check(name: string, f: (id: string, c: TtContext, value: unknown, out: string[]) => void): TtInvariant {
  return (w) => {
    const v: TtViolation[] = [];
    for (const [id, c, value] of tts(w)) {
      const msgs: string[] = [];
      f(id, c, value, msgs);
      for (const message of msgs) v.push({ invariant: name, object: id, message });
    }
    return v;
  };
}

/** A.8 1: every page's content is in exactly one place, and it is what was written (purge aside). */
export const contentInOnePlace = check('ttm.content-in-one-place', (_id, c, _v, out) => {
  if (c.destroyed) return;
  const [from, to] = openRange(c);
  for (let i = 0; i < c.num_pages; i++) {
    const want = c.content[i] ?? 0;
    const s = c.slots[i] ?? null;
    let have: number | undefined;
    let where: string;
    if (c.flags.swapped && s === null) {
      have = c.swap_storage?.[i] ?? 0;
      where = 'the swap file';
    } else if (s === null) {
      have = 0;
      where = 'nowhere (NULL slot)';
    } else if (s.t === 'page') {
      have = s.v;
      where = `page ${s.id}`;
    } else if (s.h >= 1) {
      if (s.h !== i + 1) out.push(`slot ${i} holds handle ${s.h}, not ${i + 1} (shmem index = page index)`);
      if (!Object.hasOwn(c.shmem, s.h - 1)) {
        out.push(`slot ${i} holds handle ${s.h} whose shmem page was dropped: the content of page ${i} is lost`);
        continue;
      }
      have = c.shmem[s.h - 1];
      where = `shmem page ${s.h - 1}`;
    } else {
      if (i < from || i >= to) {
        out.push(`slot ${i} holds the handle-0 marker outside an open restore block: its content is nowhere`);
        continue;
      }
      have = c.restore?.block?.values[i - from];
      where = 'the open restore block';
    }
    if (have !== want)
      out.push(`page ${i} should hold ${want} (what was written) but ${where} holds ${have ?? 'nothing'}`);
  }
});

/** A.8 2: a handle ≥ 1 is dropped exactly once; none is left when the backup file goes. */
export const handlesDroppedOnce = check('ttm.handles-dropped-once', (_id, c, _v, out) => {
  if (c.ledger.bad_drops > 0) out.push(`${c.ledger.bad_drops} drop(s) of a handle already dropped (or of handle 0)`);
  for (const k of Object.keys(c.shmem)) {
    const idx = Number(k);
    const s = c.slots[idx];
    if (c.destroyed)
      out.push(`shmem page ${idx} (handle ${idx + 1}) was never dropped before the backup file was released`);
    else if (!(s?.t === 'handle' && s.h === idx + 1))
      out.push(
        `shmem page ${idx} (handle ${idx + 1}) is no longer referenced by slot ${idx}: it will never be dropped`,
      );
  }
});

/** A.8 3: every page is freed exactly once; a slot never points to a freed page; nothing leaks at destroy. */
export const pagesFreedOnce = check('ttm.pages-freed-once', (_id, c, _v, out) => {
  if (c.ledger.bad_frees > 0) out.push(`${c.ledger.bad_frees} free(s) of a page not allocated (double free)`);
  const held = new Set<number>();
  c.slots.forEach((s, i) => {
    if (s?.t !== 'page') return;
    held.add(s.id);
    if (!c.ledger.live[s.id]) out.push(`slot ${i} points to page ${s.id}, which was freed`);
  });
  const r = c.restore;
  if (r && restoreValid(r) && r.block) for (let i = 0; i < 1 << r.order; i++) held.add(r.block.head + i);
  for (const k of Object.keys(c.ledger.live)) {
    const id = Number(k);
    if (!held.has(id)) out.push(`page ${id} is allocated but nothing holds it (leaked)`);
  }
});

/** A.8 4: an attached restore describes the tt so that the next restore can continue. */
export const restoreResumable = check('ttm.restore-resumable', (_id, c, _v, out) => {
  const r = c.restore;
  if (!r || c.destroyed) return;
  if (r.snap.pos !== r.alloced_pages)
    out.push(`restore snapshot at slot ${r.snap.pos} but ${r.alloced_pages} pages committed`);
  if (r.snap.pos + r.snap.remaining !== c.num_pages)
    out.push(`restore snapshot: ${r.snap.pos} + ${r.snap.remaining} remaining ≠ ${c.num_pages} pages`);
  for (let i = 0; i < r.alloced_pages; i++)
    if (c.slots[i]?.t !== 'page') out.push(`committed slot ${i} of the restore holds no page`);
  if (restoreValid(r)) {
    if (!r.block) out.push('the open block has no allocated page');
    if (r.snap.pos + (1 << r.order) > c.num_pages) out.push('the open block reaches beyond the tt');
  } else if (r.block) out.push('a complete or freed block is still recorded as allocated');
});

/** A.8 5: POPULATED and BACKED_UP are never both set (nor BACKED_UP and SWAPPED). */
export const flagCoupling = check('ttm.flag-coupling', (_id, c, _v, out) => {
  if (c.flags.populated && c.flags.backed_up) out.push('POPULATED and BACKED_UP both set');
  if (c.flags.backed_up && c.flags.swapped) out.push('BACKED_UP and SWAPPED both set');
  if (c.flags.populated && c.flags.swapped) out.push('POPULATED and SWAPPED both set');
});

/** A.8 6: tt->restore ≠ NULL ⇒ BACKED_UP (violated by the unfixed F1 code). */
export const restoreImpliesBackedUp = check('ttm.restore-implies-backed-up', (_id, c, _v, out) => {
  if (c.restore && !c.flags.backed_up)
    out.push(
      `tt->restore is attached (${c.restore.alloced_pages} pages committed) but the tt is not BACKED_UP: the next backup/restore sees a stale, completed restore (spec A.9 F1)`,
    );
});

/** A.8 7: backed-up content exists only where backup is allowed (a backup file, not a DMA-alloc pool, EXTERNAL_MAPPABLE). */
export const backupPreconditions = check('ttm.backup-preconditions', (_id, c, _v, out) => {
  const handles = c.slots.some((s) => s?.t === 'handle' && s.h >= 1) || Object.keys(c.shmem).length > 0;
  if (!handles || c.destroyed) return;
  if (!c.backup) out.push('handles without a backup file');
  if (c.dma_alloc) out.push('handles in a tt of a DMA-alloc pool');
  if (!c.external) out.push('handles in a tt that is not EXTERNAL_MAPPABLE');
});

/** A.7: the machine's state is the one whose predicate the context satisfies. */
export const statePredicate = check('ttm.state-predicate', (_id, c, value, out) => {
  const s = stateName(value);
  const f = c.flags;
  const all = (p: (x: TtContext['slots'][number]) => boolean) => c.slots.every(p);
  const why: string[] = [];
  switch (s) {
    case 'destroyed':
      if (!c.destroyed) why.push('not finalised');
      break;
    case 'unpopulated':
      if (f.populated || f.backed_up || f.swapped) why.push('a flag is set');
      if (!all((x) => x === null)) why.push('a slot is not NULL');
      if (c.restore) why.push('a restore is attached');
      break;
    case 'populated':
      if (!f.populated || f.backed_up) why.push('flags are not POPULATED alone');
      if (!all((x) => x?.t === 'page')) why.push('a slot holds no real page (the GPU would map a handle)');
      break;
    case 'backedUp.full':
    case 'backedUp.partial':
    case 'purged': {
      if (!f.backed_up || f.populated) why.push('flags are not BACKED_UP alone');
      if (c.restore) why.push('a restore is attached');
      const handles = c.slots.filter((x) => x?.t === 'handle' && x.h >= 1).length;
      const pages = c.slots.filter((x) => x?.t === 'page').length;
      const zero = c.slots.filter((x) => x?.t === 'handle' && x.h === 0).length;
      if (zero) why.push('handle-0 markers without a restore');
      if (s === 'purged' && (handles || pages)) why.push('a slot is not NULL');
      if (s === 'backedUp.full' && (pages || !handles)) why.push('not every page is a handle');
      if (s === 'backedUp.partial' && (!pages || !handles)) why.push('not a mix of handles and retained pages');
      break;
    }
    case 'restoring.betweenBlocks':
    case 'restoring.blockOpen':
      if (!f.backed_up || f.populated) why.push('flags are not BACKED_UP alone');
      if (!c.restore) why.push('no restore attached');
      else if (restoreValid(c.restore) !== (s === 'restoring.blockOpen'))
        why.push(`ttm_pool_restore_valid() is ${restoreValid(c.restore)}`);
      break;
    case 'swapped':
      if (!f.swapped || f.populated) why.push('flags are not SWAPPED alone');
      if (c.swap_storage === null) why.push('no swap storage');
      break;
  }
  if (why.length) out.push(`in state ${s}: ${why.join('; ')}`);
});

/** Every TTM invariant by name. */
export const TTM_INVARIANTS: Readonly<Record<string, TtInvariant>> = {
  'ttm.content-in-one-place': contentInOnePlace,
  'ttm.handles-dropped-once': handlesDroppedOnce,
  'ttm.pages-freed-once': pagesFreedOnce,
  'ttm.restore-resumable': restoreResumable,
  'ttm.flag-coupling': flagCoupling,
  'ttm.restore-implies-backed-up': restoreImpliesBackedUp,
  'ttm.backup-preconditions': backupPreconditions,
  'ttm.state-predicate': statePredicate,
};

const DESCRIPTIONS: Record<string, string> = {
  'ttm.content-in-one-place':
    'spec A.8 1: each page of a tt is in exactly one of its page, its shmem handle, or the open restore block, with the content written (only purge discards)',
  'ttm.handles-dropped-once':
    'spec A.8 2: every backup handle is dropped exactly once, none is left when the backup file is released',
  'ttm.pages-freed-once':
    'spec A.8 3: every page is freed exactly once, no slot points to a freed page, nothing is leaked',
  'ttm.restore-resumable': 'spec A.8 4: an attached restore describes the committed prefix and the open block exactly',
  'ttm.flag-coupling': 'spec A.8 5: POPULATED and BACKED_UP (and SWAPPED) are never set together',
  'ttm.restore-implies-backed-up': 'spec A.8 6: tt->restore is attached only to a BACKED_UP tt',
  'ttm.backup-preconditions':
    'spec A.8 7: handles exist only in tts with a backup file, not of a DMA-alloc pool, EXTERNAL_MAPPABLE',
  'ttm.state-predicate': 'spec A.7: the tt machine is in the state whose predicate its context satisfies',
};

/** Run every TTM invariant. */
export function checkTtm(w: World): TtViolation[] {
  return Object.values(TTM_INVARIANTS).flatMap((f) => f(w));
}

for (const [name, f] of Object.entries(TTM_INVARIANTS))
  registerInvariant(name, DESCRIPTIONS[name]!, (w) => f(w).map((v) => ({ message: v.message, objects: [v.object] })));
