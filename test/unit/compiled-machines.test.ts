/**
 * The compiled transition form (src/world/compiled.ts) against XState's own
 * `transition`: on random event sequences of every KFD machine, both must agree on
 * which events are enabled, on the next state value and on the next context.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, initialTransition, transition } from 'xstate';
import { boMachine } from '../../machines/kfd/bo.js';
import { eventMachine } from '../../machines/kfd/event.js';
import { pddMachine } from '../../machines/kfd/pdd.js';
import { processMachine } from '../../machines/kfd/process.js';
import { queueMachine } from '../../machines/kfd/queue.js';
import { svmRangeMachine } from '../../machines/kfd/svm-range.js';
import { compileMachine } from '../../src/world/compiled.js';

interface Case {
  machine: AnyStateMachine;
  input: unknown;
  events: { type: string; [k: string]: unknown }[];
}

const queue = {
  pid: 1,
  gpu_id: 1,
  queue_id: 0,
  type: 0,
  format: 1,
  q_address: 0x1000n,
  q_size: 4096n,
  read_ptr_addr: 0n,
  write_ptr_addr: 0n,
  doorbell_off: 0n,
  eop_ring_buffer_address: 0n,
  eop_ring_buffer_size: 0,
  ctx_save_restore_area_address: 0n,
  ctx_save_restore_area_size: 0,
  ctl_stack_size: 0,
  priority: 0,
  q_percent: 100,
  doorbell_id: 0,
  sdma_id: 0,
  gws: 0,
  sdma_engine_id: 0,
  mqd: '',
  ctl_stack: '',
};

const CASES: Record<string, Case> = {
  process: {
    machine: processMachine,
    input: { pid: 1, xnack_enabled: false },
    events: [
      { type: 'PAUSE' },
      { type: 'UNPAUSE' },
      { type: 'SET_XNACK', enabled: true },
      { type: 'SET_SIGNAL_PAGE', handle: 5n },
      { type: 'ALLOC_SIGNAL_PAGE' },
      { type: 'BLOCK_MMU_NOTIFICATIONS' },
      { type: 'SAVE_SVM_METADATA', range: { start: 1n, npages: 2n, attrs: [] } },
      { type: 'FREE_SVM_METADATA' },
      { type: 'CRIU_RESUME' },
      { type: 'USERPTR_RESTORE_WORKER' },
      { type: 'EXIT' },
    ],
  },
  pdd: {
    machine: pddMachine,
    input: { pid: 1, gpu_id: 7 },
    events: [
      { type: 'INIT_VM', drm_file: 'f', internal_bos: ['b'] },
      { type: 'BIND' },
      { type: 'ALLOC_DOORBELLS' },
      { type: 'IDR_ALLOC', handle: 0, bo: 'x' },
      { type: 'IDR_ALLOC', handle: 1, bo: 'y' },
      { type: 'IDR_REMOVE', handle: 0 },
      { type: 'EVICT_QUEUES' },
      { type: 'RESTORE_QUEUES' },
      { type: 'VRAM_USAGE_ADD', delta: 4096n },
      { type: 'SET_USER_GPU_ID', user_gpu_id: 9 },
      { type: 'QUEUE_ADD', queue: 'q' },
      { type: 'QUEUE_REMOVE', queue: 'q' },
      { type: 'DESTROY' },
    ],
  },
  bo: {
    machine: boMachine,
    input: {
      pid: 1,
      gpu_id: 7,
      va: 0x1000n,
      size: 4096n,
      alloc_flags: 4,
      gem: 'g',
      user_addr: 0x2000n,
      is_imported: false,
      internal: false,
    },
    events: [
      { type: 'MAP', vm: 7 },
      { type: 'MAP', vm: 8 },
      { type: 'UNMAP', vm: 7 },
      { type: 'UNMAP', vm: 8 },
      { type: 'INVALIDATE_USERPTR' },
      { type: 'VALIDATE_USERPTR' },
      { type: 'EXPORT', dmabuf: 'd' },
      { type: 'FREE' },
    ],
  },
  queue: {
    machine: queueMachine,
    input: queue,
    events: [{ type: 'EVICT' }, { type: 'RESTORE' }, { type: 'SET_GWS' }, { type: 'DESTROY' }],
  },
  event: {
    machine: eventMachine,
    input: {
      pid: 1,
      event_id: 1,
      type: 0,
      auto_reset: true,
      memory_exception_data: null,
      hw_exception_data: null,
    },
    events: [
      { type: 'SIGNAL' },
      { type: 'SIGNAL', hw_exception_data: { reset_type: 0, reset_cause: 0, memory_lost: 1, gpu_id: 7 } },
      { type: 'RESET' },
      { type: 'DESTROY' },
    ],
  },
  svmRange: {
    machine: svmRangeMachine,
    input: {
      pid: 1,
      start: 16n,
      npages: 8n,
      preferred_loc: 0,
      prefetch_loc: 0,
      flags: 3,
      granularity: 9,
      access: [],
      access_in_place: [],
    },
    events: [
      { type: 'SET_ATTRS', attrs: { access: [7] }, map: true },
      { type: 'SET_ATTRS', attrs: { access: [] }, map: false },
      { type: 'RESIZE', start: 16n, npages: 4n },
      { type: 'DESTROY' },
    ],
  },
};

/** XState's own answer: enabled (any transition data) and the next snapshot. */
function viaXState(machine: AnyStateMachine, value: unknown, context: unknown, event: { type: string }) {
  const snap = machine.resolveState({ value: value as never, context: context as never });
  const enabled = (machine.getTransitionData(snap as never, event as never)?.length ?? 0) > 0;
  const [next] = transition(machine, snap, event as never);
  return { enabled, value: next.value, context: next.context };
}

describe('the compiled transition form equals XState transition', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: random event sequences agree on enabledness, value and context`, () => {
      const compiled = compileMachine(c.machine);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: c.events.length - 1 }), { maxLength: 25 }), (picks) => {
          const [init] = initialTransition(c.machine, c.input as never);
          let state = compiled.initial(c.input);
          expect(state.value).toEqual(init.value);
          expect(state.context).toEqual(init.context);
          for (const i of picks) {
            const event = c.events[i]!;
            const ref = viaXState(c.machine, state.value, state.context, event);
            const choice = compiled.select(state.value, state.context, event);
            expect(choice !== null).toBe(ref.enabled);
            if (!choice) continue;
            state = compiled.apply(state.value, state.context, event, choice);
            expect(state.value).toEqual(ref.value);
            expect(state.context).toEqual(ref.context);
          }
        }),
        { numRuns: 300, seed: 0x6c7 },
      );
    });
  }

  it('a machine outside the compiled subset is refused when it is compiled', async () => {
    const { setup } = await import('xstate');
    const withEntry = setup({}).createMachine({
      id: 'x',
      initial: 'a',
      states: { a: { entry: () => {} } },
    });
    expect(() => compileMachine(withEntry)).toThrow(/outside the compiled subset/);
  });
});
