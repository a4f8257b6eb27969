/**
 * Path generation and formatting for `describeModel` (src/mbt/describe-model.ts) and
 * `gpucr paths` (src/cli/paths.ts), without vitest:
 *
 *  - **path generation**: the paths `createTestModel(machine, { events, filterEvents,
 *    serializeState })` from `xstate/graph` produces, shortest or simple;
 *  - **formatting**: a path as `state --EVENT--> state --EVENT--> …`.
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { Coverage } from './coverage.js';
import { payloadFreeEvents } from './machine-events.js';
import { canonicalize, serializeEvent, snapshotSerializer, type SnapshotLike, withBigIntJson } from './serialize.js';

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
  const events = options.events ?? payloadFreeEvents(machine);
  const { filterEvents, serializeState } = traversalKeys(machine, options);
  const testModel = createTestModel(machine, {
    events,
    filterEvents,
    serializeState,
    serializeEvent,
    input: options.input,
  } as never);
  const paths = traverse(testModel, machine, events, options).map(toModelPath);
  paths.sort((x, y) => x.events.length - y.events.length || (x.text < y.text ? -1 : x.text > y.text ? 1 : 0));
  return { machine, testModel, events, paths };
}

/** Which events the traversal follows from a snapshot, and the key of each vertex (see `ModelPathOptions`). */
function traversalKeys(machine: AnyStateMachine, options: ModelPathOptions) {
  const cov = new Coverage(machine);
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
  return { filterEvents, serializeState };
}

/** A path as xstate/graph generates it. */
interface GeneratedPath {
  steps: { state: unknown; event: unknown }[];
  state: unknown;
  weight: number;
}

/** The paths of the chosen generator; a traversal past its limit throws `TraversalLimitError`. */
function traverse(
  testModel: ReturnType<typeof createTestModel>,
  machine: AnyStateMachine,
  events: readonly EventObject[],
  options: ModelPathOptions,
): GeneratedPath[] {
  const limit = options.limit ?? DEFAULT_TRAVERSAL_LIMIT;
  // createTestModel offers each state only its "own" event types, and XState leaves
  // targetless transitions without actions out of those (a second BIND): the sample
  // events are passed again here so that filterEvents decides alone.
  const traversal = { events, limit } as never;
  try {
    // xstate/graph describes paths with JSON.stringify, which throws on a bigint.
    return withBigIntJson(() =>
      options.pathGenerator === 'simple' ? testModel.getSimplePaths(traversal) : testModel.getShortestPaths(traversal),
    ) as never;
  } catch (e) {
    if (e instanceof Error && e.message === 'Traversal limit exceeded')
      throw new TraversalLimitError(machine.id, limit);
    throw e;
  }
}

function toModelPath(p: GeneratedPath): ModelPath {
  const steps = p.steps as { state: AnyMachineSnapshot; event: EventObject }[];
  const pathEvents = steps.slice(1).map((st) => st.event);
  const snapshots = steps.map((st) => st.state);
  return {
    events: pathEvents,
    snapshots,
    text: formatPath(snapshots, pathEvents),
    statePath: { state: p.state as AnyMachineSnapshot, weight: pathEvents.length, steps },
  };
}
