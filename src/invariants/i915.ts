/**
 * The i915 invariants of spec C.9, and those of the Xe pinned-BO lists (C.10), as
 * named checks of a world (docs/machines/i915-lmem-object.md, "Invariants"). Each
 * returns `{invariant, object, message}` violations; `I915_INVARIANTS` and
 * `XE_INVARIANTS` map names to checks, and every check is also registered with
 * src/invariants/index.ts for `replay --check` and the explorer.
 */
import type { LmemObjectContext } from '../../machines/i915/lmem-object.js';
import type { I915DeviceContext } from '../../machines/i915/suspend.js';
import type { XeBoContext } from '../../machines/xe/pinned-bo.js';
import { objectsOfKind } from '../world/objects-by-kind.js';
import type { World } from '../world/types.js';
import { registerInvariant } from './index.js';

export interface I915Violation {
  invariant: string;
  object: string;
  message: string;
}

export type I915Invariant = (w: World) => I915Violation[];

function objectsOf<C>(w: World, kind: string): [string, C, unknown][] {
  return objectsOfKind<C>(w, kind).map(([id, rec]) => [id, rec.context, rec.value]);
}

function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${k}.${stateName(v)}`;
}

function same(a: Record<number, number>, b: Record<number, number>): boolean {
  const ka = Object.keys(a).filter((k) => a[Number(k)] !== 0);
  const kb = Object.keys(b).filter((k) => b[Number(k)] !== 0);
  return ka.length === kb.length && ka.every((k) => a[Number(k)] === b[Number(k)]);
}

function show(r: Record<number, number>): string {
  return JSON.stringify(r);
}

function perObject<C>(kind: string, name: string, f: (c: C, value: unknown, out: string[], w: World) => void) {
  return (w: World): I915Violation[] => {
    const v: I915Violation[] = [];
    for (const [id, c, value] of objectsOf<C>(w, kind)) {
      const msgs: string[] = [];
      f(c, value, msgs, w);
      for (const message of msgs) v.push({ invariant: name, object: id, message });
    }
    return v;
  };
}

const OBJ = 'i915.lmem_object';

/** C.9: obj->ttm.backup non-NULL ⇔ the object holds exactly one reference on the backup; no put or use of a freed backup. */
export const backupReference = perObject<LmemObjectContext>(OBJ, 'i915.backup-reference', (c, _v, out) => {
  if (c.backup && c.backup.refs !== 1)
    out.push(
      `obj->ttm.backup is set but the object holds ${c.backup.refs} reference(s) on it${c.backup.refs <= 0 ? ' (a dangling pointer to a freed object)' : ''}`,
    );
  if (c.bad_puts > 0) out.push(`${c.bad_puts} put(s) of a backup object without references (double put)`);
  if (c.uaf > 0) out.push(`${c.uaf} use(s) of a freed backup object`);
});

/** Content is never lost except by PM_VOLATILE (by design) or a restore copy error (with a WARN). */
export const contentKept = perObject<LmemObjectContext>(OBJ, 'i915.content-kept', (c, value, out) => {
  if (c.destroyed) return;
  const fromBackup = c.backup !== null && c.backup.refs > 0;
  const have = fromBackup ? c.backup!.content : c.content;
  if (stateName(value) === 'volatileSkipped' && !fromBackup) return;
  if (!same(have, c.expected))
    out.push(
      `the content (${fromBackup ? 'in the backup object' : c.placement === 'lmem' ? 'in LMEM' : 'in SMEM'}) is ${show(have)}, not what was written ${show(c.expected)}`,
    );
});

/** C.9 states: each state's predicate holds. */
export const lmemStatePredicate = perObject<LmemObjectContext>(OBJ, 'i915.state-predicate', (c, value, out) => {
  const s = stateName(value);
  const why: string[] = [];
  const lmem = c.placement === 'lmem';
  switch (s) {
    case 'resident':
      if (c.pin_count !== 0 || !lmem || c.backup) why.push('not an unpinned LMEM object without backup');
      break;
    case 'pinned':
    case 'restored':
      if (c.pin_count <= 0 || !lmem || c.backup) why.push('not a pinned LMEM object without backup');
      break;
    case 'evicted':
      if (c.pin_count !== 0 || lmem || c.backup) why.push('not an unpinned SMEM object without backup');
      break;
    case 'backedUp':
      if (!c.backup || !lmem) why.push('no backup pointer, or not in LMEM');
      break;
    case 'volatileSkipped':
      if (!c.volatile || c.backup || !lmem) why.push('not a PM_VOLATILE LMEM object without backup');
      break;
    case 'destroyed':
      if (!c.destroyed || c.backup) why.push('not released');
      break;
  }
  if (why.length) out.push(`in state ${s}: ${why.join('; ')}`);
});

/**
 * Each LMEM region holds no more than its pages, and its LRU and its object list
 * (mr->objects.list) name exactly the objects placed in it: an object is on the lists of
 * the region it was created in, never on another's (spec C.5, C.6 per region).
 */
export const lmemCapacity = (w: World): I915Violation[] => {
  const out: I915Violation[] = [];
  const objs = objectsOf<LmemObjectContext>(w, OBJ).filter(([, c]) => !c.destroyed && c.placement === 'lmem');
  for (const [id, d] of objectsOf<I915DeviceContext>(w, 'i915.device')) {
    d.regions.forEach((mr, r) => {
      const push = (message: string) =>
        out.push({ invariant: 'i915.lmem-capacity', object: id, message: `LMEM region ${r}: ${message}` });
      const placed = objs.filter(([, c]) => c.region === r);
      const inLmem = new Set(placed.map(([oid]) => oid));
      const used = placed.reduce((n, [, c]) => n + c.pages, 0);
      if (used > mr.pages) push(`${used} pages in it, more than its ${mr.pages}`);
      for (const [what, list] of [
        ['LRU', mr.lru],
        ['object list', mr.objects],
      ] as const) {
        for (const o of list) if (!inLmem.has(o)) push(`the ${what} names ${o}, which is not placed in this region`);
        for (const o of inLmem) if (!list.includes(o)) push(`${o} is placed in it but not on its ${what}`);
      }
    });
    for (const [oid, c] of objs)
      if (c.region >= d.regions.length)
        out.push({
          invariant: 'i915.lmem-capacity',
          object: oid,
          message: `in LMEM region ${c.region}, which the device does not have`,
        });
  }
  return out;
};

const XE = 'xe.bo';

/** C.10: a pinned BO has a backup exactly while it is on an evicted list (NORESTORE: never); unpinned BOs have none. */
export const xeBackupOnEvicted = perObject<XeBoContext>(XE, 'xe.backup-on-evicted-list', (c, value, out) => {
  const s = stateName(value);
  if (s === 'pinned.evicted' && !c.norestore && !c.backup) out.push('on an evicted list without a backup object');
  if (s === 'pinned.present' && c.backup) out.push('on a kernel_bo_present list with a backup object');
  if (s.startsWith('unpinned') && (c.backup || c.list !== null)) out.push('an unpinned BO with a list or a backup');
});

/** Xe content is never lost except for NORESTORE BOs across a power-down. */
export const xeContentKept = perObject<XeBoContext>(XE, 'xe.content-kept', (c, value, out, w) => {
  if (c.destroyed) return;
  const suspended = objectsOf<unknown>(w, 'xe.device').some(([, , v]) => v !== 'running');
  const s = stateName(value);
  const fromBackup = suspended && s === 'pinned.evicted' && c.backup !== null;
  if (suspended && s === 'pinned.evicted' && c.norestore) return;
  const have = fromBackup ? c.backup!.content : c.content;
  if (!same(have, c.expected))
    out.push(
      `the content (${fromBackup ? 'in the backup object' : c.placement}) is ${show(have)}, not what was written ${show(c.expected)}`,
    );
});

export const I915_INVARIANTS: Readonly<Record<string, I915Invariant>> = {
  'i915.backup-reference': backupReference,
  'i915.content-kept': contentKept,
  'i915.state-predicate': lmemStatePredicate,
  'i915.lmem-capacity': lmemCapacity,
};

export const XE_INVARIANTS: Readonly<Record<string, I915Invariant>> = {
  'xe.backup-on-evicted-list': xeBackupOnEvicted,
  'xe.content-kept': xeContentKept,
};

const DESCRIPTIONS: Record<string, string> = {
  'i915.backup-reference':
    'spec C.9: obj->ttm.backup is set exactly while the object holds one reference on the backup object; no double put, no use after free',
  'i915.content-kept':
    'spec C.9: an LMEM object keeps what was written (in LMEM, SMEM or its backup) unless PM_VOLATILE or a WARNed restore copy error',
  'i915.state-predicate': 'spec C.9: the object is in the state its pin count, placement and backup pointer describe',
  'i915.lmem-capacity':
    'each LMEM region holds at most its pages, and its LRU and object list name exactly the objects placed in it',
  'xe.backup-on-evicted-list':
    'spec C.10: a pinned Xe BO has a backup object exactly while it is on an evicted list (never for NORESTORE)',
  'xe.content-kept': 'spec C.10: an Xe BO keeps what was written unless NORESTORE across a power-down',
};

export function checkI915(w: World): I915Violation[] {
  return Object.values(I915_INVARIANTS).flatMap((f) => f(w));
}

export function checkXe(w: World): I915Violation[] {
  return Object.values(XE_INVARIANTS).flatMap((f) => f(w));
}

for (const [name, f] of Object.entries({ ...I915_INVARIANTS, ...XE_INVARIANTS }))
  registerInvariant(name, DESCRIPTIONS[name]!, (w) => f(w).map((v) => ({ message: v.message, objects: [v.object] })));
