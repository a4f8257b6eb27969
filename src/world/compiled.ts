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
 *     module hands out are shared objects, so finding the entry is one WeakMap hit);
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
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type StateValue,
  transition,
} from 'xstate';

type Context = Record<string, unknown>;
type Event = { type: string };
type Guard = (args: { context: Context; event: Event }, params: unknown) => boolean;
type Assigner = (args: { context: Context; event: Event }) => Partial<Context>;
type Assignment = Assigner | Record<string, unknown>;

interface Candidate {
  guard: Guard | null;
  /** The assignments of the transition's actions, in order. */
  assigns: Assignment[];
  def: AnyTransitionDefinition;
}

/** What guards and assigns receive: one object per transition, its `context` kept current. */
interface Args {
  context: Context;
  event: Event;
}

/** Per (value, event type): for each active atomic state, its candidates innermost first. */
type Slots = Candidate[][];

/** What a state does with one event type: its candidates and the next values met so far. */
interface EventPlan {
  slots: Slots;
  /** Next state per selection: the key is the choice (one index per slot) joined by ",". */
  next: Map<string, StateEntry>;
  /** The same for a plan of one slot (most events): by the selected candidate's index. */
  nextOne: (StateEntry | undefined)[];
}

/**
 * An interned state value. Values this module hands out are the entries' own objects, so
 * a later lookup of the same value is one WeakMap hit; other equal values (from a
 * snapshot, an immer draft) are found through their JSON key.
 */
interface StateEntry {
  value: StateValue;
  plans: Map<string, EventPlan>;
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

/** The active atomic state nodes of a value, in document order. */
function atomicNodes(root: AnyStateNode, value: StateValue): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const walk = (node: AnyStateNode, v: StateValue) => {
    if (typeof v === 'string') {
      const child = node.states[v];
      if (!child) throw new Error(`state ${v} not in ${node.id}`);
      const grand = Object.keys(child.states);
      if (grand.length === 0 || child.type === 'final') out.push(child);
      else throw new Error(`value stops at compound state ${child.id}`);
      return;
    }
    for (const [k, sub] of Object.entries(v)) {
      const child = node.states[k];
      if (!child) throw new Error(`state ${k} not in ${node.id}`);
      walk(child, sub as StateValue);
    }
  };
  walk(root, value);
  return out;
}

function refuse(machine: AnyStateMachine, what: string): never {
  throw new Error(`machine ${machine.id}: ${what} is outside the compiled subset`);
}

/** Check the subset once, over every state node. */
function checkSubset(machine: AnyStateMachine): void {
  const visit = (node: AnyStateNode) => {
    if (node.entry.length || node.exit.length) refuse(machine, `entry/exit actions on ${node.id}`);
    if (node.always?.length) refuse(machine, `eventless transitions on ${node.id}`);
    if (node.after.length) refuse(machine, `delayed transitions on ${node.id}`);
    if (node.invoke.length) refuse(machine, `invoked actors on ${node.id}`);
    if (node.type === 'history') refuse(machine, `history state ${node.id}`);
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
}

export function compileMachine(machine: AnyStateMachine): CompiledMachine {
  checkSubset(machine);
  const guards = (machine.implementations.guards ?? {}) as Record<string, Guard>;
  const actions = (machine.implementations.actions ?? {}) as Record<string, { assignment?: Assignment }>;

  const candidateOf = (def: AnyTransitionDefinition): Candidate => {
    let guard: Guard | null = null;
    if (def.guard !== undefined) {
      if (typeof def.guard !== 'string') refuse(machine, `an inline guard on ${def.source.id}`);
      const g = guards[def.guard];
      if (!g) refuse(machine, `unknown guard ${def.guard}`);
      guard = g;
    }
    const assigns = def.actions.map((a) => {
      const impl = typeof a === 'string' ? actions[a] : undefined;
      if (!impl?.assignment) refuse(machine, `action ${JSON.stringify(a)} (only named assign actions)`);
      return impl.assignment;
    });
    return { guard, assigns, def };
  };

  const byString = new Map<string, StateEntry>();
  const byObject = new WeakMap<object, StateEntry>();
  /** The interned entry of a value (see StateEntry). */
  const entryOf = (value: StateValue): StateEntry => {
    if (typeof value === 'string') {
      let e = byString.get(value);
      if (!e) byString.set(value, (e = { value, plans: new Map() }));
      return e;
    }
    let e = byObject.get(value);
    if (e) return e;
    const key = JSON.stringify(value);
    e = byString.get(key);
    if (!e) byString.set(key, (e = { value, plans: new Map() }));
    byObject.set(value, e);
    return e;
  };

  /** For each active atomic state, every candidate from it up to the root, innermost first. */
  const planOf = (entry: StateEntry, type: string): EventPlan => {
    let plan = entry.plans.get(type);
    if (plan) return plan;
    const slots: Slots = [];
    for (const atom of atomicNodes(machine.root, entry.value)) {
      const chain: Candidate[] = [];
      for (let n: AnyStateNode | undefined = atom; n; n = n.parent) {
        const defs = n.transitions.get(type);
        if (defs) chain.push(...defs.map(candidateOf));
      }
      if (chain.length) slots.push(chain);
    }
    plan = { slots, next: new Map(), nextOne: [] };
    entry.plans.set(type, plan);
    return plan;
  };

  const selectIn = (slots: Slots, context: Context, event: Event): number[] | null => {
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
  };

  /** XState's own next value for a selection, asked once per (value, event type, selection). */
  const nextOf = (entry: StateEntry, context: Context, event: Event): StateEntry => {
    const snap = machine.resolveState({ value: entry.value, context }) as AnyMachineSnapshot;
    return entryOf(transition(machine, snap, event)[0].value as StateValue);
  };

  /**
   * Run a candidate's assignments in order on `ctx`, copied once (`copied` says whether it
   * is already a copy): a later assignment sees the earlier ones, as XState's sequential
   * assigns do. Returns the context after them.
   */
  const runAssigns = (c: Candidate, args: Args, copied: boolean): Context => {
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
  };

  /** `inPlace`: the assignments change `context` itself (the send path) instead of a copy of it. */
  const applyIn = (
    entry: StateEntry,
    plan: EventPlan,
    context: Context,
    event: Event,
    choice: number[],
    inPlace: boolean,
  ) => {
    const ckey = choice.length === 1 ? String(choice[0]) : choice.join(',');
    let next = plan.next.get(ckey);
    if (next === undefined) {
      next = nextOf(entry, context, event);
      plan.next.set(ckey, next);
    }
    const args: Args = { context, event };
    for (let s = 0; s < plan.slots.length; s++) {
      const c = plan.slots[s]![choice[s]!];
      if (c) runAssigns(c, args, inPlace || args.context !== context);
    }
    return { value: next.value, context: args.context };
  };

  /**
   * The send path of a plan with one slot (one active atomic state has candidates: most
   * events of these machines): no selection array, no key string, one args object.
   */
  const transitionOne = (entry: StateEntry, plan: EventPlan, context: Context, event: Event, inPlace: boolean) => {
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
      next = nextOf(entry, context, event);
      plan.nextOne[at] = next;
      plan.next.set(String(at), next);
    }
    const c = chain[at]!;
    return { value: next.value, context: c.assigns.length === 0 ? context : runAssigns(c, args, inPlace) };
  };

  const next = (value: StateValue, context: Context, event: Event, inPlace: boolean) => {
    const entry = entryOf(value);
    const plan = planOf(entry, event.type);
    if (plan.slots.length === 0) return null;
    if (plan.slots.length === 1) return transitionOne(entry, plan, context, event, inPlace);
    const choice = selectIn(plan.slots, context, event);
    return choice === null ? null : applyIn(entry, plan, context, event, choice, inPlace);
  };

  let cachedInitial: StateValue | undefined;

  return {
    machine,
    initial(input) {
      const ctxConfig = machine.config.context;
      const context =
        typeof ctxConfig === 'function'
          ? (ctxConfig as (a: { input: unknown }) => Context)({ input })
          : structuredClone((ctxConfig ?? {}) as Context);
      cachedInitial ??= entryOf(machine.getInitialSnapshot(undefined as never, input).value as StateValue).value;
      return { value: cachedInitial, context };
    },
    select(value, context, event) {
      return selectIn(planOf(entryOf(value), event.type).slots, context, event);
    },
    apply(value, context, event, choice) {
      const entry = entryOf(value);
      return applyIn(entry, planOf(entry, event.type), context, event, choice, false);
    },
    transition(value, context, event) {
      return next(value, context, event, false);
    },
    advance(value, context, event) {
      return next(value, context, event, true)?.value ?? null;
    },
  };
}
