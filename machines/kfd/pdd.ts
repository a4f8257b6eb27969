/**
 * kfd_process_device ("pdd"): one per (kfd_process, GPU node).
 *
 * Models kfd_priv.h `struct kfd_process_device` and `struct qcm_process_device`
 * as far as CRIU sees them (spec §1, §6.1, §7.1, §11.2):
 *  - `vm`: no VM → VM acquired with a render-node drm file (ACQUIRE_VM or CRIU
 *    RESTORE, kfd_process_device_init_vm) → bound (first kfd_bind_process_to_device
 *    takes the runtime-PM reference, `runtime_inuse`; not the kernel's `pdd->bound`
 *    PDD_BOUND/PDD_BOUND_SUSPENDED, which tracks binding across suspend);
 *  - `queues`: `qpd->evicted` as a ref-count; the region is `evicted` while it is > 0;
 * Cross-object rules (which drm file, which BOs) belong to the ioctl handlers, and so
 * does `pdd->alloc_idr`, the BO handle namespace: a world index (src/world/idr.ts), as
 * the fd tables are, because a transition's assign gives each field it changes a new value
 * and an IDR of tens of thousands of handles inside it was copied by every ALLOC and FREE.
 */
import { contextSchema, listRefs, nullableRef, numberRef } from '../context-schema.js';
import { produce } from 'immer';
import { assign, setup } from 'xstate';

export interface PddContext {
  pid: number;
  /** dev->id: the actual gpu_id of the node. */
  gpu_id: number;
  /** pdd->user_gpu_id: the id the application uses (== gpu_id unless restored elsewhere). */
  user_gpu_id: number;
  /** pdd->drm_file: world file id of the render-node file whose VM is the compute VM. */
  drm_file: string | null;
  /** qpd->evicted: eviction ref-count. */
  evicted: number;
  /** qpd->proc_doorbells allocated. */
  proc_doorbells: boolean;
  /** pdd->runtime_inuse: runtime-PM reference taken by the first bind. */
  runtime_inuse: boolean;
  /** pdd->vram_usage in bytes (spec §7.3). */
  vram_usage: bigint;
  /** qpd->queues_list, in creation order (queue object ids). */
  queues: string[];
  /** Kernel-internal BOs (IB, CWSR TBA/TMA) created by init_vm, below gpuvm_base. */
  internal_bos: string[];
}

/** PddContext read back from a snapshot (machines/context-schema.ts). */
export const pddContextSpec = contextSchema<PddContext>()(
  ({ z, u32, u64, worldId }) =>
    z.strictObject({
      pid: u32,
      gpu_id: u32,
      user_gpu_id: u32,
      drm_file: worldId.nullable(),
      evicted: u32,
      proc_doorbells: z.boolean(),
      runtime_inuse: z.boolean(),
      vram_usage: u64,
      queues: z.array(worldId),
      internal_bos: z.array(worldId),
    }),
  (c) => [
    numberRef('pid', c.pid, 'tasks'),
    numberRef('gpu_id', c.gpu_id, 'gpus'),
    ...nullableRef('drm_file', c.drm_file, 'files'),
    ...listRefs('queues', c.queues, 'objects', 'kfd.queue'),
    ...listRefs('internal_bos', c.internal_bos, 'objects', 'kfd.bo'),
  ],
);

export type PddEvent =
  | { type: 'INIT_VM'; drm_file: string; internal_bos: string[] }
  | { type: 'BIND' }
  | { type: 'ALLOC_DOORBELLS' }
  | { type: 'EVICT_QUEUES' }
  | { type: 'RESTORE_QUEUES' }
  | { type: 'VRAM_USAGE_ADD'; delta: bigint }
  | { type: 'SET_USER_GPU_ID'; user_gpu_id: number }
  | { type: 'QUEUE_ADD'; queue: string }
  | { type: 'QUEUE_REMOVE'; queue: string }
  | { type: 'DESTROY' };

export interface PddInput {
  pid: number;
  gpu_id: number;
}

export const pddMachine = setup({
  types: {} as { context: PddContext; events: PddEvent; input: PddInput },
  guards: {
    /** restore_process_queues_*: `if (qpd->evicted > 1) { qpd->evicted--; return; }` */
    evictedMoreThanOnce: ({ context }) => context.evicted > 1,
    hasQueue: ({ context, event }) => event.type === 'QUEUE_REMOVE' && context.queues.includes(event.queue),
  },
  actions: {
    setDrmFile: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'INIT_VM') return;
        d.drm_file = event.drm_file;
        d.internal_bos = [...event.internal_bos];
      }),
    ),
    takeRuntimePmRef: assign({ runtime_inuse: true }),
    allocProcessDoorbells: assign({ proc_doorbells: true }),
    evictedInc: assign(({ context }) => ({ evicted: context.evicted + 1 })),
    evictedDec: assign(({ context }) => ({ evicted: context.evicted - 1 })),
    addVramUsage: assign(({ context, event }) =>
      event.type === 'VRAM_USAGE_ADD' ? { vram_usage: context.vram_usage + event.delta } : {},
    ),
    setUserGpuId: assign(({ event }) => (event.type === 'SET_USER_GPU_ID' ? { user_gpu_id: event.user_gpu_id } : {})),
    queueListAdd: assign(({ context, event }) =>
      event.type === 'QUEUE_ADD' ? { queues: [...context.queues, event.queue] } : {},
    ),
    queueListRemove: assign(({ context, event }) =>
      event.type === 'QUEUE_REMOVE' ? { queues: context.queues.filter((q) => q !== event.queue) } : {},
    ),
  },
}).createMachine({
  id: 'kfd_pdd',
  initial: 'alive',
  context: ({ input }) => ({
    pid: input.pid,
    gpu_id: input.gpu_id,
    user_gpu_id: input.gpu_id,
    drm_file: null,
    evicted: 0,
    proc_doorbells: false,
    runtime_inuse: false,
    vram_usage: 0n,
    queues: [],
    internal_bos: [],
  }),
  states: {
    alive: {
      type: 'parallel',
      on: {
        ALLOC_DOORBELLS: { actions: 'allocProcessDoorbells' },
        VRAM_USAGE_ADD: { actions: 'addVramUsage' },
        SET_USER_GPU_ID: { actions: 'setUserGpuId' },
        QUEUE_ADD: { actions: 'queueListAdd' },
        QUEUE_REMOVE: { guard: 'hasQueue', actions: 'queueListRemove' },
        DESTROY: { target: 'destroyed' },
      },
      states: {
        vm: {
          initial: 'noVm',
          states: {
            noVm: { on: { INIT_VM: { target: 'vmAcquired', actions: 'setDrmFile' } } },
            vmAcquired: { on: { BIND: { target: 'bound', actions: 'takeRuntimePmRef' } } },
            /** runtime_inuse: later binds find the reference already taken. */
            bound: { on: { BIND: {} } },
          },
        },
        queues: {
          initial: 'running',
          states: {
            /**
             * restore_process_queues_* on a pdd that is not evicted is a kernel WARN_ON_ONCE;
             * every restore in the model is paired with an eviction, so it is refused here.
             */
            running: {
              on: {
                EVICT_QUEUES: { target: 'evicted', actions: 'evictedInc' },
              },
            },
            evicted: {
              on: {
                EVICT_QUEUES: { actions: 'evictedInc' },
                RESTORE_QUEUES: [
                  { guard: 'evictedMoreThanOnce', actions: 'evictedDec' },
                  { target: 'running', actions: 'evictedDec' },
                ],
              },
            },
          },
        },
      },
    },
    destroyed: { type: 'final' },
  },
});
