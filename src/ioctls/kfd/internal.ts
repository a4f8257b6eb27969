/** Kernel-internal amdkfd events: workers and interrupts, made explicit (design "XState traps"). */
import type { BoContext } from '../../../machines/kfd/bo.js';
import { ERRNO } from '../../uapi/errno.js';
import { canSend, inState, send } from '../../world/objects.js';
import { liveTask } from '../../world/world.js';
import { register } from '../registry.js';
import { u32 } from '../schema.js';
import { restoreProcessQueues } from './kernel/process.js';

// amdgpu_amdkfd_restore_userptr_worker (amdgpu_amdkfd_gpuvm.c), spec §5.5 step 4
export const restoreUserptrWorker = register<{ pid: number; ran: number }>({
  name: 'kfd.restore_userptr_worker',
  kind: 'internal',
  needsPid: false,
  models: 'amdgpu_amdkfd_restore_userptr_worker → kgd2kfd_resume_mm (spec §5.5)',
  checks: ['no such process → -ESRCH', 'no work queued (no RESUME pending) → 0 with ran = 0'],
  args: { pid: u32 },
  out: ['ran'],
  run({ w }, a) {
    const task = liveTask(w, a.pid);
    if (!task?.kfd_process) return -ERRNO.ESRCH;
    a.ran = 0;
    if (!canSend(w, task.kfd_process, { type: 'USERPTR_RESTORE_WORKER' })) return 0;
    // Re-fetch the pages of every invalid userptr, then update PTEs.
    for (const [id, rec] of Object.entries(w.objects)) {
      if (rec.kind !== 'kfd.bo' || (rec.context as BoContext).pid !== task.pid) continue;
      if (inState(w, id, 'live.pages.invalid')) send(w, id, { type: 'VALIDATE_USERPTR' });
    }
    send(w, task.kfd_process, { type: 'USERPTR_RESTORE_WORKER' });
    // evicted_bos reset to 0 → kgd2kfd_resume_mm → kfd_process_restore_queues.
    restoreProcessQueues(w, task);
    a.ran = 1;
    return 0;
  },
});
