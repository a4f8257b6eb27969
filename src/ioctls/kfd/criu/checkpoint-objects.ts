/**
 * The object records of CHECKPOINT (spec §5.2 step 4, §5.2.1–5.2.3): queues, then events, then
 * SVM ranges, as kfd_criu_checkpoint_queues, kfd_criu_checkpoint_events and
 * kfd_criu_checkpoint_svm write them after the BO privs.
 */
import type { EventContext } from '../../../../machines/kfd/event.js';
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import type { QueueContext } from '../../../../machines/kfd/queue.js';
import type { ObjectPriv } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { contextOf, inState } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { gpuById, pdd } from '../../../world/world.js';
import { queueCheckpointSizes } from '../kernel/queues.js';
import { checkpointAttrs } from '../kernel/svm-get-attr.js';
import { svmRangesOf } from '../kernel/svm.js';

function hexBytes(hex: string, size: number): Uint8Array {
  const b = new Uint8Array(size);
  b.set(Buffer.from(hex, 'hex').subarray(0, size));
  return b;
}

/** kfd_criu_checkpoint_queues (spec §5.2.1): every queue of every pdd; checkpoint_mqd needs it inactive. */
export function checkpointQueues(w: World, task: Task, out: ObjectPriv[]): number {
  for (const pddId of task.pdds) {
    for (const qid of pdd(w, pddId).queues) {
      // dqm->ops.checkpoint_mqd: "Queue is active" → -EINVAL
      if (inState(w, qid, 'active')) return -ERRNO.EINVAL;
      const q = contextOf<QueueContext>(w, qid);
      // one MQD and control stack per XCC (get_queue_checkpoint_info, checkpoint_mqd_v9_4_3)
      const { mqd_size: mqdSize, ctl_stack_size: ctlSize } = queueCheckpointSizes(gpuById(w, q.gpu_id), q);
      out.push({
        object_type: 0,
        q_address: q.q_address,
        q_size: q.q_size,
        read_ptr_addr: q.read_ptr_addr,
        write_ptr_addr: q.write_ptr_addr,
        doorbell_off: q.doorbell_off,
        eop_ring_buffer_address: q.eop_ring_buffer_address,
        ctx_save_restore_area_address: q.ctx_save_restore_area_address,
        gpu_id: pdd(w, pddId).user_gpu_id,
        type: q.type,
        format: q.format,
        q_id: q.queue_id,
        priority: q.priority,
        q_percent: q.q_percent,
        doorbell_id: q.doorbell_id,
        gws: q.gws,
        sdma_id: q.sdma_id,
        eop_ring_buffer_size: q.eop_ring_buffer_size,
        ctx_save_restore_area_size: q.ctx_save_restore_area_size,
        ctl_stack_size: ctlSize,
        mqd_size: mqdSize,
        mqd: hexBytes(q.mqd, mqdSize),
        ctl_stack: hexBytes(q.ctl_stack, ctlSize),
      });
    }
  }
  return 0;
}

/** kfd_criu_checkpoint_events (spec §5.2.2): the first record carries the signal page handle. */
export function checkpointEvents(w: World, task: Task, out: ObjectPriv[]): void {
  const signalHandle = contextOf<ProcessContext>(w, task.kfd_process!).signal_handle;
  const ids = Object.keys(task.events)
    .map(Number)
    .sort((a, b) => a - b);
  ids.forEach((id, i) => {
    const e = contextOf<EventContext>(w, task.events[id]!);
    const m = e.memory_exception_data;
    const h = e.hw_exception_data;
    out.push({
      object_type: 1,
      user_handle: i === 0 ? signalHandle : 0n,
      event_id: e.event_id,
      auto_reset: e.auto_reset ? 1 : 0,
      type: e.type,
      signaled: inState(w, task.events[id]!, 'signaled') ? 1 : 0,
      ...(m ? { memory_exception_data: { ...m, failure: { ...m.failure } } } : {}),
      ...(h ? { hw_exception_data: { ...h } } : {}),
    });
  });
}

/** kfd_criu_checkpoint_svm (spec §5.2.3): each range's header and attributes. */
export function checkpointSvm(w: World, task: Task, out: ObjectPriv[]): void {
  for (const r of svmRangesOf(w, task))
    out.push({
      object_type: 2,
      start_addr: r.start,
      size: r.npages,
      attrs: checkpointAttrs(w, task, r),
    });
}
