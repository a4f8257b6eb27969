/**
 * CHECKPOINT (criu_checkpoint, kfd_chardev.c; spec §5.2): the argument checks, then the priv
 * data in the kernel's order — process, devices, BO privs (reserved), objects (queues, events,
 * SVM ranges; checkpoint-objects.ts) — and the BOs last (checkpoint-bos.ts), so that their
 * dma-buf fds are installed only when everything succeeded.
 */
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import { encodePrivData, KFD_CRIU_PRIV_VERSION, type ObjectPriv, type ProcessPriv } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { contextOf } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { kfdFileTask, pdd } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import type { CriuArgs, DeviceBucket } from './args.js';
import { criuCheckpointBos } from './checkpoint-bos.js';
import { checkpointEvents, checkpointQueues, checkpointSvm } from './checkpoint-objects.js';
import { commitFiles } from './commit-files.js';
import { processObjectInfo } from './object-info.js';
import type { PendingFds } from './restore-bos.js';

// criu_checkpoint (kfd_chardev.c), spec §5.2
export function criuCheckpoint({ w, file, task: caller }: Kernel, a: CriuArgs): number {
  if (!a.devices || !a.bos || !a.priv_data) return -ERRNO.EINVAL;
  const task = kfdFileTask(w, file);
  if (task.pdds.length === 0) return -ERRNO.ENODEV;
  // "Cannot dump process when queues are not in evicted state"
  if (!contextOf<ProcessContext>(w, task.kfd_process!).queues_paused) return -ERRNO.EINVAL;
  const info = processObjectInfo(w, task);
  if (
    info.num_devices !== a.num_devices ||
    info.num_bos !== a.num_bos ||
    info.num_objects !== a.num_objects ||
    info.priv_data_size !== a.priv_data_size
  )
    return -ERRNO.EINVAL;
  const process = criuCheckpointProcess(w, task);
  const devices = criuCheckpointDevices(w, task);
  const objects: ObjectPriv[] = [];
  const err = checkpointQueues(w, task, objects);
  if (err) return err;
  checkpointEvents(w, task, objects);
  checkpointSvm(w, task, objects);
  // criu_checkpoint_bos last, so that dmabuf fds are installed only when all succeeded.
  const pending: PendingFds = { reserved: new Set(), files: [] };
  const { buckets, privs } = criuCheckpointBos(w, task, caller, pending);
  a.devices = devices;
  a.bos = buckets;
  a.priv_data = encodePrivData(
    { process, devices: devices.map(() => ({ reserved: 0n })), bos: privs, objects },
    w.variants.max_gpu_instance,
  );
  commitFiles(w, caller, pending);
  return 0;
}

// criu_checkpoint_process (kfd_chardev.c), spec §5.2 step 1
function criuCheckpointProcess(w: World, task: Task): ProcessPriv {
  const xnack = contextOf<ProcessContext>(w, task.kfd_process!).xnack_enabled;
  return { version: KFD_CRIU_PRIV_VERSION, xnack_mode: xnack ? 1 : 0 };
}

// criu_checkpoint_devices (kfd_chardev.c), spec §5.2 step 2: drm_fd is not set
function criuCheckpointDevices(w: World, task: Task): DeviceBucket[] {
  return task.pdds.map((id) => ({
    user_gpu_id: pdd(w, id).user_gpu_id,
    actual_gpu_id: pdd(w, id).gpu_id,
    drm_fd: 0,
    pad: 0,
  }));
}
