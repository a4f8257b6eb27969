/**
 * `describeModel`: run the paths of an XState machine's test model against your own
 * system, one vitest test per path (import it from `gpucr/vitest`; docs/testing-your-driver.md).
 *
 * ```ts
 * import { describeModel } from 'gpucr/vitest';
 * import { machines } from 'gpucr';
 *
 * describeModel({ machine: machines.queueMachine, input }, {
 *   setup: () => new MyDriver(),
 *   events: {
 *     EVICT: (drv) => drv.criuProcessInfo(),
 *     RESTORE: (drv) => drv.criuUnpause(),
 *     DESTROY: (drv) => drv.destroyQueue(0),
 *   },
 *   states: { evicted: (drv) => expect(drv.queueIsActive(0)).toBe(false) },
 * }, { filterEvents: (_s, e) => e.type !== 'SET_GWS' });
 * ```
 *
 * The paths are those of `createTestModel(machine, { events, filterEvents, serializeState })`
 * from `xstate/graph` (src/mbt/model-paths.ts `modelPaths`). Each generated test
 * sets the system up, then walks its path with `testModel.testPath`: for every step it
 * calls the adapter's handler for the event, then every state check whose key the new
 * snapshot `matches`, and finally tears the system down.
 *
 * This module imports vitest: it is the `gpucr/vitest` subpath of the package, never
 * re-exported by the main entry point (which must load without vitest).
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventFromLogic, EventObject, InputFrom, SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Coverage, enumerateStates } from './coverage.js';
import {
  formatPath,
  machineEventTypes,
  type ModelPath,
  type ModelPaths,
  modelPaths,
  type PathGeneratorName,
} from './sample-events.js';
import type { SnapshotLike } from './serialize.js';

// What an adapter author needs next to describeModel, from the same subpath.
export {
  formatPath,
  type ModelPath,
  type ModelPaths,
  modelPaths,
  type PathGeneratorName,
  payloadFreeEvents,
} from './sample-events.js';
export { snapshotSerializer, type SnapshotLike } from './serialize.js';

/** Runs one machine event against the system under test. */
export type EventHandler<Sut, TEvent extends EventObject> = (sut: Sut, event: TEvent) => Promise<void> | void;

/** Checks that the system under test is in a state (throw or fail an `expect` when it is not). */
export type StateCheck<Sut, TSnapshot> = (sut: Sut, snapshot: TSnapshot) => Promise<void> | void;

/**
 * How a path's machine events are carried out on your system, and how its states are checked.
 *
 * @typeParam Sut - whatever `setup` returns: a driver handle, a world, a client…
 * @typeParam TEvent - the machine's events (inferred from the machine).
 * @typeParam TSnapshot - the machine's snapshot type (inferred from the machine).
 */
export interface ModelAdapter<Sut, TEvent extends EventObject = EventObject, TSnapshot = AnyMachineSnapshot> {
  /** A fresh system for one path, in the machine's initial state. Called once per generated test. */
  setup(): Promise<Sut> | Sut;
  /**
   * One handler per machine event type: make the system do what the event stands for
   * (an ioctl, a CRIU operation, a kernel-internal step). A path that contains an event
   * without a handler fails, naming the event.
   */
  events: { [K in TEvent['type']]?: EventHandler<Sut, Extract<TEvent, { type: K }>> };
  /**
   * State checks keyed by state path (`'evicted'`, `'alive.vm.bound'`) or state node id
   * (`'#kfd_pdd.alive'`). After the initial state and after every step, each check whose
   * key the model snapshot `matches` (XState semantics: a compound or parallel state
   * matches while any of its descendants is active) runs; `'*'` runs when no other key matches.
   */
  states?: { [statePath: string]: StateCheck<Sut, TSnapshot> };
  /** Release the system after a path (runs whether the path passed or failed). */
  teardown?(sut: Sut): Promise<void> | void;
}

/** A machine together with the input its initial snapshot is created with. */
export interface ModelConfig<TMachine extends AnyStateMachine> {
  machine: TMachine;
  input?: InputFrom<TMachine>;
}

export interface DescribeModelOptions<TMachine extends AnyStateMachine> {
  /** Title of the vitest `describe` block (default: `model <machine id>`). */
  name?: string;
  /**
   * Sample events, offered in every state. Default: one event per event type of the
   * machine, without payload — give events with payloads (for example two `MAP`s, one per
   * VM) when the machine's guards or actions read them.
   */
  events?: readonly EventFromLogic<TMachine>[];
  /**
   * Which sample events to follow from a snapshot. An event is followed when the machine
   * enables it (`machine.getTransitionData`; a targetless transition, with or without
   * actions, counts) and this filter, when given, admits it: return false for events your
   * system cannot cause.
   */
  filterEvents?: (snapshot: SnapshotFrom<TMachine>, event: EventFromLogic<TMachine>) => boolean;
  /**
   * The key that identifies a model state. Default: the canonical key of the snapshot's
   * value and context (src/mbt/serialize.ts `snapshotSerializer()`: sorted keys, bigints
   * and byte buffers allowed). Abstract contexts that grow without bound (counters, lists),
   * keeping what the guards read.
   */
  serializeState?: (snapshot: SnapshotLike) => string;
  /**
   * Key vertices also by the transition that reached them (default true), so that the
   * shortest paths take every reachable transition; false: one vertex per state key
   * (fewer paths; every state, not every transition).
   */
  distinguishTransitions?: boolean;
  /** `'shortest'` (default): a shortest path to every vertex; `'simple'`: every simple path (grows fast). */
  pathGenerator?: PathGeneratorName;
  /** Traversal limit of xstate/graph: how many vertices the traversal may visit (default 100 000). */
  limit?: number;
  /**
   * Add a last test asserting that the paths that passed covered 100% of the machine's
   * states and transitions (src/mbt/coverage.ts). Run the whole block: a filtered run
   * (`-t`) covers less.
   */
  coverage?: boolean;
}

function isMachine(x: unknown): x is AnyStateMachine {
  return typeof x === 'object' && x !== null && 'root' in x && typeof (x as AnyStateMachine).transition === 'function';
}

/** Throw at collection time for a state check or handler key that can never apply (a typo). */
function validateAdapter(machine: AnyStateMachine, adapter: ModelAdapter<unknown, EventObject, unknown>): void {
  const statePaths = new Set(enumerateStates(machine).map((s) => s.path));
  for (const key of Object.keys(adapter.states ?? {})) {
    if (key === '*' || statePaths.has(key)) continue;
    if (key.startsWith('#')) {
      try {
        machine.getStateNodeById(key);
        continue;
      } catch {
        // reported below
      }
    }
    throw new Error(
      `describeModel(${machine.id}): adapter.states has a check for "${key}", which is not a state of the machine (states: ${[...statePaths].join(', ')})`,
    );
  }
  const types = machineEventTypes(machine);
  for (const key of Object.keys(adapter.events)) {
    if (!types.includes(key))
      throw new Error(
        `describeModel(${machine.id}): adapter.events has a handler for "${key}", which is not an event of the machine (events: ${types.join(', ')})`,
      );
  }
}

function prefixError(e: unknown, prefix: string): unknown {
  if (e instanceof Error) {
    e.message = `${prefix}: ${e.message}`;
    return e;
  }
  return new Error(`${prefix}: ${String(e)}`);
}

async function runPath<Sut>(
  plan: ModelPaths,
  path: ModelPath,
  adapter: ModelAdapter<Sut, EventObject, unknown>,
): Promise<void> {
  const missing = [...new Set(path.events.map((e) => e.type))].filter(
    (t) => typeof (adapter.events as Record<string, unknown>)[t] !== 'function',
  );
  if (missing.length)
    throw new Error(
      `the adapter has no handler for event ${missing.join(', ')} (path: ${path.text}); add it to adapter.events, or leave the event out with filterEvents`,
    );
  const sut = await adapter.setup();
  // Which step testPath is at: 0 is the initial state, k the state after events[k - 1].
  let k = 0;
  const prefix = () => formatPath(path.snapshots.slice(0, k + 1), path.events.slice(0, k));
  const events: Record<string, (step: { event: EventObject }) => Promise<void>> = {};
  for (const type of new Set(path.events.map((e) => e.type)))
    events[type] = async (step) => {
      const handler = (adapter.events as Record<string, EventHandler<Sut, EventObject>>)[type]!;
      try {
        await handler(sut, step.event);
      } catch (e) {
        throw prefixError(e, `event ${type} after ${prefix()}`);
      }
      k++;
    };
  const states: Record<string, (snapshot: unknown) => Promise<void>> = {};
  for (const [key, check] of Object.entries(adapter.states ?? {}))
    states[key] = async (snapshot) => {
      try {
        await check(sut, snapshot);
      } catch (e) {
        throw prefixError(e, `state check "${key}" at ${prefix()}`);
      }
    };
  try {
    await plan.testModel.testPath(path.statePath as never, { events, states } as never);
  } finally {
    await adapter.teardown?.(sut);
  }
}

/**
 * Declare a vitest `describe` block with one test per path of the machine's test model;
 * each test runs the path against the system the adapter sets up. Returns the generated
 * paths (computed now, at collection time).
 *
 * @param model - the machine, or `{ machine, input }` when its initial context needs input
 * @param adapter - how events are carried out and states checked on your system
 * @param options - sample events, filter, state key, path generator, coverage test
 */
export function describeModel<TMachine extends AnyStateMachine, Sut>(
  model: TMachine | ModelConfig<TMachine>,
  adapter: ModelAdapter<Sut, EventFromLogic<TMachine>, SnapshotFrom<TMachine>>,
  options: DescribeModelOptions<TMachine> = {},
): ModelPaths {
  const { machine, input } = isMachine(model) ? { machine: model, input: undefined } : model;
  const a = adapter as unknown as ModelAdapter<Sut, EventObject, unknown>;
  validateAdapter(machine, a as ModelAdapter<unknown, EventObject, unknown>);
  const plan = modelPaths(machine, {
    input,
    events: options.events,
    filterEvents: options.filterEvents as ((s: AnyMachineSnapshot, e: EventObject) => boolean) | undefined,
    serializeState: options.serializeState,
    distinguishTransitions: options.distinguishTransitions,
    pathGenerator: options.pathGenerator,
    limit: options.limit,
  });
  const coverage = new Coverage(machine);
  describe(options.name ?? `model ${machine.id}`, () => {
    plan.paths.forEach((path, i) => {
      it(`path ${i + 1}/${plan.paths.length}: ${path.text}`, async () => {
        await runPath(plan, path, a);
        path.snapshots.forEach((snapshot, j) => {
          if (j > 0) coverage.recordStep(path.snapshots[j - 1]!, path.events[j - 1]!);
          coverage.recordState(snapshot);
        });
      });
    });
    if (options.coverage)
      it(`the paths cover every state and transition of ${machine.id}`, () => {
        const r = coverage.report();
        expect(
          { states: r.missingStates, transitions: r.missingTransitions },
          `not covered by a passing path: ${r.missing.join(', ')}`,
        ).toEqual({ states: [], transitions: [] });
      });
  });
  return plan;
}
