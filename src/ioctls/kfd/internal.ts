/** Kernel-internal amdkfd events: workers and interrupts, made explicit (design "XState traps"). */
import { ERRNO } from '../../uapi/errno.js';
import type { EventContext } from '../../../machines/kfd/event.js';
import { KFD_IOC_EVENT } from '../../uapi/index.js';
import { allocIdr } from '../../world/idr.js';
import { canSend, contextOf, inState, send } from '../../world/objects.js';
import type { Task, World } from '../../world/types.js';
import { gpuById, liveTask, pdd, pddByGpuId, pddByUserGpuId } from '../../world/world.js';
import { register } from '../registry.js';
import { u32, u64 } from '../schema.js';
import { userptrValidated } from './kernel/gpuvm.js';
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
    // Re-fetch the pages of every invalid userptr of the process (process_info's
    // userptr_inval_list: its BOs are in its pdds' IDRs), then update PTEs.
    for (const pddId of task.pdds)
      for (const id of Object.values(allocIdr(w, pddId))) {
        if (!inState(w, id, 'live.pages.invalid')) continue;
        send(w, id, { type: 'VALIDATE_USERPTR' });
        // Page tables updated: its pending mappings become valid.
        userptrValidated(w, id);
      }
    send(w, task.kfd_process, { type: 'USERPTR_RESTORE_WORKER' });
    // evicted_bos reset to 0 → kgd2kfd_resume_mm → kfd_process_restore_queues.
    restoreProcessQueues(w, task);
    a.ran = 1;
    return 0;
  },
});

/** Signal every event of a type in a process, with the exception data the interrupt handler copies in. */
function signalAll(
  w: World,
  task: Task,
  type: number,
  data: Partial<Pick<EventContext, 'memory_exception_data' | 'hw_exception_data'>>,
): number {
  let n = 0;
  for (const id of Object.values(task.events)) {
    if (contextOf<EventContext>(w, id).type !== type) continue;
    send(w, id, {
      type: 'SIGNAL',
      ...(data.memory_exception_data ? { memory_exception_data: data.memory_exception_data } : {}),
      ...(data.hw_exception_data ? { hw_exception_data: data.hw_exception_data } : {}),
    });
    n++;
  }
  return n;
}

// kfd_signal_vm_fault_event (kfd_events.c): a GPU page fault signals the process's MEMORY events.
export const vmFault = register<{ pid: number; gpu_id: number; va: bigint; read_only: number; signaled: number }>({
  name: 'kfd.vm_fault',
  kind: 'internal',
  needsPid: false,
  models: 'kfd_signal_vm_fault_event (kfd_events.c): a VM fault on a GPU signals the MEMORY events of the process',
  checks: ['no such process → -ESRCH', 'gpu_id not a GPU of the process → -EINVAL'],
  args: { pid: u32, gpu_id: u32, va: u64, read_only: u32 },
  out: ['signaled'],
  run({ w }, a) {
    const task = liveTask(w, a.pid);
    if (!task?.kfd_process) return -ERRNO.ESRCH;
    if (!pddByUserGpuId(w, task, a.gpu_id)) return -ERRNO.EINVAL;
    a.signaled = signalAll(w, task, KFD_IOC_EVENT.MEMORY, {
      memory_exception_data: {
        failure: { NotPresent: a.read_only ? 0 : 1, ReadOnly: a.read_only ? 1 : 0, NoExecute: 0, imprecise: 0 },
        va: a.va,
        gpu_id: a.gpu_id,
        ErrorType: 0,
      },
    });
    return 0;
  },
});

// kfd_signal_reset_event (kfd_events.c): a GPU reset signals the HW_EXCEPTION events of every process on it.
export const gpuReset = register<{ gpu_id: number; memory_lost: number; signaled: number }>({
  name: 'kfd.gpu_reset',
  kind: 'internal',
  needsPid: false,
  models: 'kfd_signal_reset_event (kfd_events.c): a whole-GPU reset signals HW_EXCEPTION events with reset data',
  checks: ['gpu_id not in the topology → -EINVAL'],
  args: { gpu_id: u32, memory_lost: u32 },
  out: ['signaled'],
  run({ w }, a) {
    if (!gpuById(w, a.gpu_id)) return -ERRNO.EINVAL;
    a.signaled = 0;
    for (const task of Object.values(w.tasks)) {
      if (!task.alive || !task.kfd_process || !pddByGpuId(w, task, a.gpu_id)) continue;
      const user = pdd(w, pddByGpuId(w, task, a.gpu_id)!).user_gpu_id;
      a.signaled += signalAll(w, task, KFD_IOC_EVENT.HW_EXCEPTION, {
        hw_exception_data: { reset_type: 0, reset_cause: 0, memory_lost: a.memory_lost ? 1 : 0, gpu_id: user },
      });
    }
    return 0;
  },
});
