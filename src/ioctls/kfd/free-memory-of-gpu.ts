import type { ProcessContext } from '../../../machines/kfd/process.js';
import { ERRNO } from '../../uapi/errno.js';
import { GET_GPU_ID, GET_IDR_HANDLE } from '../../uapi/index.js';
import { idrRemove } from '../../world/idr.js';
import { contextOf, dropObject, send } from '../../world/objects.js';
import { boByHandle, pddByUserGpuId } from '../../world/world.js';
import { register } from '../registry.js';
import { u64 } from '../schema.js';
import { freeMemoryOfGpu } from './kernel/gpuvm.js';

// kfd_ioctl_free_memory_of_gpu (kfd_chardev.c), spec §7.2, §7.3
export const freeMemoryOfGpuIoctl = register<{ handle: bigint }>({
  name: 'AMDKFD_IOC_FREE_MEMORY_OF_GPU',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_free_memory_of_gpu (kfd_chardev.c), spec §7.2',
  checks: [
    'handle is the signal page BO (p->signal_handle) → -EPERM',
    'no pdd for GET_GPU_ID(handle) → -EINVAL',
    'no BO at GET_IDR_HANDLE(handle) → -EINVAL',
    'BO still mapped on a GPU → -EBUSY (handle kept)',
  ],
  args: { handle: u64 },
  out: [],
  run({ w, task }, a) {
    const p = contextOf<ProcessContext>(w, task.kfd_process!);
    // "Free signal BO is not allowed"
    if (p.signal_handle !== 0n && p.signal_handle === a.handle) return -ERRNO.EPERM;
    const pddId = pddByUserGpuId(w, task, GET_GPU_ID(a.handle));
    if (!pddId) return -ERRNO.EINVAL;
    const idr = GET_IDR_HANDLE(a.handle);
    const boId = boByHandle(w, pddId, idr);
    if (!boId) return -ERRNO.EINVAL;
    const size = freeMemoryOfGpu(w, boId);
    idrRemove(w, pddId, idr);
    dropObject(w, boId);
    send(w, pddId, { type: 'VRAM_USAGE_ADD', delta: -size });
    return 0;
  },
});
