import { ERRNO } from '../../../uapi/errno.js';
import { fileGet, filePut } from '../../../world/fds.js';
import { send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { fileOf, gpuById, pdd, pddByGpuId } from '../../../world/world.js';
import { bindProcessToDevice, initVm } from '../kernel/process.js';
import type { DeviceBucket } from './args.js';

/**
 * criu_restore_devices (kfd_chardev.c), spec §5.4 step 3, per bucket. The drm_file
 * check comes before fget (fixed) or after it, leaking the reference (fget-leak).
 */
export function restoreDevice(w: World, task: Task, b: DeviceBucket): number {
  if (b.user_gpu_id === 0) return -ERRNO.EINVAL;
  if (!gpuById(w, b.actual_gpu_id)) return -ERRNO.EINVAL;
  const pddId = pddByGpuId(w, task, b.actual_gpu_id);
  if (!pddId) return -ERRNO.EINVAL;
  const leaky = w.variants['kfd-restore-devices'] === 'fget-leak';
  // "CRIU restore ioctls are meant to be called by CRIU with no existing drm file."
  if (!leaky && pdd(w, pddId).drm_file) return -ERRNO.EINVAL;
  send(w, pddId, { type: 'SET_USER_GPU_ID', user_gpu_id: b.user_gpu_id });
  const file = fileOf(w, task, b.drm_fd);
  if (!file) return -ERRNO.EINVAL;
  fileGet(w, file.id); // fget
  if (leaky && pdd(w, pddId).drm_file) return -ERRNO.EINVAL; // the fget reference is never put
  const err = initVm(w, task, pddId, file.id);
  // Either init_vm failed (fput, any error collapsed to -EINVAL) or the pdd took its own reference.
  filePut(w, file.id, () => {});
  if (err) return -ERRNO.EINVAL;
  bindProcessToDevice(w, task, b.actual_gpu_id);
  send(w, pddId, { type: 'ALLOC_DOORBELLS' });
  return 0;
}
