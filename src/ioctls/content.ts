/**
 * Content events (design "Content"): a workload writes and reads u32 values per page
 * of a BO, so every copy path can be checked page by page.
 */
import { ERRNO } from '../uapi/errno.js';
import { GET_GPU_ID, GET_IDR_HANDLE } from '../uapi/index.js';
import type { Gem } from '../world/types.js';
import { bo, boByHandle, fileOf, pddByUserGpuId } from '../world/world.js';
import type { Kernel } from './registry.js';
import { register } from './registry.js';
import { u32, u64 } from './schema.js';

/** The BO is named by the event's `fd` (a /dev/kfd file) and its KFD handle. */
interface ContentArgs {
  handle: bigint;
  page: number;
  value: number;
}

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
  needsPid: true,
  models: 'a workload store of one u32 value into a page of a BO (content model)',
  checks: [
    'fd not open → -EBADF; not /dev/kfd → -EINVAL',
    'no BO at the handle → -EINVAL',
    'page beyond the BO → -EINVAL',
  ],
  args: { handle: u64, page: u32, value: u32 },
  out: [],
  run(k, a) {
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
  needsPid: true,
  models: 'a workload load of the u32 value of a page of a BO (content model)',
  checks: [
    'fd not open → -EBADF; not /dev/kfd → -EINVAL',
    'no BO at the handle → -EINVAL',
    'page beyond the BO → -EINVAL',
  ],
  args: { handle: u64, page: u32, value: u32 },
  out: ['value'],
  run(k, a) {
    const gem = gemOf(k, a);
    if (typeof gem === 'number') return gem;
    a.value = gem.content[a.page] ?? 0;
    return 0;
  },
});
