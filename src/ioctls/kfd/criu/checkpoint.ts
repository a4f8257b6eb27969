import { isMappedIn } from '../../../../machines/kfd/bo.js';
import type { EventContext } from '../../../../machines/kfd/event.js';
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import type { QueueContext } from '../../../../machines/kfd/queue.js';
import {
  type BoPriv,
  encodePrivData,
  KFD_CRIU_PRIV_VERSION,
  type ObjectPriv,
  type QueuePriv,
} from '../../../criu/kfd-priv.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F, KFD_INVALID_FD, KFD_MMAP_GPU_ID, KFD_MMAP_TYPE } from '../../../uapi/index.js';
import { fileGet, lowestFreeFd } from '../../../world/fds.js';
import { contextOf, inState } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { bo, kfdFileTask, pdd } from '../../../world/world.js';
import type { Kernel } from '../../registry.js';
import { exportDmabuf } from '../kernel/gpuvm.js';
import { mqdSizeFromQueueType } from '../kernel/queues.js';
import { checkpointAttrs, svmRangesOf } from '../kernel/svm.js';
import type { BoBucket, CriuArgs, DeviceBucket } from './args.js';
import { forEachCheckpointedBo, processObjectInfo } from './object-info.js';

function hexBytes(hex: string, size: number): Uint8Array {
  const b = new Uint8Array(size);
  b.set(Buffer.from(hex, 'hex').subarray(0, size));
  return b;
}

/** kfd_criu_checkpoint_queues: every queue of every pdd; checkpoint_mqd needs it inactive. */
function checkpointQueues(w: World, task: Task): QueuePriv[] | number {
  const out: QueuePriv[] = [];
  for (const pddId of task.pdds) {
    for (const qid of pdd(w, pddId).queues) {
      // dqm->ops.checkpoint_mqd: "Queue is active" → -EINVAL
      if (inState(w, qid, 'active')) return -ERRNO.EINVAL;
      const q = contextOf<QueueContext>(w, qid);
      const mqdSize = mqdSizeFromQueueType(q.type);
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
        ctl_stack_size: q.ctl_stack_size,
        mqd_size: mqdSize,
        mqd: hexBytes(q.mqd, mqdSize),
        ctl_stack: hexBytes(q.ctl_stack, q.ctl_stack_size),
      });
    }
  }
  return out;
}

/** kfd_criu_checkpoint_events: the first record carries the signal page handle. */
function checkpointEvents(w: World, task: Task): ObjectPriv[] {
  const signalHandle = contextOf<ProcessContext>(w, task.kfd_process!).signal_handle;
  const ids = Object.keys(task.events)
    .map(Number)
    .sort((a, b) => a - b);
  return ids.map((id, i) => {
    const e = contextOf<EventContext>(w, task.events[id]!);
    const m = e.memory_exception_data;
    const h = e.hw_exception_data;
    return {
      object_type: 1,
      user_handle: i === 0 ? signalHandle : 0n,
      event_id: e.event_id,
      auto_reset: e.auto_reset ? 1 : 0,
      type: e.type,
      signaled: inState(w, task.events[id]!, 'signaled') ? 1 : 0,
      ...(m ? { memory_exception_data: { ...m, failure: { ...m.failure } } } : {}),
      ...(h ? { hw_exception_data: { ...h } } : {}),
    };
  });
}

// criu_checkpoint (kfd_chardev.c), spec §5.2
export function criuCheckpoint({ w, file, task: caller }: Kernel, a: CriuArgs): number {
  if (!a.devices || !a.bos || !a.priv_data) return -ERRNO.EINVAL;
  const task = kfdFileTask(w, file);
  if (task.pdds.length === 0) return -ERRNO.ENODEV;
  // "Cannot dump process when queues are not in evicted state"
  if (!contextOf<ProcessContext>(w, task.kfd_process!).queues_paused) return -ERRNO.EINVAL;
  const info = processObjectInfo(w, task);
  if (
    info.num_devices !== a.num_devices ||
    info.num_bos !== a.num_bos ||
    info.num_objects !== a.num_objects ||
    info.priv_data_size !== a.priv_data_size
  )
    return -ERRNO.EINVAL;
  const xnack = contextOf<ProcessContext>(w, task.kfd_process!).xnack_enabled;
  const devices: DeviceBucket[] = task.pdds.map((id) => ({
    user_gpu_id: pdd(w, id).user_gpu_id,
    actual_gpu_id: pdd(w, id).gpu_id,
    drm_fd: 0,
    pad: 0,
  }));
  const queues = checkpointQueues(w, task);
  if (typeof queues === 'number') return queues;
  const objects: ObjectPriv[] = [...queues, ...checkpointEvents(w, task)];
  for (const r of svmRangesOf(w, task))
    objects.push({
      object_type: 2,
      start_addr: r.start,
      size: r.npages,
      attrs: checkpointAttrs(w, task, r),
    });
  // criu_checkpoint_bos last, so that dmabuf fds are installed only when all succeeded.
  const reserved = new Set<number>();
  let nextFd: number | undefined;
  const pending: { fd: number; file: string }[] = [];
  const buckets: BoBucket[] = [];
  const privs: BoPriv[] = [];
  const peers = task.pdds.map((id) => pdd(w, id));
  forEachCheckpointedBo(w, task, (pddId, idr, boId) => {
    const b = bo(w, boId);
    const p = pdd(w, pddId);
    let dmabuf_fd = KFD_INVALID_FD;
    if (b.alloc_flags & (F.VRAM | F.GTT)) {
      const dmabuf = exportDmabuf(w, boId);
      // get_unused_fd_flags: reservations only grow, so the search resumes after the last one
      let fd = nextFd ?? lowestFreeFd(caller);
      while (reserved.has(fd) || caller.fds[fd] !== undefined) fd++;
      nextFd = fd + 1;
      reserved.add(fd);
      pending.push({ fd, file: dmabuf });
      dmabuf_fd = fd;
    }
    const offset =
      b.alloc_flags & F.DOORBELL
        ? KFD_MMAP_TYPE.DOORBELL | KFD_MMAP_GPU_ID(p.gpu_id)
        : b.alloc_flags & F.MMIO_REMAP
          ? KFD_MMAP_TYPE.MMIO | KFD_MMAP_GPU_ID(p.gpu_id)
          : w.gems[b.gem]!.mmap_offset;
    buckets.push({
      addr: b.va,
      size: b.size,
      offset,
      restored_offset: 0n,
      gpu_id: p.user_gpu_id,
      alloc_flags: b.alloc_flags,
      dmabuf_fd,
      pad: 0,
    });
    const mapped_gpuids: number[] = [];
    for (const peer of peers) if (isMappedIn(b, peer.gpu_id)) mapped_gpuids.push(peer.user_gpu_id);
    privs.push({ user_addr: b.user_addr, idr_handle: idr, mapped_gpuids });
  });
  a.devices = devices;
  a.bos = buckets;
  a.priv_data = encodePrivData(
    {
      process: { version: KFD_CRIU_PRIV_VERSION, xnack_mode: xnack ? 1 : 0 },
      devices: devices.map(() => ({ reserved: 0n })),
      bos: privs,
      objects,
    },
    w.variants.max_gpu_instance,
  );
  // commit_files: fd_install every reserved fd.
  for (const { fd, file: f } of pending) {
    caller.fds[fd] = f;
    fileGet(w, f);
  }
  return 0;
}
