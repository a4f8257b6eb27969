/**
 * Model-based test runs of one object machine against the handler layer (design "Layers" 6).
 *
 * The test model is `createTestModel(machine, …)` from `xstate/graph`; its paths are
 * sequences of machine-level events. An **adapter** says how the kernel causes those
 * events: a list of *macros*, each one call (or a few calls) of `step()` — an ioctl,
 * open/close/exit, or a kernel-internal event — together with the exact sequence of
 * machine events that call causes on the object under test (its *effect*). One ioctl
 * often sends several events to the same object (CREATE_QUEUE binds the pdd, allocates
 * its doorbells and adds the queue), and some events never come alone, so a path is
 * executable only if it splits into consecutive macro effects.
 *
 * The traversal therefore explores the product of
 *  - the machine snapshot, reduced by a per-machine context abstraction,
 *  - the adapter's *grammar state*: which macros are under way and a small environment
 *    value (`env`) for what the subject's machine cannot see (is the process paused, has
 *    the peer GPU a VM, was RESTORE issued …), and
 *  - the transition that led to the state, so that every transition definition gets a
 *    vertex of its own and `getShortestPaths` yields a path through it.
 * `filterEvents` admits an event only if the machine enables it (`getTransitionData`,
 * which also sees targetless transitions) and some macro can produce it next.
 *
 * Every selected path is then replayed on the machine (pure `transition`) and executed
 * with `testModel.testPath`: the macros run against a fresh world, and after each macro
 * the subject's state in `world.objects` must equal the model's state value (an object
 * whose machine reached a final state is dropped by the handlers, so "absent" stands
 * for the final state), and the adapter's projection of the context must agree.
 * Coverage is recorded on the model side along every executed path.
 */
import { deepStrictEqual } from 'node:assert/strict';
import {
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  initialTransition,
  transition,
} from 'xstate';
import { createTestModel } from 'xstate/graph';
import type { World } from '../world/types.js';
import { Coverage } from './coverage.js';
import { canonicalize, serializeEvent, snapshotSerializer, withBigIntJson } from './serialize.js';

/** A machine event a macro causes: its type, or a partial event whose given fields must match. */
export type EventPattern = string | ({ type: string } & Record<string, unknown>);

export interface MacroRun<Env> {
  /** The environment when the macro starts. */
  env: Env;
  /** The model events this application of the macro stands for (its effect, concretely). */
  events: EventObject[];
  /** Model snapshots before the first and after the last of those events. */
  before: AnyMachineSnapshot;
  after: AnyMachineSnapshot;
}

export interface Macro<Sut, Env> {
  /** What the macro does, as shown in path descriptions (e.g. "MAP_MEMORY_TO_GPU [B]"). */
  name: string;
  /** The machine events the call causes on the subject, in order ([] for set-up calls). */
  effect: readonly EventPattern[];
  /** Precondition on the environment and the model snapshot at the macro's start. */
  when?: (env: Env, snapshot: AnyMachineSnapshot) => boolean;
  /** The environment after the macro (default: unchanged). Set-up macros ([] effect) must change it. */
  next?: (env: Env) => Env;
  /** Perform the calls against the world; throws (an assertion) when a call returns something else than the kernel would. */
  run: (sut: Sut, m: MacroRun<Env>) => void;
}

export interface Sut {
  world: World;
}

export interface Adapter<S extends Sut, Env> {
  /** Name of this model instance, e.g. "kfd_bo (userptr)". */
  name: string;
  machine: AnyStateMachine;
  /** Machine input (object creation arguments) of the model instance. */
  input?: unknown;
  /** Concrete sample events offered in every state (the machine's own event type). */
  events: readonly AnyEventObject[];
  /** Context abstraction for the state key; must keep what the guards read. */
  abstract?: (context: never) => unknown;
  /** Part of the context compared between the world object and the model after each macro. */
  project?: (context: never) => unknown;
  initialEnv: Env;
  macros: Macro<S, Env>[];
  /** A fresh world with the subject's surroundings (and the subject itself if it exists from the start). */
  setup: () => S;
  /** The world object id of the subject (undefined until a macro created it). */
  subject: (sut: S) => string | undefined;
  /** Traversal limit passed to xstate/graph (default 200 000). */
  limit?: number;
}

interface Config<Env> {
  env: Env;
  /** Index of the macro under way, or -1 at a macro boundary. */
  m: number;
  /**
   * Position in the macro's effect; at a boundary, the index of the macro that just
   * completed (-1 at the start), so that each macro gets vertices of its own and the
   * shortest paths exercise every macro, not only the first of two that cause the same events.
   */
  pos: number;
}

/** One application of a macro in a parsed path: events [start, end) of the path. */
export interface Application<S extends Sut, Env> {
  macro: Macro<S, Env>;
  start: number;
  end: number;
  env: Env;
}

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
  testModel: ReturnType<typeof createTestModel>;
}

function matches(p: EventPattern, e: EventObject): boolean {
  if (typeof p === 'string') return p === e.type;
  if (p.type !== e.type) return false;
  const rec = e as unknown as Record<string, unknown>;
  return Object.entries(p).every(([k, v]) => canonicalize(rec[k]) === canonicalize(v));
}

function patternText(p: EventPattern): string {
  return typeof p === 'string' ? p : canonicalize(p);
}

/** The grammar of an adapter: which machine-event sequences its macros produce. */
class Grammar<S extends Sut, Env> {
  constructor(private readonly adapter: Adapter<S, Env>) {}

  private get macros() {
    return this.adapter.macros;
  }

  private key(c: Config<Env>): string {
    return canonicalize({ env: c.env, m: c.m, pos: c.pos }, 'grammar');
  }

  normalize(cs: Config<Env>[]): Config<Env>[] {
    const byKey = new Map<string, Config<Env>>();
    for (const c of cs) byKey.set(this.key(c), c);
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }

  initial(): Config<Env>[] {
    return [{ env: this.adapter.initialEnv, m: -1, pos: -1 }];
  }

  /** Boundary configurations plus those reachable by set-up macros (empty effect). */
  private closure(cs: Config<Env>[], snap: AnyMachineSnapshot): Config<Env>[] {
    const out = new Map<string, Config<Env>>();
    const todo = [...cs];
    while (todo.length) {
      const c = todo.pop()!;
      const k = this.key(c);
      if (out.has(k)) continue;
      out.set(k, c);
      if (c.m !== -1) continue;
      this.macros.forEach((m, i) => {
        if (m.effect.length === 0 && (m.when?.(c.env, snap) ?? true))
          todo.push({ env: m.next ? m.next(c.env) : c.env, m: -1, pos: i });
      });
    }
    return [...out.values()];
  }

  advance(cs: Config<Env>[], snap: AnyMachineSnapshot, e: EventObject): Config<Env>[] {
    const out: Config<Env>[] = [];
    const step = (env: Env, m: number, pos: number) => {
      const macro = this.macros[m]!;
      if (pos + 1 === macro.effect.length) out.push({ env: macro.next ? macro.next(env) : env, m: -1, pos: m });
      else out.push({ env, m, pos: pos + 1 });
    };
    for (const c of this.closure(cs, snap)) {
      if (c.m === -1) {
        this.macros.forEach((macro, i) => {
          if (macro.effect.length > 0 && matches(macro.effect[0]!, e) && (macro.when?.(c.env, snap) ?? true))
            step(c.env, i, 0);
        });
      } else if (matches(this.macros[c.m]!.effect[c.pos]!, e)) step(c.env, c.m, c.pos);
    }
    return this.normalize(out);
  }

  /** Split a path into macro applications (set-up macros included), or null. */
  parse(events: EventObject[], snaps: AnyMachineSnapshot[], preferred?: Macro<S, Env>): Application<S, Env>[] | null {
    const n = events.length;
    // Macro indices in the order they are tried (a preferred macro first).
    const order = this.macros.map((_, i) => i);
    if (preferred) order.sort((x, y) => Number(this.macros[y] === preferred) - Number(this.macros[x] === preferred));
    const failed = new Set<string>();
    const dfs = (
      i: number,
      env: Env,
      cur: { m: number; pos: number; start: number; env: Env } | null,
      acc: Application<S, Env>[],
      setups: Set<string>,
    ): Application<S, Env>[] | null => {
      const used = preferred !== undefined && acc.some((x) => x.macro === preferred);
      const memo = canonicalize({ i, env, cur, setups: [...setups].sort(), used }, 'parse');
      if (failed.has(memo)) return null;
      const finish = (m: number, start: number, startEnv: Env) => {
        const macro = this.macros[m]!;
        return {
          env: macro.next ? macro.next(startEnv) : startEnv,
          app: { macro, start, end: i + 1, env: startEnv },
        };
      };
      let res: Application<S, Env>[] | null = null;
      if (cur === null) {
        // With a preferred macro, only a parse that uses it counts.
        if (i === n) return preferred && !used ? null : acc;
        // Candidates: macros whose effect starts with events[i], then set-up macros (a
        // preferred set-up macro is tried first of all).
        const setup = order.filter((m) => this.macros[m]!.effect.length === 0);
        const eventful = order.filter((m) => this.macros[m]!.effect.length > 0);
        const candidates =
          preferred && preferred.effect.length === 0 && !used ? [...setup, ...eventful] : [...eventful, ...setup];
        for (let j = 0; j < candidates.length && !res; j++) {
          const m = candidates[j]!;
          const macro = this.macros[m]!;
          if (!(macro.when?.(env, snaps[i]!) ?? true)) continue;
          if (macro.effect.length === 0) {
            const nextEnv = macro.next ? macro.next(env) : env;
            const k = canonicalize(nextEnv);
            if (setups.has(k)) continue;
            res = dfs(
              i,
              nextEnv,
              null,
              [...acc, { macro, start: i, end: i, env }],
              new Set([...setups, canonicalize(env), k]),
            );
          } else if (matches(macro.effect[0]!, events[i]!)) {
            if (macro.effect.length === 1) {
              const f = finish(m, i, env);
              res = dfs(i + 1, f.env, null, [...acc, f.app], new Set());
            } else res = dfs(i + 1, env, { m, pos: 1, start: i, env }, acc, new Set());
          }
        }
      } else if (i < n && matches(this.macros[cur.m]!.effect[cur.pos]!, events[i]!)) {
        if (cur.pos + 1 === this.macros[cur.m]!.effect.length) {
          const f = finish(cur.m, cur.start, cur.env);
          res = dfs(i + 1, f.env, null, [...acc, f.app], new Set());
        } else res = dfs(i + 1, env, { ...cur, pos: cur.pos + 1 }, acc, new Set());
      }
      if (!res) failed.add(memo);
      return res;
    };
    return dfs(0, this.adapter.initialEnv, null, [], new Set());
  }
}

function initialSnapshot(adapter: Adapter<Sut, unknown>): AnyMachineSnapshot {
  return initialTransition(adapter.machine, adapter.input)[0] as AnyMachineSnapshot;
}

/** Replay events on the machine with XState's pure `transition`. */
function replay(adapter: Adapter<Sut, unknown>, events: EventObject[], cov: Coverage) {
  const snaps = [initialSnapshot(adapter)];
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

/**
 * Build the test model, generate its shortest paths, keep those that split into macros,
 * extend the others to a macro boundary where that reaches a transition nothing else
 * reaches, and choose a small set that together covers every reachable transition and state.
 */
export function planPaths<S extends Sut, Env>(adapter: Adapter<S, Env>): Plan<S, Env> {
  const a = adapter as unknown as Adapter<Sut, unknown>;
  const cov = new Coverage(adapter.machine);
  const grammar = new Grammar(adapter);
  const base = snapshotSerializer(adapter.abstract as ((c: unknown) => unknown) | undefined);
  const info = new WeakMap<object, { gs: Config<Env>[]; incoming: string }>();
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
  const generatedPaths = withBigIntJson(() => testModel.getShortestPaths(traversal as never));

  const toPlanned = (events: EventObject[], preferred?: Macro<S, Env>): PlannedPath<S, Env> | null => {
    const snaps = replay(a, events, cov);
    const applications = grammar.parse(events, snaps, preferred);
    if (!applications) return null;
    const covers = new Set<string>();
    events.forEach((e, i) => {
      for (const t of cov.fired(snaps[i]!, e)) covers.add(t.id);
    });
    return { events, snaps, applications, covers, description: describePath(applications, events) };
  };

  const executable: PlannedPath<S, Env>[] = [];
  const partial: { events: EventObject[]; state: AnyMachineSnapshot; covers: Set<string> }[] = [];
  for (const p of generatedPaths) {
    const events = p.steps.slice(1).map((st) => st.event as EventObject);
    const planned = toPlanned(events);
    if (planned) executable.push(planned);
    else if (atBoundary(p.state as AnyMachineSnapshot))
      throw new Error(
        `${adapter.name}: a path that ends at a macro boundary does not split into macros: ${events.map((e) => e.type).join(' ')}`,
      );
    else {
      const snaps = replay(a, events, cov);
      const covers = new Set<string>();
      events.forEach((e, i) => {
        for (const t of cov.fired(snaps[i]!, e)) covers.add(t.id);
      });
      partial.push({ events, state: p.state as AnyMachineSnapshot, covers });
    }
  }
  const reached = new Set(executable.flatMap((p) => [...p.covers]));
  // A path that stops inside a macro: continue it (another traversal of the same test
  // model, from its last state) to the nearest macro boundary.
  for (const p of partial) {
    if ([...p.covers].every((id) => reached.has(id))) continue;
    const tails = withBigIntJson(() =>
      testModel.getShortestPaths({ ...traversal, fromState: p.state, toState: atBoundary } as never),
    ).sort((x, y) => x.steps.length - y.steps.length);
    for (const tail of tails) {
      const planned = toPlanned([...p.events, ...tail.steps.slice(1).map((st) => st.event as EventObject)]);
      if (!planned) continue;
      executable.push(planned);
      for (const id of planned.covers) reached.add(id);
      break;
    }
  }

  // Several macros can cause the same events (SET_XNACK_MODE and a refused RESTORE both
  // set xnack): parse the paths again preferring each macro no parse has used yet.
  for (const macro of adapter.macros) {
    if (executable.some((p) => p.applications.some((x) => x.macro === macro))) continue;
    const candidates = executable
      .map((p) => toPlanned(p.events, macro))
      .filter((p): p is PlannedPath<S, Env> => p !== null)
      .sort((x, y) => x.events.length - y.events.length);
    if (candidates[0]) executable.push(candidates[0]);
  }

  // Greedy set cover over transitions, then states.
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
  chosen.sort((x, y) => x.events.length - y.events.length || x.description.localeCompare(y.description));
  return {
    adapter,
    paths: chosen,
    generated: generatedPaths.length,
    executable: executable.length,
    uncovered: cov.transitions.map((t) => t.id).filter((id) => !reached.has(id)),
    unusedMacros: adapter.macros
      .map((m) => m.name)
      .filter((name) => !executable.some((p) => p.applications.some((x) => x.macro.name === name))),
    testModel,
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

function observe(sut: Sut, id: string) {
  return sut.world.objects[id];
}

/**
 * Execute one planned path with `testModel.testPath`: macros run when their last event
 * is reached; the world is compared with the model at every macro boundary; coverage is
 * recorded for every step.
 */
export async function executePath<S extends Sut, Env>(
  plan: Plan<S, Env>,
  path: PlannedPath<S, Env>,
  coverage: Coverage,
): Promise<void> {
  const { adapter } = plan;
  const sut = adapter.setup();
  const pending = [...path.applications];
  const boundaries = new Set(path.applications.map((x) => x.end));
  const project = adapter.project as ((c: unknown) => unknown) | undefined;
  // Before the model's step k is checked, every macro that ends at k has run; a set-up
  // macro (no events) placed at k runs with the next macro, after that check.
  const runUpTo = (k: number) => {
    while (pending.length && (pending[0]!.end < k || (pending[0]!.end === k && pending[0]!.start < k))) {
      const app = pending.shift()!;
      try {
        app.macro.run(sut, {
          env: app.env,
          events: path.events.slice(app.start, app.end),
          before: path.snaps[app.start]!,
          after: path.snaps[app.end]!,
        });
      } catch (e) {
        (e as Error).message = `${app.macro.name} (events ${app.start}..${app.end}): ${(e as Error).message}`;
        throw e;
      }
    }
  };
  const check = (k: number) => {
    const snap = path.snaps[k]!;
    const id = adapter.subject(sut);
    if (id === undefined) {
      if (k > 0) throw new Error(`after step ${k} the subject of ${adapter.name} does not exist`);
      return;
    }
    const rec = observe(sut, id);
    if (snap.status === 'done') {
      if (rec !== undefined)
        throw new Error(
          `model reached final state ${canonicalize(snap.value)} but ${id} is still in the world (${canonicalize(rec.value)})`,
        );
      return;
    }
    if (rec === undefined) throw new Error(`model is in ${canonicalize(snap.value)} but ${id} is gone from the world`);
    deepStrictEqual(rec.value, snap.value, `state of ${id} after step ${k}`);
    if (project)
      deepStrictEqual(project(rec.context), project(snap.context), `projected context of ${id} after step ${k}`);
  };
  let k = 0;
  const statePath = {
    state: path.snaps[path.snaps.length - 1],
    weight: path.events.length,
    steps: path.snaps.map((state, i) => ({ state, event: i === 0 ? { type: 'xstate.init' } : path.events[i - 1] })),
  };
  const handlers: Record<string, () => void> = {};
  for (const e of [...adapter.events, ...path.events]) handlers[e.type] = () => runUpTo(k);
  await plan.testModel.testPath(statePath as never, {
    events: handlers as never,
    states: {
      '*': () => {
        if (k > 0) coverage.recordStep(path.snaps[k - 1]!, path.events[k - 1]!);
        coverage.recordState(path.snaps[k]!);
        if (boundaries.has(k) || k === 0) check(k);
        k++;
      },
    },
  });
  if (pending.length) throw new Error(`${pending.length} macro(s) of the path did not run`);
}

/** A readable list of the macros of an adapter with their effects (for docs and failures). */
export function macroTable<S extends Sut, Env>(adapter: Adapter<S, Env>): string[] {
  return adapter.macros.map((m) => `${m.name}: [${m.effect.map(patternText).join(', ')}]`);
}
