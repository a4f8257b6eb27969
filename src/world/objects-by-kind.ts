/**
 * The world's objects of one kind, for code that reads the whole world (the invariants).
 *
 * An invariant check runs some forty invariants, and most of them want the objects of one
 * or two kinds: each used to filter every object of the world, so a check of a world of
 * 1,000 BOs made ten passes over its 3,000 objects, most of the time `replay --check`
 * spends. Within `withObjectsByKind(w, …)` (checkInvariants) the objects are sorted by kind
 * in one pass, and every `objectsOfKind(w, kind)` of that world is a lookup. Outside it, or
 * for another world, `objectsOfKind` makes its own pass. The world must not change while
 * the index is open (invariants only read it).
 *
 * Each kind's objects are in the world's key order, as a filter over `Object.keys` gives them.
 *
 * The index also keeps every object, and (from the first invariant that asks) every GEM
 * record, in key order: listing the keys of a store of 30,000 objects takes milliseconds
 * (the stores are dictionaries, listed in insertion order), and half a dozen invariants walk
 * every object or every GEM record.
 */
import type { Gem, ObjectRecord, World } from './types.js';

export type KindEntries<C = unknown> = readonly (readonly [string, ObjectRecord<C>])[];

const NONE: KindEntries = [];

/** The open index: its world, its objects (all, and by kind) and its GEM records once asked for. */
let open: {
  w: World;
  all: [string, ObjectRecord][];
  byKind: Map<string, [string, ObjectRecord][]>;
  gems?: [string, Gem][];
} | null = null;

function scan(w: World, kind: string): [string, ObjectRecord][] {
  const out: [string, ObjectRecord][] = [];
  for (const id of Object.keys(w.objects)) {
    const rec = w.objects[id]!;
    if (rec.kind === kind) out.push([id, rec]);
  }
  return out;
}

/** Every object of `kind` with its id, in the world's key order. */
export function objectsOfKind<C>(w: World, kind: string): KindEntries<C> {
  if (open !== null && open.w === w) return (open.byKind.get(kind) ?? NONE) as KindEntries<C>;
  return scan(w, kind) as KindEntries<C>;
}

/** Every object with its id, in the world's key order. */
export function everyObject(w: World): readonly (readonly [string, ObjectRecord])[] {
  if (open !== null && open.w === w) return open.all;
  return Object.keys(w.objects).map((id) => [id, w.objects[id]!] as const);
}

/** Every GEM record with its id, in the world's key order. */
export function everyGem(w: World): readonly (readonly [string, Gem])[] {
  if (open !== null && open.w === w) return (open.gems ??= gemEntries(w));
  return gemEntries(w);
}

function gemEntries(w: World): [string, Gem][] {
  return Object.keys(w.gems).map((id): [string, Gem] => [id, w.gems[id]!]);
}

/** Run `read` with the objects of `w` sorted by kind once; `read` must not change `w`. */
export function withObjectsByKind<T>(w: World, read: () => T): T {
  const prev = open;
  const all: [string, ObjectRecord][] = [];
  const byKind = new Map<string, [string, ObjectRecord][]>();
  for (const id of Object.keys(w.objects)) {
    const rec = w.objects[id]!;
    const entry: [string, ObjectRecord] = [id, rec];
    all.push(entry);
    let list = byKind.get(rec.kind);
    if (!list) byKind.set(rec.kind, (list = []));
    list.push(entry);
  }
  open = { w, all, byKind };
  try {
    return read();
  } finally {
    open = prev;
  }
}
