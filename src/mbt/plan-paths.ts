/**
 * Path planning of a model-based test run (src/mbt/run.ts): from the shortest paths of
 * the adapter's test model (src/mbt/test-model.ts), the paths that split into macros
 * (src/mbt/parse-path.ts), each replayed on the machine (pure `transition`), and among
 * them a small set that together covers every reachable transition, state and macro.
 */
import { type AnyMachineSnapshot, type EventObject, initialTransition, transition } from 'xstate';
import type { Adapter, Macro, Sut } from './adapter.js';
import { Coverage } from './coverage.js';
import { Grammar } from './grammar.js';
import type { Application } from './parse-path.js';
import { canonicalize } from './serialize.js';
import { type AdapterTestModel, adapterTestModel, type GeneratedPath, type TestModel } from './test-model.js';

export interface PlannedPath<S extends Sut, Env> {
  events: EventObject[];
  /** Replayed model snapshots: snaps[0] initial, snaps[i + 1] after events[i]. */
  snaps: AnyMachineSnapshot[];
  applications: Application<S, Env>[];
  /** Transition ids and state paths the path covers. */
  covers: Set<string>;
  description: string;
}

export interface Plan<S extends Sut, Env> {
  adapter: Adapter<S, Env>;
  paths: PlannedPath<S, Env>[];
  /** How many paths `getShortestPaths` returned, and how many of them split into macros. */
  generated: number;
  executable: number;
  /** Transition ids no executable path reaches: no modelled call sequence causes them. */
  uncovered: string[];
  /** Macros of the adapter that no executable path uses. */
  unusedMacros: string[];
  testModel: TestModel;
}

/** A generated path that stops inside a macro: its events, last state and transitions. */
interface PartialPath {
  events: EventObject[];
  state: AnyMachineSnapshot;
  covers: Set<string>;
}

/** What the planning steps share. */
interface Planning<S extends Sut, Env> {
  adapter: Adapter<S, Env>;
  cov: Coverage;
  grammar: Grammar<S, Env>;
  model: AdapterTestModel;
}

/**
 * Build the test model, generate its shortest paths, keep those that split into macros,
 * extend the others to a macro boundary where that reaches a transition nothing else
 * reaches, and choose a small set that together covers every reachable transition and state.
 */
export function planPaths<S extends Sut, Env>(adapter: Adapter<S, Env>): Plan<S, Env> {
  const cov = new Coverage(adapter.machine);
  const grammar = new Grammar(adapter);
  const ctx: Planning<S, Env> = { adapter, cov, grammar, model: adapterTestModel(adapter, cov, grammar) };
  const generatedPaths = ctx.model.shortestPaths();
  const { executable, partial } = splitGenerated(ctx, generatedPaths);
  const reached = new Set(executable.flatMap((p) => [...p.covers]));
  extendToBoundary(ctx, partial, executable, reached);
  addPathsForUnusedMacros(ctx, executable);
  return {
    adapter,
    paths: chooseCover(cov, executable),
    generated: generatedPaths.length,
    executable: executable.length,
    uncovered: cov.transitions.map((t) => t.id).filter((id) => !reached.has(id)),
    unusedMacros: adapter.macros
      .map((m) => m.name)
      .filter((name) => !executable.some((p) => p.applications.some((x) => x.macro.name === name))),
    testModel: ctx.model.testModel,
  };
}

function eventsOf(p: GeneratedPath): EventObject[] {
  return p.steps.slice(1).map((st) => st.event as EventObject);
}

/** The generated paths that split into macros, and those that stop inside a macro. */
function splitGenerated<S extends Sut, Env>(ctx: Planning<S, Env>, generatedPaths: GeneratedPath[]) {
  const executable: PlannedPath<S, Env>[] = [];
  const partial: PartialPath[] = [];
  for (const p of generatedPaths) {
    const events = eventsOf(p);
    const planned = toPlanned(ctx, events);
    if (planned) executable.push(planned);
    else if (ctx.model.atBoundary(p.state as AnyMachineSnapshot))
      throw new Error(
        `${ctx.adapter.name}: a path that ends at a macro boundary does not split into macros: ${events.map((e) => e.type).join(' ')}`,
      );
    else {
      const snaps = replay(ctx.adapter, events, ctx.cov);
      partial.push({ events, state: p.state as AnyMachineSnapshot, covers: firedAlong(ctx.cov, events, snaps) });
    }
  }
  return { executable, partial };
}

/**
 * A path that stops inside a macro and reaches a transition no executable path reaches:
 * continue it (another traversal of the same test model, from its last state) to the
 * nearest macro boundary.
 */
function extendToBoundary<S extends Sut, Env>(
  ctx: Planning<S, Env>,
  partial: PartialPath[],
  executable: PlannedPath<S, Env>[],
  reached: Set<string>,
): void {
  for (const p of partial) {
    if ([...p.covers].every((id) => reached.has(id))) continue;
    for (const tail of ctx.model.pathsToBoundary(p.state)) {
      const planned = toPlanned(ctx, [...p.events, ...eventsOf(tail)]);
      if (!planned) continue;
      executable.push(planned);
      for (const id of planned.covers) reached.add(id);
      break;
    }
  }
}

/**
 * Several macros can cause the same events (SET_XNACK_MODE and a refused RESTORE both
 * set xnack): parse the paths again preferring each macro no parse has used yet.
 */
function addPathsForUnusedMacros<S extends Sut, Env>(ctx: Planning<S, Env>, executable: PlannedPath<S, Env>[]): void {
  for (const macro of ctx.adapter.macros) {
    if (executable.some((p) => p.applications.some((x) => x.macro === macro))) continue;
    const candidates = executable
      .map((p) => toPlanned(ctx, p.events, macro))
      .filter((p): p is PlannedPath<S, Env> => p !== null)
      .sort((x, y) => x.events.length - y.events.length);
    if (candidates[0]) executable.push(candidates[0]);
  }
}

/** Greedy set cover of the units (transitions, states, macros) of the executable paths; the chosen paths shortest first. */
function chooseCover<S extends Sut, Env>(cov: Coverage, executable: PlannedPath<S, Env>[]): PlannedPath<S, Env>[] {
  const stateCover = (p: PlannedPath<S, Env>) => {
    const s = new Set<string>();
    for (const snap of p.snaps)
      for (const st of cov.states) if (snap.matches(st.path as never)) s.add(`state ${st.path}`);
    return s;
  };
  // Units to cover: transitions, states, and every macro of the adapter (so that each
  // call-to-event mapping the adapter claims is exercised at least once).
  const units = executable.map(
    (p) => new Set([...p.covers, ...stateCover(p), ...p.applications.map((x) => `macro ${x.macro.name}`)]),
  );
  const chosen: PlannedPath<S, Env>[] = [];
  const done = new Set<string>();
  for (;;) {
    let best = -1;
    let bestGain = 0;
    units.forEach((u, i) => {
      let gain = 0;
      for (const x of u) if (!done.has(x)) gain++;
      if (
        gain > bestGain ||
        (gain === bestGain && gain > 0 && executable[i]!.events.length < executable[best]!.events.length)
      ) {
        best = i;
        bestGain = gain;
      }
    });
    if (best < 0) break;
    chosen.push(executable[best]!);
    for (const x of units[best]!) done.add(x);
  }
  return chosen.sort((x, y) => x.events.length - y.events.length || x.description.localeCompare(y.description));
}

/** A path replayed on the machine and split into macros (preferring `preferred`), or null. */
function toPlanned<S extends Sut, Env>(
  ctx: Planning<S, Env>,
  events: EventObject[],
  preferred?: Macro<S, Env>,
): PlannedPath<S, Env> | null {
  const snaps = replay(ctx.adapter, events, ctx.cov);
  const applications = ctx.grammar.parse(events, snaps, preferred);
  if (!applications) return null;
  const covers = firedAlong(ctx.cov, events, snaps);
  return { events, snaps, applications, covers, description: describePath(applications, events) };
}

/** The ids of the transitions the events take along the replayed snapshots. */
function firedAlong(cov: Coverage, events: EventObject[], snaps: AnyMachineSnapshot[]): Set<string> {
  const covers = new Set<string>();
  events.forEach((e, i) => {
    for (const t of cov.fired(snaps[i]!, e)) covers.add(t.id);
  });
  return covers;
}

function initialSnapshot(adapter: Adapter<Sut, unknown>): AnyMachineSnapshot {
  return initialTransition(adapter.machine, adapter.input)[0] as AnyMachineSnapshot;
}

/** Replay events on the machine with XState's pure `transition`. */
function replay<S extends Sut, Env>(adapter: Adapter<S, Env>, events: EventObject[], cov: Coverage) {
  const snaps = [initialSnapshot(adapter as unknown as Adapter<Sut, unknown>)];
  for (const e of events) {
    const before = snaps[snaps.length - 1]!;
    if (cov.fired(before, e).length === 0)
      throw new Error(`${adapter.name}: replay: ${e.type} is not enabled in ${canonicalize(before.value)}`);
    snaps.push(transition(adapter.machine, before, e)[0] as AnyMachineSnapshot);
  }
  return snaps;
}

function describePath<S extends Sut, Env>(apps: Application<S, Env>[], events: EventObject[]): string {
  return apps
    .map((a) =>
      a.start === a.end
        ? `(${a.macro.name})`
        : `${a.macro.name} ⇒ ${events
            .slice(a.start, a.end)
            .map((e) => e.type)
            .join('+')}`,
    )
    .join(' → ');
}
