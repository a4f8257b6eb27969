/**
 * The sample user queue of the KFD coverage suite (src/explore/coverage-suite-kfd.ts) and
 * the kfd_queue MBT adapters (test/mbt/adapters/queue.ts): a COMPUTE_AQL queue of 64 KiB
 * at a fixed ring address, created by CREATE_QUEUE or restored from its CRIU private data
 * (spec §5.2.1, §5.4 step 5).
 */
import type { QueueContext } from '../../machines/kfd/queue.js';
import type { QueuePriv } from '../criu/kfd-priv.js';
import { KFD_QUEUE_FORMAT, KFD_QUEUE_TYPE, mqdSizeFromQueueType } from '../ioctls/kfd/kernel/queues.js';

/** The queue's ring buffer (a 64 KiB GTT BO mapped on the queue's GPU in the worlds that create it). */
export const QUEUE_RING = 0x7f0005000000n;
/** The queue's read and write pointers. */
export const QUEUE_RPTR = 0x7ffd10000000n;
export const QUEUE_WPTR = 0x7ffd10000008n;
const RING_SIZE = 65536;
/** mqd_size_from_queue_type(COMPUTE) as the model has it (spec §5.4 step 5 bounds check). */
export const COMPUTE_MQD_SIZE = mqdSizeFromQueueType(KFD_QUEUE_TYPE.COMPUTE);

/** AMDKFD_IOC_CREATE_QUEUE's arguments for the sample queue on `gpu_id`, as a log writes them. */
export function createQueueArgs(gpu_id: number): Record<string, unknown> {
  return {
    ring_base_address: QUEUE_RING,
    ring_size: RING_SIZE,
    gpu_id,
    queue_type: 'COMPUTE_AQL',
    queue_percentage: 100,
    queue_priority: 7,
    read_pointer_address: QUEUE_RPTR,
    write_pointer_address: QUEUE_WPTR,
  };
}

/** The ring's fields, named alike (and in this order) in the queue's context and in its CRIU private data. */
const RING = {
  q_address: QUEUE_RING,
  q_size: BigInt(RING_SIZE),
  read_ptr_addr: QUEUE_RPTR,
  write_ptr_addr: QUEUE_WPTR,
  doorbell_off: 0n,
  eop_ring_buffer_address: 0n,
};

/**
 * The kfd_queue context of the sample queue of `pid` on `gpu_id` (queue id 0): what
 * CREATE_QUEUE COMPUTE_AQL on a fresh process records, and what RESTORE re-creates from
 * sampleQueuePriv (spec §5.2.1 fields). The kernel's enum kfd_queue_type and
 * kfd_queue_format (kfd_criu_queue_priv_data), not the ioctl's KFD_IOC_QUEUE_TYPE: a
 * COMPUTE_AQL queue is type COMPUTE, format AQL.
 */
export function sampleQueueContext(pid: number, gpu_id: number): QueueContext {
  return {
    pid,
    gpu_id,
    queue_id: 0,
    type: KFD_QUEUE_TYPE.COMPUTE,
    format: KFD_QUEUE_FORMAT.AQL,
    ...RING,
    eop_ring_buffer_size: 0,
    ctx_save_restore_area_address: 0n,
    ctx_save_restore_area_size: 0,
    ctl_stack_size: 0,
    priority: 7,
    q_percent: 100,
    doorbell_id: 0,
    sdma_id: 0,
    gws: 0,
    sdma_engine_id: 0,
    mqd: '',
    ctl_stack: '',
  };
}

/** The CRIU private data of the sample queue on `gpu_id` (queue id 0), with `gws`. */
export function sampleQueuePriv(gpu_id: number, gws: number): QueuePriv {
  return {
    object_type: 0,
    ...RING,
    ctx_save_restore_area_address: 0n,
    gpu_id,
    type: KFD_QUEUE_TYPE.COMPUTE,
    format: KFD_QUEUE_FORMAT.AQL,
    q_id: 0,
    priority: 7,
    q_percent: 100,
    doorbell_id: 0,
    gws,
    sdma_id: 0,
    eop_ring_buffer_size: 0,
    ctx_save_restore_area_size: 0,
    ctl_stack_size: 0,
    mqd_size: COMPUTE_MQD_SIZE,
    mqd: new Uint8Array(COMPUTE_MQD_SIZE),
    ctl_stack: new Uint8Array(0),
  };
}
