import type { ProcessContext } from '../../../../machines/kfd/process.js';
import { ERRNO } from '../../../uapi/errno.js';
import { contextOf, send } from '../../../world/objects.js';
import { kfdFileTask } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import { restoreProcessQueues } from '../kernel/process.js';

// criu_unpause (kfd_chardev.c), spec §5.3
export function criuUnpause({ w, file }: Kernel): number {
  // The fd's process: the caller's own, or the dumpee's when CRIU works on a drained fd.
  const task = kfdFileTask(w, file);
  if (!contextOf<ProcessContext>(w, task.kfd_process!).queues_paused) return -ERRNO.EINVAL;
  restoreProcessQueues(w, task);
  send(w, task.kfd_process!, { type: 'UNPAUSE' });
  return 0;
}
