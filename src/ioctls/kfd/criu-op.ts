import { ERRNO } from '../../uapi/errno.js';
import { KFD_CRIU_OP } from '../../uapi/index.js';
import { register } from '../registry.js';
import { type CriuArgs, criuArgsSchema, defaultCounts } from './criu/args.js';
import { criuCheckpoint } from './criu/checkpoint.js';
import { criuProcessInfo } from './criu/process-info.js';
import { criuRestore } from './criu/restore.js';
import { criuResume } from './criu/resume.js';
import { criuUnpause } from './criu/unpause.js';

// kfd_ioctl_criu (kfd_chardev.c), spec §5
export const criuOp = register<CriuArgs>({
  name: 'AMDKFD_IOC_CRIU_OP',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_criu (kfd_chardev.c), spec §5',
  checks: [
    'PROCESS_INFO (§5.1): no pdd → -ENODEV; evict and pause; a queue type that cannot be checkpointed → -EOPNOTSUPP, undone',
    'CHECKPOINT (§5.2): NULL devices/bos/priv_data → -EINVAL; no pdd → -ENODEV; not paused → -EINVAL; counts or size changed → -EINVAL; an active queue → -EINVAL',
    'UNPAUSE (§5.3): not paused → -EINVAL',
    'RESTORE (§5.4): NULL buffers or zero counts → -EINVAL (6.18: num_bos may be 0); version ≠ 1 → -EINVAL; xnack unsupported → -EPERM; num_devices ≠ n_pdds → -EINVAL; per device: user_gpu_id 0, unknown actual id, drm file already set, bad drm_fd, init_vm failure → -EINVAL; per BO: unknown user gpu → -ENODEV, bad doorbell/MMIO size → -EINVAL, handle taken → -ENOMEM, unknown mapped gpu → -EINVAL; objects: unknown type → -EINVAL, duplicate queue id → -ENOSPC, a queue on a MES GPU (GC 11+: init_user_queue without a write-pointer BO) → -EINVAL, event page BO missing → -EINVAL; trailing bytes → -EINVAL',
    'RESUME (§5.5): pid without a kfd process → -ESRCH; no RESTORE pending (block_mmu_notifications clear) → -EINVAL',
    'unknown op → -EINVAL',
  ],
  args: criuArgsSchema,
  out: ['devices', 'bos', 'priv_data', 'priv_data_size', 'num_devices', 'num_bos', 'num_objects', 'pid'],
  run(k, a) {
    defaultCounts(a);
    switch (a.op) {
      case KFD_CRIU_OP.PROCESS_INFO:
        return criuProcessInfo(k, a);
      case KFD_CRIU_OP.CHECKPOINT:
        return criuCheckpoint(k, a);
      case KFD_CRIU_OP.UNPAUSE:
        return criuUnpause(k);
      case KFD_CRIU_OP.RESTORE:
        return criuRestore(k, a);
      case KFD_CRIU_OP.RESUME:
        return criuResume(k, a);
      default:
        return -ERRNO.EINVAL;
    }
  },
});
