/**
 * A compiled transition form of an XState machine (design "Layers" 2, issue 7).
 *
 * XState's generic interpreter costs tens of microseconds per event (resolving a
 * snapshot, selecting transitions, building the next snapshot). gpucr's machines use
 * a small subset of XState — compound, parallel and final states; `on` transitions
 * with a target, a named guard and named `assign` actions; no entry/exit actions,
 * eventless or delayed transitions — so a send can run the machine's own guard and
 * assign implementations directly:
 *
 *  1. the candidate transitions for (state value, event type) are read from the
 *     machine's StateNode tree once and cached on the value's interned entry (values this
 *     module hands out are shared objects, so finding the entry is one WeakMap hit): the
 *     machine's plans, src/world/machine-plans.ts;
 *  2. for every active atomic state, the first candidate (innermost first, then
 *     document order) whose guard holds is selected, as XState selects;
 *  3. the next state value depends only on the value and on which candidates were
 *     selected, so it is asked of XState's own `transition` once and cached;
 *  4. the selected transitions' assign actions run in order on one copy of the context, or,
 *     on the send path (`advance`), on the context itself: a copy per transition was the
 *     largest share of the garbage a replay and a round trip make, and every copy of an
 *     object's context survived until its next event (`transition` and `advance` do 2-4 in
 *     one call; when one atomic state has candidates, as for most events, they select
 *     without a choice array or key string).
 *
 * Equality with XState's `transition` (value, context and enabledness) is checked by
 * a differential property test (test/unit/compiled-machines.test.ts); a machine that
 * uses a feature outside the subset is refused when it is compiled.
 */
import type { AnyStateMachine, StateValue } from 'xstate';
import {
  type Assigner,
  type Candidate,
  type Context,
  type Event,
  type EventPlan,
  MachinePlans,
  type Slots,
  type StateEntry,
} from './machine-plans.js';

/** What guards and assigns receive: one object per transition, its `context` kept current. */
interface Args {
  context: Context;
  event: Event;
}

export interface CompiledMachine {
  readonly machine: AnyStateMachine;
  /** The initial state of an object created with `input`. */
  initial(input: unknown): { value: StateValue; context: Context };
  /** The selected transitions' indices (one per slot, -1 none), or null when nothing is enabled. */
  select(value: StateValue, context: Context, event: Event): number[] | null;
  /** Apply an event known to be enabled (`select` gave `choice`). */
  apply(value: StateValue, context: Context, event: Event, choice: number[]): { value: StateValue; context: Context };
  /** `select` then `apply`: the next state, or null when the event is not enabled. */
  transition(value: StateValue, context: Context, event: Event): { value: StateValue; context: Context } | null;
  /**
   * The send path: `transition` with the assignments written into `context` itself; the next
   * state value, or null (and `context` untouched) when the event is not enabled.
   */
  advance(value: StateValue, context: Context, event: Event): StateValue | null;
}

/** For each slot, the first candidate whose guard holds (-1 none); null when no slot has one. */
function selectIn(slots: Slots, context: Context, event: Event): number[] | null {
  const choice: number[] = [];
  let any = false;
  for (let s = 0; s < slots.length; s++) {
    const chain = slots[s]!;
    let at = -1;
    for (let i = 0; i < chain.length; i++) {
      const g = chain[i]!.guard;
      if (g === null || g({ context, event }, undefined)) {
        at = i;
        break;
      }
    }
    // A transition of a shared ancestor, selected from several atomic states, runs once.
    if (at >= 0) {
      const def = chain[at]!.def;
      for (let p = 0; p < s; p++) if (choice[p]! >= 0 && slots[p]![choice[p]!]!.def === def) at = -1;
    }
    if (at >= 0) any = true;
    choice.push(at);
  }
  return any ? choice : null;
}

/**
 * Run a candidate's assignments in order on `args.context`, copied once (`copied` says
 * whether it is already a copy): a later assignment sees the earlier ones, as XState's
 * sequential assigns do. Returns the context after them.
 */
function runAssigns(c: Candidate, args: Args, copied: boolean): Context {
  let ctx = args.context;
  for (const a of c.assigns) {
    let partial: Partial<Context>;
    if (typeof a === 'function') partial = a(args);
    else {
      partial = {};
      for (const k of Object.keys(a)) {
        const v = a[k];
        partial[k] = typeof v === 'function' ? (v as Assigner)(args) : v;
      }
    }
    if (!copied) {
      ctx = { ...ctx };
      copied = true;
    }
    Object.assign(ctx, partial);
    args.context = ctx;
  }
  return ctx;
}

/** `inPlace`: the assignments change `context` itself (the send path) instead of a copy of it. */
function applyIn(
  plans: MachinePlans,
  entry: StateEntry,
  plan: EventPlan,
  context: Context,
  event: Event,
  choice: number[],
  inPlace: boolean,
): { value: StateValue; context: Context } {
  const ckey = choice.length === 1 ? String(choice[0]) : choice.join(',');
  let next = plan.next.get(ckey);
  if (next === undefined) {
    next = plans.nextOf(entry, context, event);
    plan.next.set(ckey, next);
  }
  const args: Args = { context, event };
  for (let s = 0; s < plan.slots.length; s++) {
    const c = plan.slots[s]![choice[s]!];
    if (c) runAssigns(c, args, inPlace || args.context !== context);
  }
  return { value: next.value, context: args.context };
}

/**
 * The send path of a plan with one slot (one active atomic state has candidates: most
 * events of these machines): no selection array, no key string, one args object.
 */
function transitionOne(
  plans: MachinePlans,
  entry: StateEntry,
  plan: EventPlan,
  context: Context,
  event: Event,
  inPlace: boolean,
): { value: StateValue; context: Context } | null {
  const chain = plan.slots[0]!;
  const args: Args = { context, event };
  let at = -1;
  for (let i = 0; i < chain.length; i++) {
    const g = chain[i]!.guard;
    if (g === null || g(args, undefined)) {
      at = i;
      break;
    }
  }
  if (at < 0) return null;
  let next = plan.nextOne[at];
  if (next === undefined) {
    next = plans.nextOf(entry, context, event);
    plan.nextOne[at] = next;
    plan.next.set(String(at), next);
  }
  const c = chain[at]!;
  return { value: next.value, context: c.assigns.length === 0 ? context : runAssigns(c, args, inPlace) };
}

/** The next state of an event, or null when it is not enabled. */
function nextState(
  plans: MachinePlans,
  value: StateValue,
  context: Context,
  event: Event,
  inPlace: boolean,
): { value: StateValue; context: Context } | null {
  const entry = plans.entryOf(value);
  const plan = plans.planOf(entry, event.type);
  if (plan.slots.length === 0) return null;
  if (plan.slots.length === 1) return transitionOne(plans, entry, plan, context, event, inPlace);
  const choice = selectIn(plan.slots, context, event);
  return choice === null ? null : applyIn(plans, entry, plan, context, event, choice, inPlace);
}

export function compileMachine(machine: AnyStateMachine): CompiledMachine {
  const plans = new MachinePlans(machine);
  let initialValue: StateValue | undefined;
  return {
    machine,
    initial(input) {
      const ctxConfig = machine.config.context;
      const context =
        typeof ctxConfig === 'function'
          ? (ctxConfig as (a: { input: unknown }) => Context)({ input })
          : structuredClone((ctxConfig ?? {}) as Context);
      initialValue ??= plans.initialValue(input);
      return { value: initialValue, context };
    },
    select(value, context, event) {
      return selectIn(plans.planOf(plans.entryOf(value), event.type).slots, context, event);
    },
    apply(value, context, event, choice) {
      const entry = plans.entryOf(value);
      return applyIn(plans, entry, plans.planOf(entry, event.type), context, event, choice, false);
    },
    transition(value, context, event) {
      return nextState(plans, value, context, event, false);
    },
    advance(value, context, event) {
      return nextState(plans, value, context, event, true)?.value ?? null;
    },
  };
}
