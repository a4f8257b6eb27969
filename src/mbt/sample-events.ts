/**
 * The vitest-free half of `describeModel` (src/mbt/describe-model.ts) and of
 * `gpucr paths` (src/cli/paths.ts):
 *
 *  - **samples**: for each KFD object machine, one or more model instances (the machine
 *    input), the sample events offered in every state (derived from the machine's event
 *    types, with representative payloads), and the context abstraction that keeps the
 *    state space finite (a ref-count capped, a growing list reduced to what the guards read);
 *  - **path generation**: the paths `createTestModel(machine, { events, filterEvents,
 *    serializeState })` from `xstate/graph` produces, shortest or simple;
 *  - **formatting**: a path as `state --EVENT--> state --EVENT--> …`.
 *
 * The project's own model-based suites (test/mbt/adapters) have richer sample events and
 * macros; this table only has to let anyone list a machine's paths without the tests.
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { createTestModel } from 'xstate/graph';
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
import { Coverage, enumerateTransitions } from './coverage.js';
import { sampleQueueContext } from './sample-queue.js';
import { canonicalize, serializeEvent, snapshotSerializer, type SnapshotLike, withBigIntJson } from './serialize.js';

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

const boEvents: AnyEventObject[] = [
  { type: 'MAP', vm: GPU_A },
  { type: 'MAP', vm: GPU_B },
  { type: 'UNMAP', vm: GPU_A },
  { type: 'UNMAP', vm: GPU_B },
  { type: 'INVALIDATE_USERPTR' },
  { type: 'VALIDATE_USERPTR' },
  { type: 'EXPORT', dmabuf: 'file#9' },
  { type: 'FREE' },
];

/** The bo guards read which VMs are mapped and the mapping count; the dma-buf id is irrelevant. */
const boAbstract = (c: Pick<BoContext, 'attachments' | 'mapped_to_gpu_memory'>) => ({
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

/** Event descriptors that are not one concrete event type (wildcards, XState's own events). */
function concreteEventType(type: string): boolean {
  return type !== '*' && !type.endsWith('.*') && !type.startsWith('xstate.') && type !== '';
}

/** Every event type the machine has a transition for (targetless ones included), sorted. */
export function machineEventTypes(machine: AnyStateMachine): string[] {
  return [...new Set(enumerateTransitions(machine).map((t) => t.event))].filter(concreteEventType).sort();
}

/** One event without payload per event type of the machine (describeModel's default sample events). */
export function payloadFreeEvents(machine: AnyStateMachine): AnyEventObject[] {
  return machineEventTypes(machine).map((type) => ({ type }));
}

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

export type PathGeneratorName = 'shortest' | 'simple';

export interface ModelPathOptions {
  /** Machine input for the initial snapshot. */
  input?: unknown;
  /** Sample events, offered in every state (default: `payloadFreeEvents(machine)`). */
  events?: readonly EventObject[];
  /**
   * Which events to follow from a snapshot. An event is followed when the machine enables
   * it (`getTransitionData`: a targetless transition, with or without actions, counts)
   * and this filter, when given, admits it.
   */
  filterEvents?: (snapshot: AnyMachineSnapshot, event: EventObject) => boolean;
  /** State key of a snapshot (default: `snapshotSerializer()`, the canonical key of value and context). */
  serializeState?: (snapshot: SnapshotLike) => string;
  /**
   * Key each vertex also by the transition definition(s) that reached it (default true),
   * as createTestModel's own default serializer does: the shortest paths then take every
   * reachable transition, not only reach every state. With false, one vertex per state key.
   */
  distinguishTransitions?: boolean;
  /** `'shortest'` (default): a shortest path to every vertex; `'simple'`: every simple path. */
  pathGenerator?: PathGeneratorName;
  /**
   * Traversal limit passed to xstate/graph: how many vertices the traversal may visit
   * (default 100 000). A context that grows without bound exceeds it: abstract the
   * context in `serializeState`, or raise the limit.
   */
  limit?: number;
}

/** One path of the test model. */
export interface ModelPath {
  /** The events of the path, in order. */
  events: EventObject[];
  /** Model snapshots: `snapshots[0]` initial, `snapshots[i + 1]` after `events[i]`. */
  snapshots: AnyMachineSnapshot[];
  /** `state --EVENT--> state --EVENT--> …` */
  text: string;
  /** The path as xstate/graph gives it (for `testModel.testPath`). */
  statePath: { state: AnyMachineSnapshot; steps: { state: AnyMachineSnapshot; event: EventObject }[]; weight: number };
}

export interface ModelPaths {
  machine: AnyStateMachine;
  testModel: ReturnType<typeof createTestModel>;
  /** The sample events offered in every state. */
  events: readonly EventObject[];
  /** The paths, shortest first (ties in text order). */
  paths: ModelPath[];
}

/** A traversal visited more vertices than its limit allows. */
export class TraversalLimitError extends Error {
  constructor(
    readonly machineId: string,
    readonly limit: number,
  ) {
    super(
      `${machineId}: the path traversal visited more than ${limit} states; the context probably grows without bound (a counter, a list): pass a serializeState that abstracts it, or raise limit`,
    );
    this.name = 'TraversalLimitError';
  }
}

export const DEFAULT_TRAVERSAL_LIMIT = 100_000;

/** A state value as text: `closed`, `alive(vm.noVm, queues.running)`. */
export function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([k, sub]) => (typeof sub === 'string' ? `${k}.${sub}` : `${k}(${stateText(sub)})`))
    .join(', ');
}

/** An event as an arrow label: `OPEN`, or `MAP {"vm":41953}` with its payload (canonical text). */
export function eventText(event: EventObject): string {
  const { type, ...payload } = event as EventObject & Record<string, unknown>;
  return Object.keys(payload).length === 0 ? type : `${type} ${canonicalize(payload, `event ${type}`)}`;
}

/** A path as `state --EVENT--> state --EVENT--> …` (the initial state alone for an empty path). */
export function formatPath(snapshots: readonly { value: unknown }[], events: readonly EventObject[]): string {
  let out = stateText(snapshots[0]!.value);
  events.forEach((e, i) => {
    out += ` --${eventText(e)}--> ${stateText(snapshots[i + 1]!.value)}`;
  });
  return out;
}

/**
 * The paths `createTestModel(machine, { events, filterEvents, serializeState })` produces
 * (see `ModelPathOptions` for the defaults). Paths contained in a longer path are left
 * out (xstate/graph's deduplication), so every path ends somewhere no other path passes through.
 */
export function modelPaths(machine: AnyStateMachine, options: ModelPathOptions = {}): ModelPaths {
  const cov = new Coverage(machine);
  const events = options.events ?? payloadFreeEvents(machine);
  const base = options.serializeState ?? snapshotSerializer();
  const distinguish = options.distinguishTransitions ?? true;
  const admit = options.filterEvents;
  const filterEvents = (s: AnyMachineSnapshot, e: EventObject) =>
    cov.fired(s, e).length > 0 && (admit === undefined || admit(s, e));
  const serializeState = (s: AnyMachineSnapshot, e?: EventObject, prev?: AnyMachineSnapshot): string => {
    const key = base(s);
    if (!distinguish || e === undefined || prev === undefined) return key;
    return `${key} via ${cov
      .fired(prev, e)
      .map((t) => t.id)
      .join(',')}`;
  };
  const testModel = createTestModel(machine, {
    events,
    filterEvents,
    serializeState,
    serializeEvent,
    input: options.input,
  } as never);
  const limit = options.limit ?? DEFAULT_TRAVERSAL_LIMIT;
  // createTestModel offers each state only its "own" event types, and XState leaves
  // targetless transitions without actions out of those (a second BIND): the sample
  // events are passed again here so that filterEvents decides alone.
  const traversal = { events, limit } as never;
  let generated: { steps: { state: unknown; event: unknown }[]; state: unknown; weight: number }[];
  try {
    // xstate/graph describes paths with JSON.stringify, which throws on a bigint.
    generated = withBigIntJson(() =>
      options.pathGenerator === 'simple' ? testModel.getSimplePaths(traversal) : testModel.getShortestPaths(traversal),
    ) as never;
  } catch (e) {
    if (e instanceof Error && e.message === 'Traversal limit exceeded')
      throw new TraversalLimitError(machine.id, limit);
    throw e;
  }
  const paths = generated.map((p): ModelPath => {
    const steps = p.steps as { state: AnyMachineSnapshot; event: EventObject }[];
    const pathEvents = steps.slice(1).map((st) => st.event);
    const snapshots = steps.map((st) => st.state);
    return {
      events: pathEvents,
      snapshots,
      text: formatPath(snapshots, pathEvents),
      statePath: { state: p.state as AnyMachineSnapshot, weight: pathEvents.length, steps },
    };
  });
  paths.sort((x, y) => x.events.length - y.events.length || (x.text < y.text ? -1 : x.text > y.text ? 1 : 0));
  return { machine, testModel, events, paths };
}
