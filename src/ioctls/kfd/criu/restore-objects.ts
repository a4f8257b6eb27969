import { KFD_CRIU_OBJECT_TYPE, type PrivReader, readEvent, readQueue, readSvm } from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { gpuById, pdd, pddByUserGpuId } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { createEvent, kmapEventPage } from '../kernel/events.js';
import {
  checkpointMqdSize,
  KFD_QUEUE_TYPE,
  mqdSizeFromQueueType,
  pqmCreateQueue,
  pqmSetGws,
} from '../kernel/queues.js';

/** The MQD bytes RESTORE accepts for a queue of `type` on `gpuId` (variant kfd-restore-mqd-size). */
function expectedMqdSize(w: World, gpuId: number, type: number): number {
  return w.variants['kfd-restore-mqd-size'] === 'num-xcc'
    ? checkpointMqdSize(gpuById(w, gpuId), type)
    : mqdSizeFromQueueType(type);
}

function allZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

/** kfd_criu_restore_queue (kfd_process_queue_manager.c), spec §5.4 step 5. */
function restoreQueue(w: World, task: Task, r: PrivReader, field: string): void {
  const q = readQueue(r, field);
  const pddId = pddByUserGpuId(w, task, q.gpu_id);
  if (!pddId) fail(-ERRNO.EINVAL);
  // CVE-2026-68258 bounds checks (f19d8086f664). mqd_size_from_queue_type is the MQD manager's
  // size, one XCC's, while the checkpoint saved one MQD per XCC: on a GPU of several XCCs every
  // queue fails here (docs/conformance.md "Kernel findings"), unless the num-xcc fix compares
  // with what get_queue_checkpoint_info saved.
  if (q.type >= KFD_QUEUE_TYPE.MAX) fail(-ERRNO.EINVAL);
  if (q.mqd_size !== expectedMqdSize(w, pdd(w, pddId).gpu_id, q.type)) fail(-ERRNO.EINVAL);
  const qid = pqmCreateQueue(
    w,
    task,
    pddId,
    {
      type: q.type,
      format: q.format,
      q_address: q.q_address,
      q_size: q.q_size,
      read_ptr_addr: q.read_ptr_addr,
      write_ptr_addr: q.write_ptr_addr,
      doorbell_off: q.doorbell_off,
      eop_ring_buffer_address: q.eop_ring_buffer_address,
      eop_ring_buffer_size: q.eop_ring_buffer_size,
      ctx_save_restore_area_address: q.ctx_save_restore_area_address,
      ctx_save_restore_area_size: q.ctx_save_restore_area_size,
      ctl_stack_size: q.ctl_stack_size,
      priority: q.priority,
      q_percent: q.q_percent,
      sdma_id: q.sdma_id,
      gws: 0,
      sdma_engine_id: 0,
      // The MQD and control stack are loaded from the checkpoint.
      mqd: allZero(q.mqd) ? '' : Buffer.from(q.mqd).toString('hex'),
      ctl_stack: allZero(q.ctl_stack) ? '' : Buffer.from(q.ctl_stack).toString('hex'),
    },
    q.q_id,
  );
  if (q.gws) pqmSetGws(w, task, qid);
}

/** kfd_criu_restore_event (kfd_events.c), spec §5.4 step 5. */
function restoreEvent(w: World, task: Task, r: PrivReader, field: string): void {
  const e = readEvent(r, field);
  if (e.user_handle !== 0n) kmapEventPage(w, task, e.user_handle);
  const id = createEvent(
    w,
    task,
    {
      type: e.type,
      auto_reset: e.auto_reset !== 0,
      memory_exception_data: e.memory_exception_data ?? null,
      hw_exception_data: e.hw_exception_data ?? null,
    },
    e.event_id,
  );
  if (id >= 0 && e.signaled) send(w, task.events[id]!, { type: 'SIGNAL' });
}

/** criu_restore_objects (kfd_chardev.c), spec §5.4 step 5: dispatch on each record's object_type. */
export function restoreObjects(w: World, task: Task, r: PrivReader, numObjects: number): void {
  for (let i = 0; i < numObjects; i++) {
    const field = `objects[${i}]`;
    r.need(4, `${field}.object_type`);
    switch (r.u32(r.pos)) {
      case KFD_CRIU_OBJECT_TYPE.QUEUE:
        restoreQueue(w, task, r, field);
        break;
      case KFD_CRIU_OBJECT_TYPE.EVENT:
        restoreEvent(w, task, r, field);
        break;
      case KFD_CRIU_OBJECT_TYPE.SVM_RANGE: {
        // kfd_criu_restore_svm: metadata only, applied at RESUME.
        const s = readSvm(r, field, task.pdds.length);
        send(w, task.kfd_process!, {
          type: 'SAVE_SVM_METADATA',
          range: { start: s.start_addr, npages: s.size, attrs: s.attrs },
        });
        break;
      }
      default:
        // "Invalid object type"
        fail(-ERRNO.EINVAL);
    }
  }
}
