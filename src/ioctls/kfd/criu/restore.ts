import { KFD_CRIU_PRIV_VERSION, PRIV_SIZES, PrivDataError, PrivReader, readBoPriv } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { fileGet } from '../../../world/fds.js';
import { send } from '../../../world/objects.js';
import { kfdFileTask } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import { KernelReturn } from '../../registry.js';
import { evictProcessQueues, xnackModeSupported } from '../kernel/process.js';
import type { CriuArgs } from './args.js';
import { type PendingFds, restoreBo } from './restore-bos.js';
import { restoreDevice } from './restore-devices.js';
import { restoreObjects } from './restore-objects.js';

// criu_restore (kfd_chardev.c), spec §5.4 — no rollback on failure.
export function criuRestore(k: Kernel, a: CriuArgs): number {
  const { w, file, task: caller } = k;
  const numBos = a.num_bos ?? 0;
  const numDevices = a.num_devices ?? 0;
  const bad =
    w.variants.kernel === '6.18'
      ? (numBos > 0 && !a.bos) || !a.devices || !a.priv_data || !a.priv_data_size || !numDevices
      : !a.bos || !a.devices || !a.priv_data || !a.priv_data_size || !numDevices || !numBos;
  if (bad) return -ERRNO.EINVAL;
  const task = kfdFileTask(w, file);
  const size = Number(a.priv_data_size);
  const blob = a.priv_data!.subarray(0, size);
  // A priv_data shorter than priv_data_size faults where the kernel copies past its end.
  const shortBuffer = a.priv_data!.length < size;
  const r = new PrivReader(blob);
  // "Set the process to evicted state to avoid running any new queues before all the memory mappings are ready."
  evictProcessQueues(w, task);
  const pending: PendingFds = { reserved: new Set(), files: [] };
  try {
    // criu_restore_process
    r.need(PRIV_SIZES.process, 'process');
    const version = r.u32(0);
    const xnack = r.u32(4);
    r.pos += PRIV_SIZES.process;
    if (version !== KFD_CRIU_PRIV_VERSION) return -ERRNO.EINVAL;
    if (xnack && !xnackModeSupported(w)) return -ERRNO.EPERM;
    send(w, task.kfd_process!, { type: 'SET_XNACK', enabled: xnack !== 0 });
    // criu_restore_devices
    if (numDevices !== task.pdds.length) return -ERRNO.EINVAL;
    r.need(numDevices * PRIV_SIZES.device, 'devices');
    if (a.devices!.length < numDevices) return -ERRNO.EFAULT;
    for (const bucket of a.devices!.slice(0, numDevices)) {
      const err = restoreDevice(w, task, bucket);
      if (err) return err;
    }
    r.pos += numDevices * PRIV_SIZES.device;
    // criu_restore_bos
    r.need(numBos * PRIV_SIZES.bo(w.variants.max_gpu_instance), 'bos');
    // "Prevent MMU notifications until stage-4 IOCTL (CRIU_RESUME) is received"
    send(w, task.kfd_process!, { type: 'BLOCK_MMU_NOTIFICATIONS' });
    if ((a.bos?.length ?? 0) < numBos) return -ERRNO.EFAULT;
    // The buckets are the kernel's copy of the user array (kdata): restored_offset and
    // dmabuf_fd are written in place and copied back to user space only if every BO succeeded,
    // so a failure puts back the values of the buckets already written.
    const buckets = a.bos ?? [];
    const offsets = new Array<bigint>(numBos);
    const fds = new Array<number>(numBos);
    let i = 0;
    try {
      for (; i < numBos; i++) {
        const b = buckets[i]!;
        offsets[i] = b.restored_offset;
        fds[i] = b.dmabuf_fd;
        restoreBo(w, task, b, readBoPriv(r, w.variants.max_gpu_instance, i), caller, pending);
      }
    } catch (e) {
      for (let j = 0; j <= i && j < numBos; j++) {
        buckets[j]!.restored_offset = offsets[j]!;
        buckets[j]!.dmabuf_fd = fds[j]!;
      }
      throw e;
    }
    // Copy the buckets back so user space reads restored_offset and dmabuf_fd; commit_files.
    a.bos = buckets.length === numBos ? buckets : buckets.slice(0, numBos);
    for (const { fd, file: f } of pending.files) {
      caller.fds[fd] = f;
      fileGet(w, f);
    }
    pending.files = [];
    restoreObjects(w, task, r, a.num_objects);
    // "Invalid private data size"
    if (r.pos !== size) return -ERRNO.EINVAL;
    return 0;
  } catch (e) {
    if (e instanceof PrivDataError) return shortBuffer ? -ERRNO.EFAULT : -ERRNO.EINVAL;
    if (e instanceof KernelReturn) return e.ret;
    throw e;
  }
}
