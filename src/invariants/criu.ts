/**
 * CRIU orchestration invariants (machines/criu/*.ts, src/criu/orchestrate.ts).
 */
import type { CriuDumpContext } from '../../machines/criu/dump.js';
import type { CriuRestoreContext } from '../../machines/criu/restore.js';
import type { ProcessContext } from '../../machines/kfd/process.js';
import { objectsOfKind } from '../world/objects-by-kind.js';
import { usesMes } from '../ioctls/kfd/kernel/queues.js';
import { ERRNO } from '../uapi/errno.js';
import { registerInvariant, type Violation } from './index.js';

/** Stages in which the restored process's GPU state may become active (spec §9.5 step 7, §9.6). */
const LATE = new Set(['resumeDevicesLate', 'resumed', 'done']);

registerInvariant(
  'criu.resume-late',
  'GPU mappings of userptr/SVM memory are not activated and queues do not run before RESUME_DEVICES_LATE: a criu.restore records the stage in which its process left the RESTORE → RESUME block, which must be RESUME_DEVICES_LATE or later (spec §9.6)',
  (w) => {
    const out: Violation[] = [];
    for (const [id, rec] of objectsOfKind<CriuRestoreContext>(w, 'criu.restore')) {
      const c = rec.context;
      if (c.activated_in !== null && !LATE.has(c.activated_in))
        out.push({
          message: `task ${c.pid}'s GPU state was activated in CRIU stage ${c.activated_in}, before RESUME_DEVICES_LATE (the restorer had not moved its VMAs yet)`,
          objects: [id],
        });
    }
    return out;
  },
);

registerInvariant(
  'criu.dump-unpaused',
  "a dump that ended (done or failed) leaves its task's queues unpaused: no dumped task's kfd_process stays paused (spec §9.4, an aborted dump; CRIU ops issued by hand after a dump are outside this invariant's reading)",
  (w) => {
    const dumped = new Map<number, string>();
    for (const [id, rec] of objectsOfKind<CriuDumpContext>(w, 'criu.dump'))
      if (rec.value === 'done' || rec.value === 'failed') dumped.set(rec.context.pid, id);
    const out: Violation[] = [];
    for (const [pid, id] of dumped) {
      const t = w.tasks[pid];
      const proc = t?.alive && t.kfd_process ? w.objects[t.kfd_process] : undefined;
      if (proc && (proc.context as ProcessContext).queues_paused)
        out.push({
          message: `task ${pid} was dumped (${id} ${String(w.objects[id]!.value)}) and its queues are still paused: nothing will UNPAUSE them`,
          objects: [id, t!.kfd_process!],
        });
    }
    return out;
  },
);

registerInvariant(
  'criu.restore-accepts-checkpoint',
  "the kernel accepts the checkpoint it wrote: a restore of a dump of this world (criu.restore {dump}: CHECKPOINT's own priv_data and buckets, unchanged, onto the GPUs it was taken on) does not fail because AMDKFD_IOC_CRIU_OP RESTORE refused its data as invalid (-EINVAL). Restores from a directory are outside it (the images may have been edited or come from another machine), and so are the other ways a restore fails (an unprivileged CRIU, files restored out of order) and a world with a GC 11+ GPU, whose queues the kernel refuses to restore on purpose (MES, d3f670cfb535): spec §5.3, §5.4",
  (w) => {
    const out: Violation[] = [];
    // "there is no usage of CRIU with shared MES": a refusal by design, not a bug this invariant is for
    if (w.topology.gpus.some(usesMes)) return out;
    for (const [id, rec] of objectsOfKind<CriuRestoreContext>(w, 'criu.restore')) {
      const c = rec.context;
      if (c.from_dump && c.restore_ioctl_ret === -ERRNO.EINVAL)
        out.push({
          message: `${id} failed: AMDKFD_IOC_CRIU_OP RESTORE returned -EINVAL for the checkpoint this kernel wrote (task ${c.pid}), which this kernel will refuse on every try: the dump succeeded and cannot be restored`,
          objects: [id],
        });
    }
    return out;
  },
);
