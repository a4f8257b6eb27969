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
import { isCheckpointableQueueType, mqdSizeFromQueueType as mqdBytes } from '../kernel/queues.js';
import { svmRangesOf } from '../kernel/svm.js';

export interface ObjectInfo {
  num_devices: number;
  num_bos: number;
  num_objects: number;
  priv_data_size: bigint;
}

/** BOs CHECKPOINT saves, per pdd in idr order: all of alloc_idr except `va && va <= gpuvm_base`. */
export function checkpointedBos(w: World, task: Task): { pddId: string; idr: number; boId: string }[] {
  const out: { pddId: string; idr: number; boId: string }[] = [];
  for (const pddId of task.pdds) {
    const base = gpuById(w, pdd(w, pddId).gpu_id)!.gpuvm_base;
    const idr = allocIdr(w, pddId);
    // integer keys enumerate in ascending order: idr order
    for (const h in idr) {
      const boId = idr[h as unknown as number]!;
      const va = bo(w, boId).va;
      if (va !== 0n && va <= base) continue;
      out.push({ pddId, idr: Number(h), boId });
    }
  }
  return out;
}

/** The number of checkpointedBos (counted, not listed). */
function countCheckpointedBos(w: World, task: Task): number {
  let n = 0;
  for (const pddId of task.pdds) {
    const base = gpuById(w, pdd(w, pddId).gpu_id)!.gpuvm_base;
    const idr = allocIdr(w, pddId);
    for (const h in idr) {
      const va = bo(w, idr[h as unknown as number]!).va;
      if (va !== 0n && va <= base) continue;
      n++;
    }
  }
  return n;
}

export function processObjectInfo(w: World, task: Task): ObjectInfo {
  const num_devices = task.pdds.length;
  const num_bos = countCheckpointedBos(w, task);
  const queues = processQueues(w, task);
  let queueBytes = 0;
  for (const q of queues) {
    // kfd_process_get_queue_info: SDMA_BY_ENG_ID and other types cannot be checkpointed.
    if (!isCheckpointableQueueType(q.type)) fail(-ERRNO.EOPNOTSUPP);
    queueBytes += PRIV_SIZES.queueHeader + mqdBytes(q.type) + q.ctl_stack_size;
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
