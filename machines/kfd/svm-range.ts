/**
 * An SVM range (kfd_svm.c `struct svm_range`, spec §5.2.3, §5.5 step 3).
 *
 * Ranges are created and split by AMDKFD_IOC_SVM SET_ATTR; a range is `mapped`
 * when some GPU has ACCESS or ACCESS_IN_PLACE to it and the process does not use
 * XNACK (the kernel validates and maps it eagerly then). During CRIU RESTORE
 * ranges are not created at all: they wait as metadata in the process until
 * RESUME replays them through svm_range_set_attr.
 */
import { contextSchema, numberRef } from '../context-schema.js';
import { assign, setup } from 'xstate';

export interface SvmAttribute {
  type: number;
  value: number;
}

export interface SvmRangeContext {
  pid: number;
  /** First page (start_addr >> PAGE_SHIFT). */
  start: bigint;
  /** Number of pages. */
  npages: bigint;
  /** KFD_IOCTL_SVM_LOCATION_* or a gpu_id. */
  preferred_loc: number;
  prefetch_loc: number;
  /** KFD_IOCTL_SVM_FLAG_* */
  flags: number;
  granularity: number;
  /** Actual gpu_ids with ACCESS / ACCESS_IN_PLACE. */
  access: number[];
  access_in_place: number[];
}

/** SvmRangeContext read back from a snapshot (machines/context-schema.ts). */
export const svmRangeContextSpec = contextSchema<SvmRangeContext>()(
  ({ z, u32, u64 }) =>
    z.strictObject({
      pid: u32,
      start: u64,
      npages: u64,
      preferred_loc: u32,
      prefetch_loc: u32,
      flags: u32,
      granularity: u32,
      access: z.array(u32),
      access_in_place: z.array(u32),
    }),
  (c) => [
    numberRef('pid', c.pid, 'tasks'),
    ...c.access.map((g, i) => numberRef(`access[${i}]`, g, 'gpus')),
    ...c.access_in_place.map((g, i) => numberRef(`access_in_place[${i}]`, g, 'gpus')),
  ],
);

export type SvmRangeEvent =
  | {
      type: 'SET_ATTRS';
      attrs: Partial<Omit<SvmRangeContext, 'pid' | 'start' | 'npages'>>;
      map: boolean;
    }
  | { type: 'RESIZE'; start: bigint; npages: bigint }
  | { type: 'DESTROY' };

export const svmRangeMachine = setup({
  types: {} as { context: SvmRangeContext; events: SvmRangeEvent; input: SvmRangeContext },
  guards: {
    /** svm_range_set_attr maps the range when some GPU may access it without XNACK. */
    mappedOnAnyGpu: ({ event }) => event.type === 'SET_ATTRS' && event.map,
  },
  actions: {
    applyAttrs: assign(({ event }) => (event.type === 'SET_ATTRS' ? { ...event.attrs } : {})),
    resize: assign(({ event }) => (event.type === 'RESIZE' ? { start: event.start, npages: event.npages } : {})),
  },
}).createMachine({
  id: 'kfd_svm_range',
  initial: 'unmapped',
  context: ({ input }) => ({ ...input }),
  states: {
    unmapped: {
      on: {
        SET_ATTRS: [{ guard: 'mappedOnAnyGpu', target: 'mapped', actions: 'applyAttrs' }, { actions: 'applyAttrs' }],
        RESIZE: { actions: 'resize' },
        DESTROY: 'destroyed',
      },
    },
    mapped: {
      on: {
        SET_ATTRS: [
          { guard: 'mappedOnAnyGpu', actions: 'applyAttrs' },
          { target: 'unmapped', actions: 'applyAttrs' },
        ],
        RESIZE: { actions: 'resize' },
        DESTROY: 'destroyed',
      },
    },
    destroyed: { type: 'final' },
  },
});
