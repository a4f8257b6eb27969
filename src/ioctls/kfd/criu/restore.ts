/**
 * RESTORE (criu_restore, kfd_chardev.c; spec §5.4), on the restoring process's own /dev/kfd:
 * the argument checks, the eviction, then the priv data in the kernel's order — process,
 * devices (restore-devices.ts per bucket), BOs (restore-bos.ts per bucket), objects
 * (restore-objects.ts) — and the check that the blob was used up. No rollback on failure.
 */
import { KFD_CRIU_PRIV_VERSION, PRIV_SIZES, PrivDataError, PrivReader, readBoPriv } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { kfdFileTask } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import { KernelReturn } from '../../registry.js';
import { evictProcessQueues, xnackModeSupported } from '../kernel/process.js';
import type { BoBucket, CriuArgs } from './args.js';
import { commitFiles } from './commit-files.js';
import { type PendingFds, restoreBo } from './restore-bos.js';
import { restoreDevice } from './restore-devices.js';
import { restoreObjects } from './restore-objects.js';

// criu_restore (kfd_chardev.c), spec §5.4 — no rollback on failure.
export function criuRestore(k: Kernel, a: CriuArgs): number {
  const { w, file, task: caller } = k;
  const numBos = a.num_bos ?? 0;
  const numDevices = a.num_devices ?? 0;
  if (restoreArgsInvalid(w, a, numBos, numDevices)) return -ERRNO.EINVAL;
  const task = kfdFileTask(w, file);
  const size = Number(a.priv_data_size);
  const blob = a.priv_data!.subarray(0, size);
  // A priv_data shorter than priv_data_size faults where the kernel copies past its end.
  const shortBuffer = a.priv_data!.length < size;
  const r = new PrivReader(blob);
  // "Set the process to evicted state to avoid running any new queues before all the memory mappings are ready."
  evictProcessQueues(w, task);
  try {
    let err = criuRestoreProcess(w, task, r);
    if (!err) err = criuRestoreDevices(w, task, a, r, numDevices);
    if (!err) err = criuRestoreBos(w, task, caller, a, r, numBos);
    if (err) return err;
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

/**
 * criu_restore's argument checks (before the lock), in the kernel's order: since 6.18
 * ("Allow kfd CRIU with no buffer objects") num_bos may be 0 with a NULL bos.
 */
function restoreArgsInvalid(w: World, a: CriuArgs, numBos: number, numDevices: number): boolean {
  return w.variants.kernel === '6.18'
    ? (numBos > 0 && !a.bos) || !a.devices || !a.priv_data || !a.priv_data_size || !numDevices
    : !a.bos || !a.devices || !a.priv_data || !a.priv_data_size || !numDevices || !numBos;
}

// criu_restore_process (kfd_chardev.c), spec §5.4 step 2
function criuRestoreProcess(w: World, task: Task, r: PrivReader): number {
  r.need(PRIV_SIZES.process, 'process');
  const version = r.u32(0);
  const xnack = r.u32(4);
  r.pos += PRIV_SIZES.process;
  if (version !== KFD_CRIU_PRIV_VERSION) return -ERRNO.EINVAL;
  if (xnack && !xnackModeSupported(w)) return -ERRNO.EPERM;
  send(w, task.kfd_process!, { type: 'SET_XNACK', enabled: xnack !== 0 });
  return 0;
}

// criu_restore_devices (kfd_chardev.c), spec §5.4 step 3
function criuRestoreDevices(w: World, task: Task, a: CriuArgs, r: PrivReader, numDevices: number): number {
  if (numDevices !== task.pdds.length) return -ERRNO.EINVAL;
  r.need(numDevices * PRIV_SIZES.device, 'devices');
  if (a.devices!.length < numDevices) return -ERRNO.EFAULT;
  for (let i = 0; i < numDevices; i++) {
    const err = restoreDevice(w, task, a.devices![i]!);
    if (err) return err;
  }
  r.pos += numDevices * PRIV_SIZES.device;
  return 0;
}

// criu_restore_bos (kfd_chardev.c), spec §5.4 step 4
function criuRestoreBos(w: World, task: Task, caller: Task, a: CriuArgs, r: PrivReader, numBos: number): number {
  r.need(numBos * PRIV_SIZES.bo(w.variants.max_gpu_instance), 'bos');
  // "Prevent MMU notifications until stage-4 IOCTL (CRIU_RESUME) is received"
  send(w, task.kfd_process!, { type: 'BLOCK_MMU_NOTIFICATIONS' });
  if ((a.bos?.length ?? 0) < numBos) return -ERRNO.EFAULT;
  const buckets = a.bos ?? [];
  const pending: PendingFds = { reserved: new Set(), files: [] };
  restoreBuckets(w, task, caller, buckets, r, numBos, pending);
  // Copy the buckets back so user space reads restored_offset and dmabuf_fd; commit_files.
  a.bos = buckets.length === numBos ? buckets : buckets.slice(0, numBos);
  commitFiles(w, caller, pending);
  return 0;
}

/**
 * criu_restore_bo for each of the first `numBos` buckets. The buckets are the kernel's copy of
 * the user array (kdata): restored_offset and dmabuf_fd are written in place and copied back to
 * user space only if every BO succeeded, so a failure puts back the values of the buckets
 * already written.
 */
function restoreBuckets(
  w: World,
  task: Task,
  caller: Task,
  buckets: BoBucket[],
  r: PrivReader,
  numBos: number,
  pending: PendingFds,
): void {
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
}
