/**
 * The adapter contract of a model-based test run (src/mbt/run.ts): how the kernel causes
 * the machine events of one object. An adapter lists *macros*, each one call (or a few
 * calls) of `step()` together with the exact sequence of machine events that call causes
 * on the object under test (its *effect*, a list of event patterns).
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import type { World } from '../world/types.js';
import { canonicalize } from './serialize.js';

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

/** Whether machine event `e` is one the pattern stands for. */
export function matches(p: EventPattern, e: EventObject): boolean {
  if (typeof p === 'string') return p === e.type;
  if (p.type !== e.type) return false;
  const rec = e as unknown as Record<string, unknown>;
  return Object.entries(p).every(([k, v]) => canonicalize(rec[k]) === canonicalize(v));
}

/** The environment after a macro (`next`, or unchanged). */
export function envAfter<S extends Sut, Env>(macro: Macro<S, Env>, env: Env): Env {
  return macro.next ? macro.next(env) : env;
}

function patternText(p: EventPattern): string {
  return typeof p === 'string' ? p : canonicalize(p);
}

/** A readable list of the macros of an adapter with their effects (for docs and failures). */
export function macroTable<S extends Sut, Env>(adapter: Adapter<S, Env>): string[] {
  return adapter.macros.map((m) => `${m.name}: [${m.effect.map(patternText).join(', ')}]`);
}
