/**
 * kfd_ioctl(): the checks every /dev/kfd ioctl passes before its function runs
 * (kfd_chardev.c, spec §4).
 */
import { ERRNO } from '../../uapi/errno.js';
import { fileOf } from '../../world/world.js';
import type { CallDef, Kernel } from '../registry.js';

/** Ioctls flagged KFD_IOC_FLAG_CHECKPOINT_RESTORE (only CRIU_OP). */
const CHECKPOINT_RESTORE_IOCTLS = new Set(['AMDKFD_IOC_CRIU_OP']);

// kfd_ioctl (kfd_chardev.c), spec §4
export function kfdIoctl(k: Kernel, def: CallDef, kdata: Record<string, unknown>): number {
  const { w, task, call } = k;
  // sys_ioctl: fdget fails on a closed fd.
  if (call.fd === undefined) return -ERRNO.EBADF;
  const file = fileOf(w, task, call.fd);
  if (!file) return -ERRNO.EBADF;
  // Not a /dev/kfd file: the tty or the render node does not know this ioctl.
  if (file.kind !== 'kfd') return -ERRNO.ENOTTY;
  const flaggedCr = CHECKPOINT_RESTORE_IOCTLS.has(def.name);
  const owner = w.tasks[file.pid];
  const ptraceAttached = flaggedCr && owner?.ptrace_parent === task.pid;
  // "Using KFD FD in wrong process"
  if (file.pid !== task.pid && !ptraceAttached) return -ERRNO.EBADF;
  if (flaggedCr && !task.caps.includes('CAP_CHECKPOINT_RESTORE') && !task.caps.includes('CAP_SYS_ADMIN'))
    return -ERRNO.EACCES;
  return def.run({ ...k, file }, kdata);
}
