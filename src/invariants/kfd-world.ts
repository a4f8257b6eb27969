/**
 * Read-only views of the world shared by the KFD invariants (src/invariants/kfd.ts):
 * a context checked against its kind, live tasks, ids inside values (the objects of a kind:
 * src/world/objects-by-kind.ts).
 * They never change the world: an invariant is a function of the world alone.
 */
import type { Task, World } from '../world/types.js';

/** A signed bigint as the kernel prints sizes (`0x1000`, `-0x1000`). */
export const hex = (v: bigint) => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

/** The context of `id` when it is a live object of `kind`. */
export function ctx<C>(w: World, id: string, kind: string): C | undefined {
  const rec = w.objects[id];
  return rec && rec.kind === kind ? (rec.context as C) : undefined;
}

export function liveTasks(w: World): Task[] {
  return Object.values(w.tasks).filter((t) => t.alive);
}

/** Strings anywhere inside a value (for references held by other drivers' objects). */
export function mentions(v: unknown, id: string, depth = 0): boolean {
  if (v === id) return true;
  if (depth > 32 || typeof v !== 'object' || v === null) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (mentions(x, id, depth + 1)) return true;
  return false;
}
