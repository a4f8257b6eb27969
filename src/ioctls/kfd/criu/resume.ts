import type { ProcessContext } from '../../../../machines/kfd/process.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOCTL_SVM_ATTR as A, KFD_IOCTL_SVM_LOCATION as LOC } from '../../../uapi/index.js';
import { contextOf, inState, send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { liveTask } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import { KernelReturn } from '../../registry.js';
import { svmSetAttr } from '../kernel/svm.js';
import type { CriuArgs } from './args.js';

/** kfd_criu_resume_svm (kfd_svm.c), spec §5.5 step 3: replay the saved ranges, then free them. */
function resumeSvm(w: World, task: Task): number {
  const saved = contextOf<ProcessContext>(w, task.kfd_process!).criu_svm_metadata;
  const err = replaySvm(w, task, saved);
  send(w, task.kfd_process!, { type: 'FREE_SVM_METADATA' });
  return err;
}

function replaySvm(w: World, task: Task, saved: ProcessContext['criu_svm_metadata']): number {
  for (const m of saved) {
    const setFlags = m.attrs.find((x) => x.type === A.SET_FLAGS)?.value ?? 0;
    const attrs = m.attrs.map((x) =>
      x.type === A.PREFETCH_LOC && x.value === LOC.UNDEFINED ? { type: A.SET_FLAGS, value: 0 } : x,
    );
    attrs.push({ type: A.CLR_FLAGS, value: ~setFlags >>> 0 });
    try {
      svmSetAttr(w, task, m.start, m.npages, attrs);
    } catch (e) {
      // "CRIU: failed to set range attributes"
      if (e instanceof KernelReturn) return e.ret;
      throw e;
    }
  }
  return 0;
}

// criu_resume (kfd_chardev.c) + amdgpu_amdkfd_criu_resume, spec §5.5
export function criuResume({ w }: Kernel, a: CriuArgs): number {
  const target = liveTask(w, a.pid);
  if (!target || !target.kfd_process) return -ERRNO.ESRCH;
  const err = resumeSvm(w, target);
  if (err) return err;
  // amdgpu_amdkfd_criu_resume counts evicted_bos first; without a RESTORE pending
  // (block_mmu_notifications clear: no RESTORE, or a second RESUME) it then fails.
  const blocked = inState(w, target.kfd_process, 'alive.mmu.blocked');
  send(w, target.kfd_process, { type: 'CRIU_RESUME' });
  return blocked ? 0 : -ERRNO.EINVAL;
}
