/**
 * kfd_process_queue_manager.c: queue slots and queue creation (spec §5.2.1, §5.4, §7.2).
 */
import type { QueueContext } from '../../../../machines/kfd/queue.js';
import { ERRNO } from '../../../uapi/errno.js';
import { contextOf, createObject, send } from '../../../world/objects.js';
import { gcVersion } from '../../../world/topology.js';
import type { GpuTopology, Task, World } from '../../../world/types.js';
import { gpuById, pdd } from '../../../world/world.js';
import { fail } from '../../registry.js';

/** KFD_MAX_NUM_OF_QUEUES_PER_PROCESS: queue ids 0..1023 (pqm->queue_slot_bitmap). */
export const KFD_MAX_NUM_OF_QUEUES_PER_PROCESS = 1024;
/** HWS limit on user queues per device (pqm_create_queue's max_queues, spec §5.4). */
export const MAX_QUEUES_PER_DEVICE = 127;
/** max_queues on GC 9.4.3, 9.4.4 and 9.5.0: "No HWS limit" there (pqm_create_queue). */
export const MAX_QUEUES_PER_DEVICE_NO_HWS_LIMIT = 255;
const NO_HWS_LIMIT = new Set(['9.4.3', '9.4.4', '9.5.0']);

/**
 * Whether the GPU schedules user queues with MES (adev->enable_mes, GC 11 and later) rather
 * than HWS: init_user_queue then needs the queue's write-pointer BO.
 */
export function usesMes(gpu: GpuTopology | undefined): boolean {
  return gpu !== undefined && Number(gcVersion(gpu).split('.')[0]) >= 11;
}

/** pqm_create_queue's max_queues for a GPU (the debug-process limit is not modelled). */
export function maxQueues(gpu: GpuTopology | undefined): number {
  return gpu && NO_HWS_LIMIT.has(gcVersion(gpu)) ? MAX_QUEUES_PER_DEVICE_NO_HWS_LIMIT : MAX_QUEUES_PER_DEVICE;
}

/** enum kfd_queue_type (kfd_priv.h): the kernel's type, not the ioctl's queue_type. */
export const KFD_QUEUE_TYPE = {
  COMPUTE: 0,
  SDMA: 1,
  HIQ: 2,
  DIQ: 3,
  SDMA_XGMI: 4,
  SDMA_BY_ENG_ID: 5,
  MAX: 6,
} as const;
/** enum kfd_queue_format */
export const KFD_QUEUE_FORMAT = { PM4: 0, AQL: 1 } as const;

/**
 * mqd_size_from_queue_type: bytes of one MQD (v9: struct v9_mqd for compute,
 * struct v9_sdma_mqd for SDMA). [DERIVED: sizes of the v9 structs, rounded as gpucr models them.]
 */
export function mqdSizeFromQueueType(type: number): number {
  return type === KFD_QUEUE_TYPE.COMPUTE ? 2048 : 512;
}

/** NUM_XCC(xcc_mask) of a GPU: the XCCs of its partition (the topology's num_xcc; 1 when not given). */
export function numXcc(gpu: GpuTopology | undefined): number {
  return gpu?.num_xcc ?? 1;
}

/** The MQD bytes a queue's checkpoint carries on a GPU: one MQD per XCC (get_queue_checkpoint_info). */
export function checkpointMqdSize(gpu: GpuTopology | undefined, type: number): number {
  return mqdSizeFromQueueType(type) * numXcc(gpu);
}

/**
 * get_queue_checkpoint_info (since "drm/amdkfd: Fix checkpoint-restore on multi-xcc", 6.17; spec
 * §5.2.1): the bytes a queue's checkpoint carries, an MQD per XCC and, for a compute queue, a
 * control stack per XCC.
 */
export function queueCheckpointSizes(
  gpu: GpuTopology | undefined,
  q: { type: number; ctl_stack_size: number },
): { mqd_size: number; ctl_stack_size: number } {
  return {
    mqd_size: checkpointMqdSize(gpu, q.type),
    ctl_stack_size: q.type === KFD_QUEUE_TYPE.COMPUTE ? q.ctl_stack_size * numXcc(gpu) : q.ctl_stack_size,
  };
}

/** Checkpointable types (kfd_process_get_queue_info / kfd_criu_checkpoint_queues). */
export function isCheckpointableQueueType(type: number): boolean {
  return type === KFD_QUEUE_TYPE.COMPUTE || type === KFD_QUEUE_TYPE.SDMA || type === KFD_QUEUE_TYPE.SDMA_XGMI;
}

export type QueueProperties = Omit<QueueContext, 'pid' | 'gpu_id' | 'queue_id' | 'doorbell_id'>;

/**
 * pqm_create_queue: the per-device limit, then a queue slot (lowest free, or exactly
 * `restoreId`), init_user_queue (a restored queue on a MES GPU → -EINVAL), the queue object;
 * created evicted when the pdd is evicted. Returns the queue id.
 */
export function pqmCreateQueue(
  w: World,
  task: Task,
  pddId: string,
  props: QueueProperties,
  restoreId: number | null,
): number {
  const p = pdd(w, pddId);
  const gpu = gpuById(w, p.gpu_id);
  if (p.queues.length >= maxQueues(gpu)) fail(-ERRNO.ENOSPC);
  let qid: number;
  if (restoreId !== null) {
    // assign_queue_slot_by_qid
    if (restoreId >= KFD_MAX_NUM_OF_QUEUES_PER_PROCESS) fail(-ERRNO.EINVAL);
    if (task.queues[restoreId] !== undefined) fail(-ERRNO.ENOSPC);
    qid = restoreId;
    // init_user_queue on MES: "Queue initialization with shared MES requires queue buffers to be
    // initialized" → -EINVAL. kfd_criu_restore_queue never acquires them (the partial revert of
    // d3f670cfb535: "there is no usage of CRIU with shared MES"), so no queue restores on GC 11+.
    if (usesMes(gpu)) fail(-ERRNO.EINVAL);
  } else {
    // find_available_queue_slot: "Cannot open more queues for process" → -ENOMEM
    let free = -1;
    for (let i = 0; i < KFD_MAX_NUM_OF_QUEUES_PER_PROCESS && free < 0; i++) if (task.queues[i] === undefined) free = i;
    if (free < 0) fail(-ERRNO.ENOMEM);
    qid = free;
  }
  // Object.assign, not a spread followed by new keys (V8's slow path, paid by every queue).
  const q: QueueContext = Object.assign({}, props, {
    pid: task.pid,
    gpu_id: p.gpu_id,
    queue_id: qid,
    doorbell_id: qid,
  });
  const id = createObject(w, 'kfd.queue', q);
  if (p.evicted > 0) send(w, id, { type: 'EVICT' });
  task.queues[qid] = id;
  send(w, pddId, { type: 'QUEUE_ADD', queue: id });
  return qid;
}

/** pqm_set_gws: the device's GWS goes to one queue of the process at most ("-EBUSY" otherwise). */
export function pqmSetGws(w: World, task: Task, qid: number): void {
  for (const id of Object.values(task.queues)) if (contextOf<QueueContext>(w, id).gws) fail(-ERRNO.EBUSY);
  send(w, task.queues[qid]!, { type: 'SET_GWS' });
}

/** pqm_destroy_queue */
export function pqmDestroyQueue(w: World, task: Task, qid: number): void {
  const id = task.queues[qid];
  if (id === undefined) fail(-ERRNO.EINVAL);
  const pddId = task.pdds.find((p) => pdd(w, p).queues.includes(id))!;
  send(w, id, { type: 'DESTROY' });
  send(w, pddId, { type: 'QUEUE_REMOVE', queue: id });
  delete task.queues[qid];
  delete w.objects[id];
}
