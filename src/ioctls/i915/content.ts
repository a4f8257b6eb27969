/**
 * gpu_write / gpu_read on an i915 LMEM object or an Xe BO (`obj` argument,
 * src/ioctls/content.ts). A GPU access moves an evicted object back to device memory
 * first (making room by evicting others, least recently used first).
 */
import type { LmemObjectContext } from '../../../machines/i915/lmem-object.js';
import { ERRNO } from '../../uapi/errno.js';
import { contextOf, inState } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { xeBoId, xeReadPage, xeWritePage } from '../xe/pinned.js';
import { bringBack, deviceSuspended, gtWedged, i915ObjId, objEvent, touch, unparkGt } from './lmem.js';

/** The i915 object ready for a GPU access to `page`, or an errno. */
function accessible(w: World, n: number, page: number): string | number {
  const id = i915ObjId(w, n);
  if (!id) return -ERRNO.EINVAL;
  if (page >= contextOf<LmemObjectContext>(w, id).pages) return -ERRNO.EINVAL;
  if (deviceSuspended(w)) return -ERRNO.EBUSY;
  if (gtWedged(w)) return -ERRNO.EIO;
  if (inState(w, id, 'backedUp') || inState(w, id, 'volatileSkipped')) return -ERRNO.EBUSY;
  const r = bringBack(w, id);
  if (r) return r;
  unparkGt(w);
  touch(w, id);
  return id;
}

export function objWritePage(w: World, n: number, page: number, value: number): number {
  if (xeBoId(w, n)) return xeWritePage(w, n, page, value);
  const id = accessible(w, n, page);
  if (typeof id === 'number') return id;
  return objEvent(w, id, { type: 'WRITE', page, value }, -ERRNO.EINVAL);
}

export function objReadPage(w: World, n: number, page: number): { ret: number; value?: number } {
  if (xeBoId(w, n)) return xeReadPage(w, n, page);
  const id = accessible(w, n, page);
  if (typeof id === 'number') return { ret: id };
  return { ret: 0, value: contextOf<LmemObjectContext>(w, id).content[page] ?? 0 };
}
