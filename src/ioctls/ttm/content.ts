/**
 * gpu_write / gpu_read on a ttm_tt (`tt` argument, src/ioctls/content.ts): the GPU
 * accesses the pages of a populated tt.
 */
import type { TtContext } from '../../../machines/ttm/pool.js';
import { ERRNO } from '../../uapi/errno.js';
import { contextOf } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { ttEvent, ttId } from './tt.js';

/** A store into page `page` of tt number `tt`: -EINVAL no such tt or page, -EFAULT not populated. */
export function ttWritePage(w: World, tt: number, page: number, value: number): number {
  const id = ttId(w, tt);
  if (!id) return -ERRNO.EINVAL;
  if (page >= contextOf<TtContext>(w, id).num_pages) return -ERRNO.EINVAL;
  return ttEvent(w, id, { type: 'WRITE', page, value });
}

/** A load of page `page` of tt number `tt`: the value, or a negative errno as for writes. */
export function ttReadPage(w: World, tt: number, page: number): { ret: number; value?: number } {
  const id = ttId(w, tt);
  if (!id) return { ret: -ERRNO.EINVAL };
  const c = contextOf<TtContext>(w, id);
  if (page >= c.num_pages) return { ret: -ERRNO.EINVAL };
  const s = c.slots[page];
  if (!c.flags.populated || s?.t !== 'page') return { ret: -ERRNO.EFAULT };
  return { ret: 0, value: s.v };
}
