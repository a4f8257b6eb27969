/**
 * The kernel's IDRs as gpucr keeps them (lib/idr.c semantics): a record handle → object id,
 * and idr_alloc's lowest-free search. Two IDRs use it: each pdd's `alloc_idr` (below) and
 * each render-node file's `object_idr` (src/ioctls/drm/file.ts); and each task's fd table,
 * whose fds alloc_fd hands out by the same rule (src/world/fds.ts).
 *
 * pdd->alloc_idr: each pdd's BO handle namespace (idr handle → kfd.bo object id).
 *
 * It is a world index, like the fd tables and a render-node file's object_idr, not
 * part of the pdd machine's context: a process holds tens of thousands of handles, and
 * a transition's assign gives each context field it changes a new value, so an IDR inside
 * it was copied whole by every ALLOC and FREE (issue 4). The pdd machine keeps the state its guards
 * read; the handlers keep the IDR here, with the kernel's idr_alloc semantics.
 *
 * `w.alloc_idr[pddId]` is plain data (handle order is the record's integer-key order).
 * The lowest-free search uses hints kept beside the record, never inside the world, so
 * that two worlds with the same handles are the same world (snapshots, explorer
 * fingerprints): `next`, below which every handle is taken except the `holes`, the
 * handles freed below `next`, in a min-heap. idr_alloc takes the lowest hole that is still
 * free, else searches from `next`: O(log n) where a search from one hint walked past every
 * live handle above the lowest free one (836 handles per ALLOC on average in the replay
 * bench's log of 10,000 live BOs). A record the hints do not know (a copy, an immer draft)
 * is searched from `start`.
 */
import TinyQueue from 'tinyqueue';
import type { World } from './types.js';

/** INT_MAX + 1: idr_alloc(&pdd->alloc_idr, mem, 0, 0) hands out 0..INT_MAX. */
const IDR_END = 0x80000000;

const EMPTY: Readonly<Record<number, string>> = Object.freeze({});

/**
 * The search hints of one IDR record, for allocations from `start` (each IDR always
 * allocates from the same start: 0 for alloc_idr, 1 for object_idr). Every free handle in
 * [start, next) is in `holes`; a hole may have been taken since by an exact allocation
 * (idrAllocAt, GEM_CHANGE_HANDLE), which is checked when it is popped.
 */
interface Hints {
  start: number;
  next: number;
  holes: TinyQueue<number>;
}

const HINTS = new WeakMap<Record<number, string>, Hints>();

/**
 * The lowest free handle in [start, end) (`end` when there is none), without taking it: by the
 * hints when they are this start's. Holes taken since they were freed are dropped on the way.
 */
export function idrLowestFree(idr: Readonly<Record<number, string>>, start: number, end: number): number {
  const hints = HINTS.get(idr);
  const own = hints?.start === start ? hints : undefined;
  if (own)
    for (let x = own.holes.peek(); x !== undefined; x = own.holes.peek()) {
      if (x >= start && x < end && idr[x] === undefined) return x;
      own.holes.pop();
    }
  let h = own ? own.next : start;
  while (h < end && idr[h] !== undefined) h++;
  return h;
}

/**
 * idr_alloc(idr, ptr, start, end): the lowest free handle in [start, end), or null when
 * there is none (the kernel's -ENOSPC).
 */
export function idrAllocIn(idr: Record<number, string>, value: string, start: number, end: number): number | null {
  const h = idrLowestFree(idr, start, end);
  if (h >= end) return null;
  idr[h] = value;
  let hints = HINTS.get(idr);
  if (hints?.start !== start) HINTS.set(idr, (hints = { start, next: start, holes: new TinyQueue<number>() }));
  // A handle from the search: every handle below it was taken. Otherwise it was the lowest hole.
  if (h >= hints.next) hints.next = h + 1;
  else hints.holes.pop();
  return h;
}

/** idr_remove(idr, handle): false when the handle was free. */
export function idrRemoveIn(idr: Record<number, string>, handle: number): boolean {
  if (idr[handle] === undefined) return false;
  delete idr[handle];
  const hints = HINTS.get(idr);
  if (hints !== undefined && handle < hints.next) hints.holes.push(handle);
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
