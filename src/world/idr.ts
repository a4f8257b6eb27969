/**
 * The kernel's IDRs as gpucr keeps them (lib/idr.c semantics): a record handle → object id,
 * and idr_alloc's lowest-free search. Two IDRs use it: each pdd's `alloc_idr` (below) and
 * each render-node file's `object_idr` (src/ioctls/drm/file.ts).
 *
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

/**
 * idr_alloc(idr, ptr, start, end): the lowest free handle in [start, end), or null when
 * there is none (the kernel's -ENOSPC). The search starts at the record's hint.
 */
export function idrAllocIn(idr: Record<number, string>, value: string, start: number, end: number): number | null {
  let h = Math.max(HINTS.get(idr) ?? start, start);
  while (h < end && idr[h] !== undefined) h++;
  if (h >= end) return null;
  idr[h] = value;
  HINTS.set(idr, h + 1);
  return h;
}

/** idr_remove(idr, handle): false when the handle was free. */
export function idrRemoveIn(idr: Record<number, string>, handle: number): boolean {
  if (idr[handle] === undefined) return false;
  delete idr[handle];
  const hint = HINTS.get(idr);
  if (hint !== undefined && handle < hint) HINTS.set(idr, handle);
  return true;
}

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
  return idrAllocIn(idrOf(w, pddId), boId, 0, IDR_END);
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
  return idr !== undefined && idrRemoveIn(idr, handle);
}

/** idr_destroy when the pdd goes (kfd_process_destroy_pdds). */
export function idrDestroy(w: World, pddId: string): void {
  if (w.alloc_idr) delete w.alloc_idr[pddId];
}
