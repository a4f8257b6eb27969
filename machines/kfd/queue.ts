/**
 * A user-mode queue (kfd_process_queue_manager.c, spec §5.2.1, §7.2).
 *
 * A queue is active when its pdd is not evicted. One created while the pdd is
 * evicted is created inactive: the handler sends EVICT right after creation (for example during CRIU RESTORE, where the CRIU_RESTORE
 * eviction keeps every restored queue off the hardware until the userptr restore
 * worker runs after RESUME, spec §5.4 step 1, §5.5).
 */
import { contextSchema, numberRef, type SchemaKit } from '../context-schema.js';
import { assign, setup } from 'xstate';

/** What CHECKPOINT saves of a queue (kfd_criu_queue_priv_data, spec §3). */
export interface QueueContext {
  pid: number;
  /** Actual gpu_id of the pdd the queue runs on. */
  gpu_id: number;
  queue_id: number;
  type: number;
  format: number;
  q_address: bigint;
  q_size: bigint;
  read_ptr_addr: bigint;
  write_ptr_addr: bigint;
  doorbell_off: bigint;
  eop_ring_buffer_address: bigint;
  eop_ring_buffer_size: number;
  ctx_save_restore_area_address: bigint;
  ctx_save_restore_area_size: number;
  ctl_stack_size: number;
  priority: number;
  q_percent: number;
  doorbell_id: number;
  sdma_id: number;
  gws: number;
  sdma_engine_id: number;
  /** MQD and control stack as hex strings (the checkpointed bytes). */
  mqd: string;
  ctl_stack: string;
}

/** Bytes as lower-case hex, two digits each. */
const hexBytes = (z: SchemaKit['z']) => z.string().regex(/^(?:[0-9a-f]{2})*$/);

/** QueueContext read back from a snapshot (machines/context-schema.ts). */
export const queueContextSpec = contextSchema<QueueContext>()(
  ({ z, u32, u64 }) =>
    z.strictObject({
      pid: u32,
      gpu_id: u32,
      queue_id: u32,
      type: u32,
      format: u32,
      q_address: u64,
      q_size: u64,
      read_ptr_addr: u64,
      write_ptr_addr: u64,
      doorbell_off: u64,
      eop_ring_buffer_address: u64,
      eop_ring_buffer_size: u32,
      ctx_save_restore_area_address: u64,
      ctx_save_restore_area_size: u32,
      ctl_stack_size: u32,
      priority: u32,
      q_percent: u32,
      doorbell_id: u32,
      sdma_id: u32,
      gws: u32,
      sdma_engine_id: u32,
      mqd: hexBytes(z),
      ctl_stack: hexBytes(z),
    }),
  (c) => [numberRef('pid', c.pid, 'tasks'), numberRef('gpu_id', c.gpu_id, 'gpus')],
);

export type QueueEvent = { type: 'EVICT' } | { type: 'RESTORE' } | { type: 'SET_GWS' } | { type: 'DESTROY' };

export const queueMachine = setup({
  types: {} as { context: QueueContext; events: QueueEvent; input: QueueContext },
  actions: {
    /** pqm_set_gws (only from CRIU RESTORE here, while the restored queues are evicted): the queue owns the device's GWS. */
    takeGws: assign({ gws: 1 }),
  },
}).createMachine({
  id: 'kfd_queue',
  initial: 'active',
  context: ({ input }) => ({ ...input }),
  states: {
    /** On the hardware (MQD loaded, doorbell live). */
    active: { on: { EVICT: 'evicted', DESTROY: 'destroyed' } },
    /** Preempted off the hardware; checkpoint_mqd needs this state (spec §5.2.1). */
    evicted: { on: { RESTORE: 'active', SET_GWS: { actions: 'takeGws' }, DESTROY: 'destroyed' } },
    destroyed: { type: 'final' },
  },
});
