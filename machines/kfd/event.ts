/**
 * A KFD event (kfd_events.c, spec §5.2.2, §7.2).
 *
 * SIGNAL events are set and reset from the CPU (SET_EVENT / RESET_EVENT); DEBUG,
 * MEMORY and HW_EXCEPTION events are signalled by the kernel (the debugger, a VM
 * fault, a GPU reset), which gpucr models as the explicit events `kfd.vm_fault` and
 * `kfd.gpu_reset` (DEBUG events are signalled only by the debugger, not modelled).
 */
import { contextSchema, numberRef } from '../context-schema.js';
import { assign, setup } from 'xstate';

/** struct kfd_hsa_memory_exception_data (kfd_ioctl.h), field names verbatim. */
export interface MemoryExceptionData {
  failure: { NotPresent: number; ReadOnly: number; NoExecute: number; imprecise: number };
  va: bigint;
  gpu_id: number;
  ErrorType: number;
}

/** struct kfd_hsa_hw_exception_data (kfd_ioctl.h). */
export interface HwExceptionData {
  reset_type: number;
  reset_cause: number;
  memory_lost: number;
  gpu_id: number;
}

export interface EventContext {
  pid: number;
  event_id: number;
  /** KFD_IOC_EVENT_* */
  type: number;
  auto_reset: boolean;
  memory_exception_data: MemoryExceptionData | null;
  hw_exception_data: HwExceptionData | null;
}

/** EventContext read back from a snapshot (machines/context-schema.ts). */
export const eventContextSpec = contextSchema<EventContext>()(
  ({ z, u32, u64 }) =>
    z.strictObject({
      pid: u32,
      event_id: u32,
      type: u32,
      auto_reset: z.boolean(),
      memory_exception_data: z
        .strictObject({
          failure: z.strictObject({ NotPresent: u32, ReadOnly: u32, NoExecute: u32, imprecise: u32 }),
          va: u64,
          gpu_id: u32,
          ErrorType: u32,
        })
        .nullable(),
      hw_exception_data: z
        .strictObject({ reset_type: u32, reset_cause: u32, memory_lost: u32, gpu_id: u32 })
        .nullable(),
    }),
  (c) => [numberRef('pid', c.pid, 'tasks')],
);

export type EventEvent =
  | {
      type: 'SIGNAL';
      memory_exception_data?: MemoryExceptionData;
      hw_exception_data?: HwExceptionData;
    }
  | { type: 'RESET' }
  | { type: 'DESTROY' };

const KFD_IOC_EVENT_SIGNAL = 0;

export const eventMachine = setup({
  types: {} as { context: EventContext; events: EventEvent; input: EventContext },
  guards: {
    /** event_can_be_cpu_signaled(): only SIGNAL events (SET/RESET of others → -EINVAL). */
    canBeCpuSignaled: ({ context }) => context.type === KFD_IOC_EVENT_SIGNAL,
  },
  actions: {
    /** kfd_signal_vm_fault_event / kfd_signal_reset_event copy their data into the event. */
    recordExceptionData: assign(({ event }) => {
      if (event.type !== 'SIGNAL') return {};
      return {
        ...(event.memory_exception_data ? { memory_exception_data: event.memory_exception_data } : {}),
        ...(event.hw_exception_data ? { hw_exception_data: event.hw_exception_data } : {}),
      };
    }),
  },
}).createMachine({
  id: 'kfd_event',
  initial: 'unsignaled',
  context: ({ input }) => ({ ...input }),
  states: {
    unsignaled: {
      on: {
        SIGNAL: { target: 'signaled', actions: 'recordExceptionData' },
        RESET: { guard: 'canBeCpuSignaled' },
        DESTROY: 'destroyed',
      },
    },
    signaled: {
      on: {
        SIGNAL: { actions: 'recordExceptionData' },
        RESET: { guard: 'canBeCpuSignaled', target: 'unsignaled' },
        DESTROY: 'destroyed',
      },
    },
    destroyed: { type: 'final' },
  },
});
