/**
 * criu_get_process_object_info (kfd_chardev.c, spec §5.1 step 6): the counts and the
 * priv_data size that PROCESS_INFO reports and CHECKPOINT re-checks.
 */
import { PRIV_SIZES } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import type { Task, World } from '../../../world/types.js';
import { allocIdr } from '../../../world/idr.js';
import { bo, gpuById, pdd } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { processQueues } from '../kernel/process.js';
import { isCheckpointableQueueType, queueCheckpointSizes } from '../kernel/queues.js';
import { svmRangesOf } from '../kernel/svm.js';

export interface ObjectInfo {
  num_devices: number;
  num_bos: number;
  num_objects: number;
  priv_data_size: bigint;
}

/**
 * The BOs CHECKPOINT saves, per pdd in idr order: all of alloc_idr except `va && va <=
 * gpuvm_base`; `f` is called with each (its pdd, idr handle and object id), in that order.
 */
export function forEachCheckpointedBo(w: World, task: Task, f: (pddId: string, idr: number, boId: string) => void) {
  for (const pddId of task.pdds) {
    const base = gpuById(w, pdd(w, pddId).gpu_id)!.gpuvm_base;
    const idr = allocIdr(w, pddId);
    // integer keys enumerate in ascending order: idr order
    for (const h in idr) {
      const boId = idr[h as unknown as number]!;
      const va = bo(w, boId).va;
      if (va !== 0n && va <= base) continue;
      f(pddId, Number(h), boId);
    }
  }
}

export function processObjectInfo(w: World, task: Task): ObjectInfo {
  const num_devices = task.pdds.length;
  let num_bos = 0;
  forEachCheckpointedBo(w, task, () => num_bos++);
  const queues = processQueues(w, task);
  let queueBytes = 0;
  for (const q of queues) {
    // kfd_process_get_queue_info: SDMA_BY_ENG_ID and other types cannot be checkpointed.
    if (!isCheckpointableQueueType(q.type)) fail(-ERRNO.EOPNOTSUPP);
    const sizes = queueCheckpointSizes(gpuById(w, q.gpu_id), q);
    queueBytes += PRIV_SIZES.queueHeader + sizes.mqd_size + sizes.ctl_stack_size;
  }
  const num_events = Object.keys(task.events).length;
  const ranges = svmRangesOf(w, task);
  const svmBytes = ranges.length * (PRIV_SIZES.svmHeader + PRIV_SIZES.svmAttr * (4 + num_devices));
  const size =
    PRIV_SIZES.process +
    num_devices * PRIV_SIZES.device +
    num_bos * PRIV_SIZES.bo(w.variants.max_gpu_instance) +
    queueBytes +
    num_events * PRIV_SIZES.event +
    svmBytes;
  return {
    num_devices,
    num_bos,
    num_objects: queues.length + num_events + ranges.length,
    priv_data_size: BigInt(size),
  };
}
