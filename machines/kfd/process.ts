/**
 * kfd_process: one per mm_struct, created by the first open("/dev/kfd").
 *
 * The CRIU-relevant flags of kfd_priv.h `struct kfd_process` and of the shared
 * `amdkfd_process_info` (spec §1, §6.1, §11.1), as two orthogonal regions:
 *  - `criu`: `queues_paused` — set by PROCESS_INFO, cleared by UNPAUSE;
 *  - `mmu`: `block_mmu_notifications` (set by RESTORE in criu_restore_bos) and the
 *    pending userptr restore worker that RESUME queues (`evicted_bos` > 0). Only one
 *    RESTORE can reach criu_restore_bos: a second one fails in criu_restore_devices
 *    because every pdd already has a drm file (spec §6.2).
 * The per-GPU eviction ref-count lives in each pdd (`qpd->evicted`).
 */
import { contextSchema, numberRef } from '../context-schema.js';
import { produce } from 'immer';
import { assign, setup } from 'xstate';

/** A saved SVM range kept by RESTORE until RESUME (svms->criu_svm_metadata_list). */
export interface SvmMetadata {
  start: bigint;
  npages: bigint;
  attrs: { type: number; value: number }[];
}

export interface ProcessContext {
  pid: number;
  xnack_enabled: boolean;
  queues_paused: boolean;
  block_mmu_notifications: boolean;
  /** amdkfd_process_info.evicted_bos */
  evicted_bos: number;
  /** p->signal_handle: the user handle of the event-page BO (0 when none). */
  signal_handle: bigint;
  /** A signal page exists (kernel-allocated on demand, or the user BO kmapped). */
  signal_page: boolean;
  /** svms->criu_svm_metadata_list */
  criu_svm_metadata: SvmMetadata[];
}

/** ProcessContext read back from a snapshot (machines/context-schema.ts). */
export const processContextSpec = contextSchema<ProcessContext>()(
  ({ z, u32, u64 }) =>
    z.strictObject({
      pid: u32,
      xnack_enabled: z.boolean(),
      queues_paused: z.boolean(),
      block_mmu_notifications: z.boolean(),
      evicted_bos: u32,
      signal_handle: u64,
      signal_page: z.boolean(),
      criu_svm_metadata: z.array(
        z.strictObject({ start: u64, npages: u64, attrs: z.array(z.strictObject({ type: u32, value: u32 })) }),
      ),
    }),
  (c) => [numberRef('pid', c.pid, 'tasks')],
);

export type ProcessEvent =
  | { type: 'PAUSE' }
  | { type: 'UNPAUSE' }
  | { type: 'SET_XNACK'; enabled: boolean }
  | { type: 'SET_SIGNAL_PAGE'; handle: bigint }
  | { type: 'ALLOC_SIGNAL_PAGE' }
  | { type: 'BLOCK_MMU_NOTIFICATIONS' }
  | { type: 'SAVE_SVM_METADATA'; range: SvmMetadata }
  | { type: 'FREE_SVM_METADATA' }
  | { type: 'CRIU_RESUME' }
  | { type: 'USERPTR_RESTORE_WORKER' }
  | { type: 'EXIT' };

export interface ProcessInput {
  pid: number;
  xnack_enabled: boolean;
}

export const processMachine = setup({
  types: {} as { context: ProcessContext; events: ProcessEvent; input: ProcessInput },
  guards: {
    /** kfd_kmap_event_page: "Signal page already set" → -EINVAL otherwise. */
    noSignalPage: ({ context }) => !context.signal_page,
  },
  actions: {
    setQueuesPaused: assign({ queues_paused: true }),
    clearQueuesPaused: assign({ queues_paused: false }),
    setXnack: assign(({ event }) => (event.type === 'SET_XNACK' ? { xnack_enabled: event.enabled } : {})),
    kmapEventPage: assign(({ event }) =>
      event.type === 'SET_SIGNAL_PAGE' ? { signal_page: true, signal_handle: event.handle } : {},
    ),
    allocSignalPage: assign({ signal_page: true }),
    blockMmuNotifications: assign({ block_mmu_notifications: true }),
    saveSvmMetadata: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type === 'SAVE_SVM_METADATA') d.criu_svm_metadata.push(event.range);
      }),
    ),
    /** kfd_criu_resume_svm frees the saved ranges whether or not replaying them worked. */
    freeSvmMetadata: assign({ criu_svm_metadata: [] }),
    /** amdgpu_amdkfd_criu_resume increments evicted_bos before it checks block_mmu_notifications. */
    countEvictedBos: assign(({ context }) => ({ evicted_bos: context.evicted_bos + 1 })),
    /** amdgpu_amdkfd_criu_resume: evicted_bos++, unblock, queue restore_userptr_work. */
    criuResume: assign(({ context }) => ({
      evicted_bos: context.evicted_bos + 1,
      block_mmu_notifications: false,
    })),
    /** restore_userptr_worker: all userptrs valid → evicted_bos reset → kgd2kfd_resume_mm. */
    userptrsRestored: assign({ evicted_bos: 0 }),
  },
}).createMachine({
  id: 'kfd_process',
  initial: 'alive',
  context: ({ input }) => ({
    pid: input.pid,
    xnack_enabled: input.xnack_enabled,
    queues_paused: false,
    block_mmu_notifications: false,
    evicted_bos: 0,
    signal_handle: 0n,
    signal_page: false,
    criu_svm_metadata: [],
  }),
  states: {
    alive: {
      type: 'parallel',
      on: {
        SET_XNACK: { actions: 'setXnack' },
        SET_SIGNAL_PAGE: { guard: 'noSignalPage', actions: 'kmapEventPage' },
        ALLOC_SIGNAL_PAGE: { guard: 'noSignalPage', actions: 'allocSignalPage' },
        FREE_SVM_METADATA: { actions: 'freeSvmMetadata' },
        EXIT: { target: 'exited' },
      },
      states: {
        criu: {
          initial: 'running',
          states: {
            running: { on: { PAUSE: { target: 'paused', actions: 'setQueuesPaused' } } },
            /** PROCESS_INFO again while paused: evicts once more, stays paused (spec §6.2). */
            paused: {
              on: {
                PAUSE: {},
                UNPAUSE: { target: 'running', actions: 'clearQueuesPaused' },
              },
            },
          },
        },
        mmu: {
          initial: 'notifying',
          states: {
            notifying: {
              on: {
                BLOCK_MMU_NOTIFICATIONS: { target: 'blocked', actions: 'blockMmuNotifications' },
                /** A RESUME with nothing blocked still counts evicted_bos, then fails (-EINVAL). */
                CRIU_RESUME: { actions: 'countEvictedBos' },
              },
            },
            /** Between criu_restore_bos and RESUME; SVM ranges wait as metadata. */
            blocked: {
              on: {
                SAVE_SVM_METADATA: { actions: 'saveSvmMetadata' },
                CRIU_RESUME: { target: 'userptrRestorePending', actions: 'criuResume' },
              },
            },
            /** RESUME done; the userptr restore worker has not run yet. */
            userptrRestorePending: {
              on: {
                CRIU_RESUME: { actions: 'countEvictedBos' },
                USERPTR_RESTORE_WORKER: { target: 'notifying', actions: 'userptrsRestored' },
              },
            },
          },
        },
      },
    },
    exited: { type: 'final' },
  },
});
