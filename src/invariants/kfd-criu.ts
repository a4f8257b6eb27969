/**
 * KFD CRIU invariants about what the CRIU ops leave behind (docs/invariants.md): they are
 * functions of the world alone, like those of src/invariants/kfd.ts.
 */
import type { PddContext } from '../../machines/kfd/pdd.js';
import { inState } from '../world/objects.js';
import type { World } from '../world/types.js';
import { registerInvariant, type Violation } from './index.js';

/**
 * Whether nothing CRIU did still holds this process's queues: not paused (PROCESS_INFO …
 * UNPAUSE) and not between RESTORE and the userptr restore worker (which drops RESTORE's
 * eviction, spec §5.5).
 */
function criuReleased(w: World, kfdProcess: string): boolean {
  return inState(w, kfdProcess, 'alive.criu.running') && inState(w, kfdProcess, 'alive.mmu.notifying');
}

registerInvariant(
  'kfd.criu-queues-released',
  'once CRIU has released a process (not paused by PROCESS_INFO, not between RESTORE and the userptr restore worker), a GPU on which it has queues is not evicted: every CRIU eviction was undone (spec §6.1, §6.2)',
  (w) => {
    const out: Violation[] = [];
    for (const t of Object.values(w.tasks)) {
      if (!t.alive || !t.kfd_process || !w.objects[t.kfd_process]) continue;
      if (!criuReleased(w, t.kfd_process)) continue;
      for (const id of t.pdds) {
        const rec = w.objects[id];
        if (!rec || !inState(w, id, 'alive.queues.evicted')) continue;
        const p = rec.context as PddContext;
        if (p.queues.length === 0) continue;
        out.push({
          message: `${id} of task ${t.pid} keeps ${p.queues.length} queue(s) evicted (qpd->evicted ${p.evicted}) although CRIU released the process: no UNPAUSE or restore worker will run them`,
          objects: [id, t.kfd_process],
        });
      }
    }
    return out;
  },
);
