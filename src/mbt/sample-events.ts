/**
 * The vitest-free half of `describeModel` (src/mbt/describe-model.ts) and of
 * `gpucr paths` (src/cli/paths.ts):
 *
 *  - **samples** (this module): for each KFD object machine, one or more model instances
 *    (the machine input), the sample events offered in every state (derived from the
 *    machine's event types, with representative payloads), and the context abstraction
 *    that keeps the state space finite (a ref-count capped, a growing list reduced to what
 *    the guards read);
 *  - **event types** of a machine without payload (src/mbt/machine-events.ts), and
 *  - **path generation** and **formatting** (src/mbt/model-paths.ts), both re-exported here.
 *
 * The project's own model-based suites (test/mbt/adapters) have richer sample events and
 * macros; this table only has to let anyone list a machine's paths without the tests.
 */
import type { AnyEventObject, AnyStateMachine } from 'xstate';
import { type BoContext, type BoInput, mappedVms } from '../../machines/kfd/bo.js';
import type { EventContext } from '../../machines/kfd/event.js';
import type { PddContext, PddInput } from '../../machines/kfd/pdd.js';
import type { ProcessContext, ProcessInput } from '../../machines/kfd/process.js';
import type { SvmRangeContext } from '../../machines/kfd/svm-range.js';
import {
  KFD_IOC_ALLOC_MEM_FLAGS,
  KFD_IOC_EVENT,
  KFD_IOCTL_SVM_ATTR,
  KFD_IOCTL_SVM_LOCATION,
  MAKE_HANDLE,
} from '../uapi/index.js';
import type { KfdObjectKind, ObjectKind } from '../world/types.js';
import { payloadFreeEvents } from './machine-events.js';
import { sampleBoEvents } from './sample-bo.js';
import { sampleQueueContext } from './sample-queue.js';

export { machineEventTypes, payloadFreeEvents } from './machine-events.js';
export {
  DEFAULT_TRAVERSAL_LIMIT,
  eventText,
  formatPath,
  type ModelPath,
  type ModelPathOptions,
  type ModelPaths,
  modelPaths,
  type PathGeneratorName,
  stateText,
  TraversalLimitError,
} from './model-paths.js';

/** One model instance of a machine: its input, the events offered, the context abstraction. */
export interface ModelSample {
  /** Name of the instance, e.g. "kfd.bo (userptr)". */
  name: string;
  /** Machine input (what the object is created with). */
  input?: unknown;
  /** Concrete sample events, offered in every state (filtered by what the machine enables). */
  events: readonly AnyEventObject[];
  /** Context abstraction for the state key; must keep everything the guards read. */
  abstract?: (context: never) => unknown;
}

// Representative values: two GPUs, an application pid, addresses in a user VA range.
const PID = 100;
const GPU_A = 0xa3e1;
const GPU_B = 0x5c17;
const VA = 0x7f0001000000n;
const PAGE = 4096n;

const processInput: ProcessInput = { pid: PID, xnack_enabled: false };

const pddInput: PddInput = { pid: PID, gpu_id: GPU_A };

function boInput(flags: number): BoInput {
  const userptr = (flags & KFD_IOC_ALLOC_MEM_FLAGS.USERPTR) !== 0;
  return {
    pid: PID,
    gpu_id: GPU_A,
    va: VA,
    size: 16n * PAGE,
    alloc_flags: flags,
    gem: 'amdgpu.gem_bo#1',
    user_addr: userptr ? 0x7ffd20000000n : 0n,
    is_imported: false,
    internal: false,
  };
}

const queueInput = sampleQueueContext(PID, GPU_A);

const eventInput: EventContext = {
  pid: PID,
  event_id: 1,
  type: KFD_IOC_EVENT.SIGNAL,
  auto_reset: true,
  memory_exception_data: null,
  hw_exception_data: null,
};

const svmInput: SvmRangeContext = {
  pid: PID,
  start: VA / PAGE,
  npages: 16n,
  preferred_loc: KFD_IOCTL_SVM_LOCATION.UNDEFINED,
  prefetch_loc: KFD_IOCTL_SVM_LOCATION.UNDEFINED,
  flags: 0,
  granularity: 9,
  access: [],
  access_in_place: [],
};

const boEvents: AnyEventObject[] = sampleBoEvents(GPU_A, GPU_B, 'file#9');

/** The bo guards read which VMs are attached and mapped and the mapping count; the dma-buf id is irrelevant. */
const boAbstract = (c: Pick<BoContext, 'attachments' | 'mapped_to_gpu_memory'>) => ({
  attached: c.attachments.map((a) => a.vm),
  mapped: mappedVms(c),
  count: c.mapped_to_gpu_memory,
});

/**
 * Sample model instances of the KFD object machines (machines/kfd). Payloads use two
 * GPUs (0xa3e1, 0x5c17) and one application (pid 100).
 */
export const KFD_SAMPLES: Readonly<Record<KfdObjectKind, readonly ModelSample[]>> = {
  'kfd.process': [
    {
      name: 'kfd.process',
      input: processInput,
      events: [
        { type: 'PAUSE' },
        { type: 'UNPAUSE' },
        { type: 'SET_XNACK', enabled: true },
        { type: 'SET_XNACK', enabled: false },
        // The user's event-page BO: MAKE_HANDLE(gpu_id, idr handle).
        { type: 'SET_SIGNAL_PAGE', handle: MAKE_HANDLE(GPU_A, 2) },
        { type: 'ALLOC_SIGNAL_PAGE' },
        { type: 'BLOCK_MMU_NOTIFICATIONS' },
        {
          type: 'SAVE_SVM_METADATA',
          range: {
            start: VA / PAGE,
            npages: 16n,
            attrs: [
              { type: KFD_IOCTL_SVM_ATTR.PREFERRED_LOC, value: KFD_IOCTL_SVM_LOCATION.UNDEFINED },
              { type: KFD_IOCTL_SVM_ATTR.ACCESS, value: GPU_A },
            ],
          },
        },
        { type: 'FREE_SVM_METADATA' },
        { type: 'CRIU_RESUME' },
        { type: 'USERPTR_RESTORE_WORKER' },
        { type: 'EXIT' },
      ],
      // evicted_bos and the saved SVM ranges grow with every RESUME / saved range; the
      // guards read only signal_page.
      abstract: (c: ProcessContext) => ({
        xnack: c.xnack_enabled,
        signal_page: c.signal_page,
        user_signal_page: c.signal_handle !== 0n,
        svm_metadata: Math.min(c.criu_svm_metadata.length, 1),
        evicted_bos: Math.min(c.evicted_bos, 1),
      }),
    },
  ],
  'kfd.pdd': [
    {
      name: 'kfd.pdd',
      input: pddInput,
      events: [
        { type: 'INIT_VM', drm_file: 'file#2', internal_bos: [] },
        { type: 'BIND' },
        { type: 'ALLOC_DOORBELLS' },
        { type: 'EVICT_QUEUES' },
        { type: 'RESTORE_QUEUES' },
        { type: 'VRAM_USAGE_ADD', delta: 16n * PAGE },
        { type: 'SET_USER_GPU_ID', user_gpu_id: GPU_B },
        { type: 'QUEUE_ADD', queue: 'kfd.queue#1' },
        { type: 'QUEUE_REMOVE', queue: 'kfd.queue#1' },
        { type: 'DESTROY' },
      ],
      // qpd->evicted is a ref-count (the guard compares it with 1: capped at 2), vram_usage
      // only grows (no guard reads it), the queue list only matters for QUEUE_REMOVE's guard.
      abstract: (c: PddContext) => ({
        evicted: Math.min(c.evicted, 2),
        queue: c.queues.length > 0,
        doorbells: c.proc_doorbells,
        user_gpu_id: c.user_gpu_id,
      }),
    },
  ],
  'kfd.bo': [
    {
      name: 'kfd.bo (GTT)',
      input: boInput(KFD_IOC_ALLOC_MEM_FLAGS.GTT | KFD_IOC_ALLOC_MEM_FLAGS.WRITABLE),
      events: boEvents,
      abstract: boAbstract,
    },
    {
      name: 'kfd.bo (userptr)',
      input: boInput(KFD_IOC_ALLOC_MEM_FLAGS.USERPTR | KFD_IOC_ALLOC_MEM_FLAGS.WRITABLE),
      events: boEvents,
      abstract: boAbstract,
    },
  ],
  'kfd.queue': [
    {
      name: 'kfd.queue',
      input: queueInput,
      events: [{ type: 'EVICT' }, { type: 'RESTORE' }, { type: 'SET_GWS' }, { type: 'DESTROY' }],
    },
  ],
  'kfd.event': [
    {
      name: 'kfd.event (SIGNAL)',
      input: eventInput,
      events: [{ type: 'SIGNAL' }, { type: 'RESET' }, { type: 'DESTROY' }],
    },
  ],
  'kfd.svm_range': [
    {
      name: 'kfd.svm_range',
      input: svmInput,
      events: [
        { type: 'SET_ATTRS', attrs: { access: [GPU_A], access_in_place: [] }, map: true },
        { type: 'SET_ATTRS', attrs: { access: [], access_in_place: [] }, map: false },
        { type: 'RESIZE', start: svmInput.start, npages: svmInput.npages / 2n },
        { type: 'DESTROY' },
      ],
    },
  ],
};

/**
 * The sample model instances of an object kind: the KFD table above, or for a kind
 * without an entry one instance with no input and the machine's event types without payload.
 */
export function samplesOf(kind: ObjectKind, machine: AnyStateMachine): readonly ModelSample[] {
  return (
    (KFD_SAMPLES as Readonly<Record<string, readonly ModelSample[]>>)[kind] ?? [
      { name: kind, events: payloadFreeEvents(machine) },
    ]
  );
}
