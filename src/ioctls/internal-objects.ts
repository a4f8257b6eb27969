/**
 * What the i915, Xe and TTM handlers share about their kernel-internal objects (no pid, no
 * file): world ids `<kind>#<n>` that events name by number `n`, the one device of a
 * driver created on first use, the live objects of a kind in creation order (the order
 * the kernel's region and pinned-list walks take here), an object event sent with the
 * fault plan of the sites its algorithm passes through, and the registration of an
 * internal call.
 */
import type { AlgorithmResult } from '../../machines/algorithm.js';
import { type FaultSite, planOf, storePlan } from '../world/faults.js';
import { canSend, contextOf, createObject, inState, send } from '../world/objects.js';
import type { ObjectKind, World } from '../world/types.js';
import { type CallDef, register } from './registry.js';
import type { Schema } from './schema.js';

/** The number a world id carries (`xe.bo#7` → 7). */
export function objectNumber(id: string): number {
  return Number(id.slice(id.indexOf('#') + 1));
}

/** The world id of object number `n` if it is a live (not destroyed) object of `kind`. */
export function liveObjectId(w: World, kind: ObjectKind, n: number): string | undefined {
  const id = `${kind}#${n}`;
  return w.objects[id]?.kind === kind && !inState(w, id, 'destroyed') ? id : undefined;
}

/** The live objects of `kind` in creation order. */
export function liveObjects(w: World, kind: ObjectKind): string[] {
  return Object.keys(w.objects)
    .filter((id) => w.objects[id]!.kind === kind && !inState(w, id, 'destroyed'))
    .sort((a, b) => objectNumber(a) - objectNumber(b));
}

/** The world id of the one object of `kind` (a driver's device), or undefined before it exists. */
export function findSingletonObject(w: World, kind: ObjectKind): string | undefined {
  for (const [id, rec] of Object.entries(w.objects)) if (rec.kind === kind) return id;
  return undefined;
}

/** The world id of the one object of `kind` (a driver's device), created with `input` on first use. */
export function singletonObject(w: World, kind: ObjectKind, input: unknown): string {
  return findSingletonObject(w, kind) ?? createObject(w, kind, input);
}

/** An event as a handler asks for it: without the fault plan, which is added from the world. */
export type NoFaults<E> = E extends { faults: unknown } ? Omit<E, 'faults'> : E;

/**
 * Send object `id` an event whose algorithm passes through `sites`: the armed faults of
 * those sites go in the event, the machine takes it, the plan after the passes is
 * stored back, and the algorithm's return value is returned. When the machine does not
 * take the event, nothing changes and `refused` says what the caller returns.
 */
export function sendWithFaults<C, E extends { type: string }>(
  w: World,
  id: string,
  e: NoFaults<E>,
  sites: readonly FaultSite[],
  result: (context: C, event: E) => AlgorithmResult<C>,
  refused: (event: E) => number,
): number {
  // A fresh event object per send, even without fault sites: the machines' results are
  // memoised per (context, event) object (machines/memo.ts), and a context changes in place.
  const event = (sites.length ? { ...e, faults: planOf(w, sites) } : { ...e }) as E;
  if (!canSend(w, id, event)) return refused(event);
  const r = result(contextOf<C>(w, id), event);
  send(w, id, event);
  if (sites.length) storePlan(w, sites, r.plan);
  return r.ret;
}

/** A kernel-internal call (no pid): the parts of its CallDef that differ from one call to the next. */
export interface InternalCall<A> {
  name: string;
  models: string;
  checks: readonly string[];
  /** The arguments (none when absent). */
  args?: Schema;
  /** The outputs (none when absent). */
  out?: readonly string[];
  run(w: World, a: A): number;
}

/** Register a kernel-internal call: kind `internal`, no pid. */
export function registerInternal<A>(def: InternalCall<A>): CallDef<A> {
  return register<A>({
    name: def.name,
    kind: 'internal',
    needsPid: false,
    models: def.models,
    checks: def.checks,
    args: def.args ?? {},
    out: def.out ?? [],
    run: ({ w }, a) => def.run(w, a),
  });
}
