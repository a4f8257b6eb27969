/**
 * Content events (design "Content"): a workload writes and reads u32 values per page
 * of a BO, so every copy path can be checked page by page.
 *
 * The object is named in one of three ways: a KFD BO by the event's `fd` (a /dev/kfd
 * file of the caller `pid`) and its KFD `handle`; a ttm_tt by `tt` (ttm.create's out);
 * an i915 LMEM object or an Xe BO by `obj` (i915.create's or xe.create's out). Only the
 * first form is issued by a process and needs `pid`.
 */
import { InputError } from '../errors.js';
import { ERRNO } from '../uapi/errno.js';
import { GET_GPU_ID, GET_IDR_HANDLE } from '../uapi/index.js';
import type { Gem } from '../world/types.js';
import { bo, boByHandle, fileOf, pddByUserGpuId } from '../world/world.js';
import { objReadPage, objWritePage } from './i915/content.js';
import type { Kernel } from './registry.js';
import { register } from './registry.js';
import { u32, u64 } from './schema.js';
import { ttReadPage, ttWritePage } from './ttm/content.js';

/** The BO is named by the event's `fd` (a /dev/kfd file) and its KFD handle, or by `tt`, or by `obj`. */
interface ContentArgs {
  handle: bigint;
  page: number;
  value: number;
  /** ttm.create's `tt` (0: not this form). */
  tt: number;
  /** i915.create's or xe.create's `obj` (0: not this form). */
  obj: number;
}

/** Which form names the object: -EINVAL when more than one is given. */
function formOf(k: Kernel, a: ContentArgs): 'kfd' | 'tt' | 'obj' | number {
  const forms = (a.tt !== 0 ? 1 : 0) + (a.obj !== 0 ? 1 : 0) + (a.handle !== 0n ? 1 : 0);
  if (forms > 1) return -ERRNO.EINVAL;
  if (a.tt !== 0) return 'tt';
  if (a.obj !== 0) return 'obj';
  if (k.call.pid === undefined)
    throw new InputError('pid', `a pid for ${k.call.call} on a KFD BO (fd + handle)`, undefined);
  return 'kfd';
}

const FORM_CHECKS = [
  'more than one of handle, tt, obj given → -EINVAL; handle form without pid → bad input',
  'tt form: no such tt or page beyond it → -EINVAL; tt not populated (or the slot holds no page) → -EFAULT',
  'obj form: see docs/ttm-i915-events.md (no such object or page → -EINVAL; device suspended → -EBUSY; GT wedged → -EIO; LMEM full of pinned objects → -ENOSPC)',
];

/** The GEM object a (kfd fd, KFD handle) names, or an errno. */
function gemOf({ w, task, call }: Kernel, a: ContentArgs): Gem | number {
  const file = call.fd === undefined ? undefined : fileOf(w, task, call.fd);
  if (!file) return -ERRNO.EBADF;
  if (file.kind !== 'kfd') return -ERRNO.EINVAL;
  const pddId = pddByUserGpuId(w, task, GET_GPU_ID(a.handle));
  const boId = pddId ? boByHandle(w, pddId, GET_IDR_HANDLE(a.handle)) : undefined;
  if (!boId) return -ERRNO.EINVAL;
  const gem = w.gems[bo(w, boId).gem]!;
  if (BigInt(a.page) * BigInt(w.topology.page_size) >= gem.size) return -ERRNO.EINVAL;
  return gem;
}

export const gpuWrite = register<ContentArgs>({
  name: 'gpu_write',
  kind: 'syscall',
  needsPid: false,
  models: 'a workload store of one u32 value into a page of a BO (content model)',
  checks: [
    'fd not open → -EBADF; not /dev/kfd → -EINVAL',
    'no BO at the handle → -EINVAL',
    'page beyond the BO → -EINVAL',
    ...FORM_CHECKS,
  ],
  args: { handle: u64, page: u32, value: u32, tt: u32, obj: u32 },
  out: [],
  run(k, a) {
    const form = formOf(k, a);
    if (typeof form === 'number') return form;
    if (form === 'tt') return ttWritePage(k.w, a.tt, a.page, a.value);
    if (form === 'obj') return objWritePage(k.w, a.obj, a.page, a.value);
    const gem = gemOf(k, a);
    if (typeof gem === 'number') return gem;
    if (a.value === 0) delete gem.content[a.page];
    else gem.content[a.page] = a.value;
    return 0;
  },
});

export const gpuRead = register<ContentArgs>({
  name: 'gpu_read',
  kind: 'syscall',
  needsPid: false,
  models: 'a workload load of the u32 value of a page of a BO (content model)',
  checks: [
    'fd not open → -EBADF; not /dev/kfd → -EINVAL',
    'no BO at the handle → -EINVAL',
    'page beyond the BO → -EINVAL',
    ...FORM_CHECKS,
  ],
  args: { handle: u64, page: u32, value: u32, tt: u32, obj: u32 },
  out: ['value'],
  run(k, a) {
    const form = formOf(k, a);
    if (typeof form === 'number') return form;
    if (form !== 'kfd') {
      const r = form === 'tt' ? ttReadPage(k.w, a.tt, a.page) : objReadPage(k.w, a.obj, a.page);
      if (r.value !== undefined) a.value = r.value;
      return r.ret;
    }
    const gem = gemOf(k, a);
    if (typeof gem === 'number') return gem;
    a.value = gem.content[a.page] ?? 0;
    return 0;
  },
});
