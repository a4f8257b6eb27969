/**
 * The test model of an adapter (src/mbt/run.ts): `createTestModel(machine, …)` from
 * `xstate/graph`, traversed over the product of
 *  - the machine snapshot, reduced by the adapter's context abstraction,
 *  - the adapter's grammar state (src/mbt/grammar.ts), and
 *  - the transition that led to the state, so that every transition definition gets a
 *    vertex of its own and `getShortestPaths` yields a path through it.
 * `filterEvents` admits an event only if the machine enables it (`getTransitionData`,
 * which also sees targetless transitions) and some macro can produce it next.
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { createTestModel } from 'xstate/graph';
import type { Adapter, Sut } from './adapter.js';
import type { Coverage } from './coverage.js';
import type { Config, Grammar } from './grammar.js';
import { canonicalize, serializeEvent, snapshotSerializer, withBigIntJson } from './serialize.js';

export type TestModel = ReturnType<typeof createTestModel>;

/** A path as `getShortestPaths` gives it. */
export type GeneratedPath = ReturnType<TestModel['getShortestPaths']>[number];

export interface AdapterTestModel {
  testModel: TestModel;
  /** Whether some configuration of the vertex's grammar state is at a macro boundary. */
  atBoundary: (s: AnyMachineSnapshot) => boolean;
  /** The shortest paths from the initial state to every vertex. */
  shortestPaths: () => GeneratedPath[];
  /** The shortest paths from a vertex to the macro boundaries nearest to it, shortest first. */
  pathsToBoundary: (from: AnyMachineSnapshot) => GeneratedPath[];
}

/** The grammar state of each vertex, and the transitions that led to it. */
interface VertexInfo<Env> {
  gs: Config<Env>[];
  incoming: string;
}

/**
 * The state key, event filter and boundary test of the product traversal. The grammar
 * state of a vertex is derived from its predecessor's when `serializeState` first sees it
 * (with the event that led to it), and kept per snapshot object.
 */
function productVertices<S extends Sut, Env>(adapter: Adapter<S, Env>, cov: Coverage, grammar: Grammar<S, Env>) {
  const base = snapshotSerializer(adapter.abstract as ((c: unknown) => unknown) | undefined);
  const info = new WeakMap<object, VertexInfo<Env>>();
  const gsOf = (s: AnyMachineSnapshot) => info.get(s)?.gs ?? grammar.initial();
  const serializeState = (s: AnyMachineSnapshot, e?: EventObject, prev?: AnyMachineSnapshot) => {
    let entry = info.get(s);
    if (e !== undefined && prev !== undefined)
      entry = {
        gs: grammar.advance(gsOf(prev), prev, e),
        incoming: cov
          .fired(prev, e)
          .map((t) => t.id)
          .join(','),
      };
    entry ??= { gs: grammar.initial(), incoming: '' };
    info.set(s, entry);
    return `${base(s)} ${canonicalize(entry.gs, 'grammar')} ${entry.incoming}`;
  };
  const filterEvents = (s: AnyMachineSnapshot, e: EventObject) =>
    cov.fired(s, e).length > 0 && grammar.advance(gsOf(s), s, e).length > 0;
  const atBoundary = (s: AnyMachineSnapshot) => gsOf(s).some((c) => c.m === -1);
  return { serializeState, filterEvents, atBoundary };
}

export function adapterTestModel<S extends Sut, Env>(
  adapter: Adapter<S, Env>,
  cov: Coverage,
  grammar: Grammar<S, Env>,
): AdapterTestModel {
  const { serializeState, filterEvents, atBoundary } = productVertices(adapter, cov, grammar);
  const testModel = createTestModel(freshSnapshots(adapter.machine), {
    events: adapter.events,
    filterEvents,
    serializeState,
    serializeEvent,
    input: adapter.input,
  } as never);
  // createTestModel offers only each state's "own" event types, and XState leaves
  // targetless transitions without actions out of those (a second BIND, a second PAUSE);
  // the sample events are therefore passed again at path generation.
  const traversal = { allowDuplicatePaths: true, events: adapter.events, limit: adapter.limit ?? 200_000 };
  return {
    testModel,
    atBoundary,
    shortestPaths: () => withBigIntJson(() => testModel.getShortestPaths(traversal as never)),
    // Another traversal of the same test model, from the given vertex.
    pathsToBoundary: (from) =>
      withBigIntJson(() =>
        testModel.getShortestPaths({ ...traversal, fromState: from, toState: atBoundary } as never),
      ).sort((x, y) => x.steps.length - y.steps.length),
  };
}

/**
 * The machine, except that `transition` never hands back the snapshot it was given.
 * XState returns the very same snapshot object for a transition that changes nothing (a
 * targetless transition without actions); the traversal would then see one object stand
 * for several vertices, and the grammar state kept per snapshot object would be
 * overwritten. A shallow copy (what `cloneMachineSnapshot` does) keeps one object per vertex.
 */
function freshSnapshots<M extends AnyStateMachine>(machine: M): M {
  const fresh = (s: AnyMachineSnapshot, e: EventObject, scope: unknown) => {
    const next = (machine.transition as (...a: unknown[]) => AnyMachineSnapshot)(s, e, scope);
    return next === s ? ({ ...next } as AnyMachineSnapshot) : next;
  };
  return new Proxy(machine, {
    get: (target, prop, receiver) => (prop === 'transition' ? fresh : Reflect.get(target, prop, receiver)),
  });
}
