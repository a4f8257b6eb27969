/**
 * pdd->alloc_idr: each pdd's BO handle namespace (idr handle → kfd.bo object id).
 *
 * It is a world index, like the fd tables and a render-node file's object_idr, not
 * part of the pdd machine's context: a process holds tens of thousands of handles, and
 * a machine context is replaced on every transition, so an IDR inside it was copied
 * whole by every ALLOC and FREE (issue 4). The pdd machine keeps the state its guards
 * read; the handlers keep the IDR here, with the kernel's idr_alloc semantics.
 *
 * `w.alloc_idr[pddId]` is plain data (handle order is the record's integer-key order).
 * The lowest-free search starts at a hint kept beside the record, never inside the
 * world, so that two worlds with the same handles are the same world (snapshots,
 * explorer fingerprints). The hint is a lower bound of the free handles of the record
 * it belongs to; a record it does not know (a copy, an immer draft) is searched from 0.
 */
import type { World } from './types.js';

/** INT_MAX + 1: idr_alloc(&pdd->alloc_idr, mem, 0, 0) hands out 0..INT_MAX. */
const IDR_END = 0x80000000;

const EMPTY: Readonly<Record<number, string>> = Object.freeze({});

/** Lowest handle that may be free, per IDR record. */
const HINTS = new WeakMap<Record<number, string>, number>();

/** The handles of a pdd (read-only; empty when it has none). */
export function allocIdr(w: World, pddId: string): Readonly<Record<number, string>> {
  return w.alloc_idr?.[pddId] ?? EMPTY;
}

/** kfd_process_device_translate_handle: the BO of a handle, or undefined (idr_find). */
export function idrFind(w: World, pddId: string, handle: number): string | undefined {
  const idr = w.alloc_idr?.[pddId];
  return idr === undefined ? undefined : idr[handle];
}

function idrOf(w: World, pddId: string): Record<number, string> {
  const all = (w.alloc_idr ??= {});
  return (all[pddId] ??= {});
}

/** idr_alloc(&pdd->alloc_idr, mem, 0, 0): the lowest free handle, or null when the IDR is full. */
export function idrAlloc(w: World, pddId: string, boId: string): number | null {
  const idr = idrOf(w, pddId);
  let h = HINTS.get(idr) ?? 0;
  while (h < IDR_END && idr[h] !== undefined) h++;
  if (h >= IDR_END) return null;
  idr[h] = boId;
  HINTS.set(idr, h + 1);
  return h;
}

/** idr_alloc(&pdd->alloc_idr, mem, h, h + 1): false when h is taken (the kernel's -ENOSPC). */
export function idrAllocAt(w: World, pddId: string, handle: number, boId: string): boolean {
  const idr = idrOf(w, pddId);
  if (idr[handle] !== undefined) return false;
  idr[handle] = boId;
  return true;
}

/** idr_remove: false when the handle was free. */
export function idrRemove(w: World, pddId: string, handle: number): boolean {
  const idr = w.alloc_idr?.[pddId];
  if (idr === undefined || idr[handle] === undefined) return false;
  delete idr[handle];
  const hint = HINTS.get(idr);
  if (hint !== undefined && handle < hint) HINTS.set(idr, handle);
  return true;
}

/** idr_destroy when the pdd goes (kfd_process_destroy_pdds). */
export function idrDestroy(w: World, pddId: string): void {
  if (w.alloc_idr) delete w.alloc_idr[pddId];
}
