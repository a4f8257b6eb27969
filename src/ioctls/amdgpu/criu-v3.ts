/**
 * The March 2025 proposal: DRM_IOCTL_AMDGPU_CRIU_OP ("[PATCH v3 2/3] drm/amdgpu: Adding
 * amdgpu CRIU ioctl", amd-gfx 2025-03-28, a new amdgpu_criu.c; spec §8.1). Never merged:
 * Christian König refused a restore that does not go through the creating ioctls. Under the
 * `amdgpu-criu: "criu-ioctl-v3"` variant gpucr runs it as posted, defects included; every
 * line reference (here and in the criu-v3-*.ts modules) is a line of the posted amdgpu_criu.c
 * (462 lines).
 *
 * Assumptions of the model: the kernel zero-initialises automatic variables
 * (CONFIG_INIT_STACK_ALL_ZERO), so a variable the code never sets reads 0 / NULL; nothing
 * is interrupted (reserve_bo_and_vm succeeds); allocations succeed.
 *
 * This module is the op dispatch; each op is a module of its own: criu-v3-process-info.ts,
 * criu-v3-checkpoint.ts, criu-v3-restore.ts, over the UAPI (criu-v3-uapi.ts) and the walk of a
 * render-node file they share (criu-v3-file.ts).
 */
import { ERRNO } from '../../uapi/errno.js';
import { registerDrm } from '../drm/dispatch.js';
import { arrayOf, bytes, enumOf, nullable, u32, u64 } from '../schema.js';
import { checkpoint } from './criu-v3-checkpoint.js';
import { processInfo } from './criu-v3-process-info.js';
import { restore } from './criu-v3-restore.js';
import { bucketSchema, type CriuV3Args } from './criu-v3-uapi.js';
import { type Defect, OOPS_RET } from './oops.js';
import { AMDGPU_CRIU_OP as OP } from './uapi.js';

export {
  BO_PRIV_SIZE,
  type CriuV3BoPriv,
  type CriuV3Bucket,
  type CriuV3VmPriv,
  decodeCriuV3Priv,
  encodeCriuV3Priv,
  VM_PRIV_SIZE,
} from './criu-v3-uapi.js';

// amdgpu_criu_op_ioctl (amdgpu_criu.c:434-462, proposal v3), spec §8.1
export const amdgpuCriuOp = registerDrm<CriuV3Args>({
  name: 'DRM_IOCTL_AMDGPU_CRIU_OP',
  models:
    'amdgpu_criu_op_ioctl (amdgpu_criu.c of "[PATCH v3 2/3] drm/amdgpu: Adding amdgpu CRIU ioctl", never merged), spec §8.1',
  checks: [
    'not under amdgpu-criu "criu-ioctl-v3" (no such ioctl) → -EINVAL',
    'PROCESS_INFO (:87): num_bos = handles, num_objs = their mappings in this VM, priv_data_size = 4 × num_bos + 40 × num_objs, pid = the VM’s task → 0 (nothing is paused)',
    'CHECKPOINT (:132): num_bos ≠ the number of handles → -EINVAL; more mappings than num_objs → oops (:205, write past the vm_privs buffer); each BO exported to an fd of the caller, a failed export ignored (:193, the previous fd kept); NULL bos or priv_data → -EFAULT (:232) after the exports',
    'UNPAUSE (:263), RESUME (:428) → 0',
    'RESTORE (:269): bos or priv_data shorter than num_bos / num_objs say → -EINVAL; per bucket: SKIP → skipped; not IS_IMPORT → a new BO at the lowest free handle (the saved handle is not restored, :342), its creation reference leaked (:341), the saved handle exported (:346, maybe another BO or none → dmabuf_fd 0); IS_IMPORT → oops (:358, uninitialised obj); each vm priv mapped, a failed map ignored (:396) → 0',
    'RESTORE_RETRY (enum value 4) has no case in the switch → -EINVAL (:456)',
    'any other op → -EINVAL',
  ],
  args: {
    bos: nullable(arrayOf(bucketSchema)),
    priv_data: nullable(bytes),
    priv_data_size: nullable(u64),
    num_bos: nullable(u32),
    num_objs: nullable(u32),
    pid: u32,
    op: enumOf(OP, 'AMDGPU_CRIU_OP_'),
  },
  out: ['bos', 'priv_data', 'priv_data_size', 'num_bos', 'num_objs', 'pid', 'oops', 'defects'],
  run(k, a) {
    const defects: Defect[] = [];
    let r: number;
    switch (a.op) {
      case OP.PROCESS_INFO:
        a.bos = null;
        a.priv_data = null;
        r = processInfo(k, a);
        break;
      case OP.CHECKPOINT:
        r = checkpoint(k, a, defects);
        break;
      case OP.UNPAUSE:
      case OP.RESUME:
        r = 0;
        break;
      case OP.RESTORE:
        r = restore(k, a, defects);
        break;
      default:
        r = -ERRNO.EINVAL;
    }
    const o = k.w.oopses?.[k.w.oopses.length - 1];
    if (r === OOPS_RET && o !== undefined) a.oops = `${o.where}: ${o.what}`;
    if (defects.length) a.defects = defects;
    return r;
  },
});
