/**
 * The object store: every driver object is a machine snapshot in `world.objects`.
 *
 * This module is the one place where the world meets the machines: it creates
 * objects in their machine's initial state and moves them with the machine's
 * compiled transition form (src/world/compiled.ts), which runs the machine's own
 * guards and assign actions and is checked equal to XState's `transition`.
 */
import { type AnyActorRef, type AnyStateMachine, createActor, type StateValue } from 'xstate';
import type { ContextSpec } from '../../machines/context-schema.js';
import { boContextSpec, boMachine } from '../../machines/kfd/bo.js';
import { eventContextSpec, eventMachine } from '../../machines/kfd/event.js';
import { pddContextSpec, pddMachine } from '../../machines/kfd/pdd.js';
import { processContextSpec, processMachine } from '../../machines/kfd/process.js';
import { queueContextSpec, queueMachine } from '../../machines/kfd/queue.js';
import { svmRangeContextSpec, svmRangeMachine } from '../../machines/kfd/svm-range.js';
import { type CompiledMachine, compileMachine } from './compiled.js';
import type { ObjectKind, ObjectRecord, World } from './types.js';

/**
 * Every object kind's machine. Each driver registers its own kinds (registerMachine)
 * from the module that defines its handlers; the KFD kinds are registered here.
 */
export const MACHINES: Record<ObjectKind, AnyStateMachine> = {
  'kfd.process': processMachine,
  'kfd.pdd': pddMachine,
  'kfd.bo': boMachine,
  'kfd.queue': queueMachine,
  'kfd.event': eventMachine,
  'kfd.svm_range': svmRangeMachine,
};

/** Every object kind's context schema (machines/context-schema.ts), registered with its machine. */
const CONTEXTS: Record<ObjectKind, ContextSpec> = {
  'kfd.process': processContextSpec as ContextSpec,
  'kfd.pdd': pddContextSpec as ContextSpec,
  'kfd.bo': boContextSpec as ContextSpec,
  'kfd.queue': queueContextSpec as ContextSpec,
  'kfd.event': eventContextSpec as ContextSpec,
  'kfd.svm_range': svmRangeContextSpec as ContextSpec,
};

/**
 * Register the machine of an object kind ("<driver>.<object>", e.g. "ttm.tt") and the
 * schema of its context, which a snapshot's objects of that kind are checked against.
 */
export function registerMachine<C>(kind: ObjectKind, machine: AnyStateMachine, context: ContextSpec<C>): void {
  if (MACHINES[kind] && MACHINES[kind] !== machine) throw new Error(`object kind ${kind} registered twice`);
  MACHINES[kind] = machine;
  CONTEXTS[kind] = context as ContextSpec;
}

/** The context schema of a registered kind (undefined for a kind nobody registered). */
export function contextSpecOf(kind: ObjectKind): ContextSpec | undefined {
  return Object.hasOwn(CONTEXTS, kind) ? CONTEXTS[kind] : undefined;
}

function machineOf(kind: ObjectKind): AnyStateMachine {
  const m = MACHINES[kind];
  if (!m) throw new Error(`no machine registered for object kind ${kind}`);
  return m;
}

/** A machine refused an event: the handler asked for a transition the object does not allow. */
export class ObjectEventRefused extends Error {
  constructor(
    readonly id: string,
    readonly event: string,
    readonly state: unknown,
  ) {
    super(`${id} in state ${JSON.stringify(state)} refuses ${event}`);
  }
}

/** Compiled machines by kind: a kind keeps its machine (registerMachine refuses another). */
const COMPILED = new Map<ObjectKind, CompiledMachine>();

/** The compiled form of a kind's machine (src/world/compiled.ts), built on first use. */
function compiledOf(kind: ObjectKind): CompiledMachine {
  let c = COMPILED.get(kind);
  if (!c) {
    c = compileMachine(machineOf(kind));
    COMPILED.set(kind, c);
  }
  return c;
}

/**
 * The benchmark's reference: every object an XState actor of the same machine, sent
 * the same events (`npm run bench` compares it with the compiled form). The actors
 * live outside the world, so this mode is for benchmarks only.
 */
let ACTORS: Map<string, AnyActorRef> | null = null;

export function useActorBackend(on: boolean): void {
  ACTORS = on ? new Map() : null;
}

/**
 * The reference of test/unit/contexts-in-place.test.ts: every transition gives the object a
 * new context (the copying `transition`, as XState's assign does), instead of changing the
 * context in place. A handler that read a context field before a `send` and used it after
 * would make the two disagree.
 */
let COPY_CONTEXTS = false;

export function useCopiedContexts(on: boolean): void {
  COPY_CONTEXTS = on;
}

/** Create an object in its machine's initial state and return its id. */
export function createObject(w: World, kind: ObjectKind, input: unknown): string {
  const id = `${kind}#${w.next.object}`;
  w.next.object += 1;
  if (ACTORS) {
    const actor = createActor(machineOf(kind), { input }).start();
    ACTORS.set(id, actor);
    const snap = actor.getSnapshot();
    w.objects[id] = { kind, value: snap.value, context: snap.context };
    return id;
  }
  const { value, context } = compiledOf(kind).initial(input);
  w.objects[id] = { kind, value, context };
  return id;
}

function actorEnabled(id: string, event: { type: string }): boolean {
  const actor = ACTORS!.get(id)!;
  const snap = actor.getSnapshot();
  return (snap.machine.getTransitionData(snap, event)?.length ?? 0) > 0;
}

export function getObject<C>(w: World, id: string): ObjectRecord<C> {
  const rec = w.objects[id];
  if (!rec) throw new Error(`no object ${id}`);
  return rec as ObjectRecord<C>;
}

export function contextOf<C>(w: World, id: string): C {
  return getObject<C>(w, id).context;
}

/**
 * Whether the object's machine has an enabled transition for the event. Unlike
 * `snapshot.can`, a transition without target or actions counts: it is the kernel
 * accepting a call that changes nothing (a second bind, a second PROCESS_INFO).
 */
export function canSend<E extends { type: string }>(w: World, id: string, event: E): boolean {
  if (ACTORS) return actorEnabled(id, event);
  const rec = getObject<Record<string, unknown>>(w, id);
  return compiledOf(rec.kind).select(rec.value, rec.context, event) !== null;
}

/** Send an event that the handler has established to be enabled; throws otherwise. */
export function send<E extends { type: string }>(w: World, id: string, event: E): void {
  const rec = getObject<Record<string, unknown>>(w, id);
  if (ACTORS) {
    if (!actorEnabled(id, event)) throw new ObjectEventRefused(id, event.type, rec.value);
    const actor = ACTORS.get(id)!;
    actor.send(event);
    const snap = actor.getSnapshot();
    w.objects[id] = { kind: rec.kind, value: snap.value, context: snap.context };
    return;
  }
  const { value, context } = rec;
  // The observer is told the context before the transition, which changes it in place.
  const before = observer ? { ...context } : context;
  // The assignments change the context itself, and the record takes the new value: state
  // values are shared and never changed; contexts and records are changed in place, like
  // every other part of a world that applyInPlace may change, and through immer's draft in
  // `step` (which copies what is written). A new context per transition was the largest
  // share of a replay's and a round trip's garbage, and a new record per transition cost
  // the round trip a tenth of its time (issues 4 and 5). A targetless transition without
  // actions (a second BIND) changes nothing.
  const compiled = compiledOf(rec.kind);
  let next: StateValue | null;
  if (COPY_CONTEXTS) {
    const copied = compiled.transition(value, context, event);
    if (copied && copied.context !== context) rec.context = copied.context;
    next = copied?.value ?? null;
  } else next = compiled.advance(value, context, event);
  if (next === null) throw new ObjectEventRefused(id, event.type, value);
  if (next !== value) rec.value = next;
  if (observer) observer(rec.kind, value, event.type, next, before, event);
}

/**
 * Called after every transition an object takes through `send` (coverage of composed
 * explorations), with the context before it and the event, so that an observer can ask
 * which of several transitions between the same two states fired.
 */
export type TransitionObserver = (
  kind: ObjectKind,
  from: StateValue,
  event: string,
  to: StateValue,
  context: unknown,
  eventObject: { type: string },
) => void;
let observer: TransitionObserver | null = null;

/** Observe every transition (null stops); returns the previous observer so callers can nest. */
export function observeTransitions(next: TransitionObserver | null): TransitionObserver | null {
  const prev = observer;
  observer = next;
  return prev;
}

/** State paths split once: handlers ask the same few on every call. */
const PATHS = new Map<string, string[]>();

/** Whether the object is in the given state (XState `matches` semantics, e.g. "alive.vm.bound"). */
export function inState(w: World, id: string, path: string): boolean {
  let value: unknown = getObject(w, id).value;
  let parts = PATHS.get(path);
  if (!parts) PATHS.set(path, (parts = path.split('.')));
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof value === 'string') return value === p && i === parts.length - 1;
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, p)) return false;
    value = (value as Record<string, unknown>)[p];
  }
  return true;
}

/** Remove an object whose machine reached its final state (the kernel freed it). */
export function dropObject(w: World, id: string): void {
  delete w.objects[id];
  ACTORS?.get(id)?.stop();
  ACTORS?.delete(id);
}
