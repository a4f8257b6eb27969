/**
 * What the compiled transition form (src/world/compiled.ts) reads from an XState machine,
 * once: the interned state values, and per (state value, event type) the candidate
 * transitions of each active atomic state, with their guard and assign implementations.
 *
 * Everything here is a cache of the machine's own StateNode tree and of XState's own
 * `transition` (the next state value of a selection); nothing is decided here that XState
 * would decide otherwise. A machine that uses a feature outside the compiled subset is
 * refused when its plans are built.
 */
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type StateValue,
  transition,
} from 'xstate';

export type Context = Record<string, unknown>;
export type Event = { type: string };
type Guard = (args: { context: Context; event: Event }, params: unknown) => boolean;
export type Assigner = (args: { context: Context; event: Event }) => Partial<Context>;
/** An `assign` action's assignment: a function of the args, or an object of values and property assigners. */
export type Assignment = Assigner | Record<string, unknown>;

/** A transition of the machine that an event may take. */
export interface Candidate {
  guard: Guard | null;
  /** The assignments of the transition's actions, in order. */
  assigns: Assignment[];
  def: AnyTransitionDefinition;
}

/** Per (value, event type): for each active atomic state, its candidates innermost first. */
export type Slots = Candidate[][];

/** What a state does with one event type: its candidates and the next values met so far. */
export interface EventPlan {
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
export interface StateEntry {
  value: StateValue;
  plans: Map<string, EventPlan>;
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

/** The plans of one machine, built on first use and kept. */
export class MachinePlans {
  private readonly guards: Record<string, Guard>;
  private readonly actions: Record<string, { assignment?: Assignment }>;
  private readonly byString = new Map<string, StateEntry>();
  private readonly byObject = new WeakMap<object, StateEntry>();

  constructor(readonly machine: AnyStateMachine) {
    checkSubset(machine);
    this.guards = (machine.implementations.guards ?? {}) as Record<string, Guard>;
    this.actions = (machine.implementations.actions ?? {}) as Record<string, { assignment?: Assignment }>;
  }

  /** The interned entry of a value (see StateEntry). */
  entryOf(value: StateValue): StateEntry {
    if (typeof value === 'string') {
      let e = this.byString.get(value);
      if (!e) this.byString.set(value, (e = { value, plans: new Map() }));
      return e;
    }
    let e = this.byObject.get(value);
    if (e) return e;
    const key = JSON.stringify(value);
    e = this.byString.get(key);
    if (!e) this.byString.set(key, (e = { value, plans: new Map() }));
    this.byObject.set(value, e);
    return e;
  }

  /** For each active atomic state, every candidate from it up to the root, innermost first. */
  planOf(entry: StateEntry, type: string): EventPlan {
    let plan = entry.plans.get(type);
    if (plan) return plan;
    const slots: Slots = [];
    for (const atom of atomicNodes(this.machine.root, entry.value)) {
      const chain: Candidate[] = [];
      for (let n: AnyStateNode | undefined = atom; n; n = n.parent) {
        const defs = n.transitions.get(type);
        if (defs) chain.push(...defs.map((d) => this.candidateOf(d)));
      }
      if (chain.length) slots.push(chain);
    }
    plan = { slots, next: new Map(), nextOne: [] };
    entry.plans.set(type, plan);
    return plan;
  }

  /** XState's own next value for a selection, asked once per (value, event type, selection) by the caller's cache. */
  nextOf(entry: StateEntry, context: Context, event: Event): StateEntry {
    const snap = this.machine.resolveState({ value: entry.value, context }) as AnyMachineSnapshot;
    return this.entryOf(transition(this.machine, snap, event)[0].value as StateValue);
  }

  /** The initial state value of an object created with `input`, interned. */
  initialValue(input: unknown): StateValue {
    return this.entryOf(this.machine.getInitialSnapshot(undefined as never, input).value as StateValue).value;
  }

  private candidateOf(def: AnyTransitionDefinition): Candidate {
    let guard: Guard | null = null;
    if (def.guard !== undefined) {
      if (typeof def.guard !== 'string') refuse(this.machine, `an inline guard on ${def.source.id}`);
      const g = this.guards[def.guard];
      if (!g) refuse(this.machine, `unknown guard ${def.guard}`);
      guard = g;
    }
    const assigns = def.actions.map((a) => {
      const impl = typeof a === 'string' ? this.actions[a] : undefined;
      if (!impl?.assignment) refuse(this.machine, `action ${JSON.stringify(a)} (only named assign actions)`);
      return impl.assignment;
    });
    return { guard, assigns, def };
  }
}
