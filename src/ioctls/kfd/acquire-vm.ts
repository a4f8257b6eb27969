import { ERRNO } from '../../uapi/errno.js';
import { fileOf, pdd, pddByUserGpuId } from '../../world/world.js';
import { register } from '../registry.js';
import { u32 } from '../schema.js';
import { initVm } from './kernel/process.js';

// kfd_ioctl_acquire_vm (kfd_chardev.c), spec §7.2
export const acquireVm = register<{ drm_fd: number; gpu_id: number }>({
  name: 'AMDKFD_IOC_ACQUIRE_VM',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_acquire_vm (kfd_chardev.c), spec §7.2',
  checks: [
    'fget(drm_fd) fails → -EINVAL',
    'no pdd for gpu_id (user id) → -EINVAL',
    'pdd already has a drm file: the same file → 0, another → -EBUSY',
    'kfd_process_device_init_vm: not an amdgpu render-node file of that GPU → -EINVAL; already a compute VM → -EINVAL',
  ],
  args: { drm_fd: u32, gpu_id: u32 },
  out: [],
  run({ w, task }, a) {
    const file = fileOf(w, task, a.drm_fd);
    if (!file) return -ERRNO.EINVAL;
    const pddId = pddByUserGpuId(w, task, a.gpu_id);
    if (!pddId) return -ERRNO.EINVAL;
    const current = pdd(w, pddId).drm_file;
    if (current) return current === file.id ? 0 : -ERRNO.EBUSY;
    return initVm(w, task, pddId, file.id);
  },
});
