/**
 * `kfd.restore-queues-wait` (docs/invariants.md): the queues of a restored process do not
 * run before RESUME and the userptr restore worker. While its kfd_process is between
 * RESTORE (block_mmu_notifications) and the worker, every queue is evicted and every pdd
 * holds an eviction (spec §5.4 step 1, §5.5 step 4, §6.1).
 */
import { inState } from '../world/objects.js';
import type { World } from '../world/types.js';
import type { Violation } from './index.js';
import { liveTasks } from './kfd-world.js';

export function restoreQueuesWait(w: World): Violation[] {
  const out: Violation[] = [];
  for (const t of liveTasks(w)) {
    if (!t.kfd_process) continue;
    const stage = restoreStage(w, t.kfd_process);
    if (!stage) continue;
    for (const q of Object.values(t.queues)) {
      if (w.objects[q] && inState(w, q, 'active'))
        out.push({ message: `${q} of task ${t.pid} is active ${stage}`, objects: [q, t.kfd_process] });
    }
    for (const pddId of t.pdds) {
      if (w.objects[pddId] && !inState(w, pddId, 'alive.queues.evicted'))
        out.push({ message: `${pddId} of task ${t.pid} runs its queues ${stage}`, objects: [pddId, t.kfd_process] });
    }
  }
  return out;
}

/** Where a kfd_process is between RESTORE and the userptr worker, in the words of the messages. */
function restoreStage(w: World, kfdProcess: string): string | undefined {
  if (!w.objects[kfdProcess]) return undefined;
  if (inState(w, kfdProcess, 'alive.mmu.blocked')) return 'between RESTORE and RESUME';
  if (inState(w, kfdProcess, 'alive.mmu.userptrRestorePending')) return 'between RESUME and the userptr restore worker';
  return undefined;
}
