import { ERRNO } from '../../../uapi/errno.js';
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import { contextOf, send } from '../../../world/objects.js';
import { kfdFileTask } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import { KernelReturn } from '../../registry.js';
import { evictProcessQueues, restoreProcessQueues } from '../kernel/process.js';
import type { CriuArgs } from './args.js';
import { processObjectInfo } from './object-info.js';

// criu_process_info (kfd_chardev.c), spec §5.1
export function criuProcessInfo({ w, file }: Kernel, a: CriuArgs): number {
  // The fd's process: the caller's own, or the dumpee's when CRIU works on a drained fd.
  const task = kfdFileTask(w, file);
  if (task.pdds.length === 0) return -ERRNO.ENODEV;
  // The kernel evicts again while paused (spec §6.2); evict-once is the variant that does not.
  const paused = contextOf<ProcessContext>(w, task.kfd_process!).queues_paused;
  const evicts = !paused || w.variants['kfd-process-info'] === 'evict-again';
  if (evicts) evictProcessQueues(w, task);
  send(w, task.kfd_process!, { type: 'PAUSE' });
  a.pid = task.pid;
  try {
    const info = processObjectInfo(w, task);
    a.num_devices = info.num_devices;
    a.num_bos = info.num_bos;
    a.num_objects = info.num_objects;
    a.priv_data_size = info.priv_data_size;
    return 0;
  } catch (e) {
    if (!(e instanceof KernelReturn)) throw e;
    // err_unlock: undo the eviction and the pause (evict-once: only what this call did).
    if (evicts) restoreProcessQueues(w, task);
    if (evicts) send(w, task.kfd_process!, { type: 'UNPAUSE' });
    return e.ret;
  }
}
