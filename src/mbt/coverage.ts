/**
 * State and transition coverage of an XState machine, measured on the model side.
 *
 * What counts:
 *  - a **state** is every state node below the root (atomic, compound, parallel, final,
 *    and the regions of a parallel state), named by its full path, e.g. "alive.vm.bound";
 *  - a **transition** is one candidate of one `on` entry of one state node, named
 *    `<source state path>|<EVENT>|<candidate index>` (the root's path is "(root)").
 *    Targetless transitions count, with or without actions: XState's `snapshot.can()`
 *    says false for a targetless transition without actions, but
 *    `machine.getTransitionData` still selects it, and to the kernel it is a call that
 *    is accepted and changes nothing (a second bind, a second PROCESS_INFO).
 *
 * A transition is covered when `recordStep` sees `getTransitionData` select it; a state
 * is covered when `recordState` sees it active.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, AnyTransitionDefinition, EventObject } from 'xstate';

export const ROOT_PATH = '(root)';

export interface StateInfo {
  path: string;
  type: string;
}

export interface TransitionInfo {
  id: string;
  source: string;
  event: string;
  index: number;
  /** Target state paths ([] for a targetless transition). */
  targets: string[];
  guard: string | null;
}

function pathOf(node: AnyStateNode): string {
  return node.path.length === 0 ? ROOT_PATH : node.path.join('.');
}

function walk(node: AnyStateNode, visit: (n: AnyStateNode) => void): void {
  visit(node);
  for (const child of Object.values(node.states) as AnyStateNode[]) walk(child, visit);
}

/** Every state node of the machine below the root, in document order. */
export function enumerateStates(machine: AnyStateMachine): StateInfo[] {
  const out: StateInfo[] = [];
  walk(machine.root, (n) => {
    if (n.path.length > 0) out.push({ path: pathOf(n), type: n.type });
  });
  return out;
}

function guardName(t: AnyTransitionDefinition): string | null {
  const g = t.guard as unknown;
  if (g === undefined || g === null) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && 'type' in (g as object)) return String((g as { type: unknown }).type);
  return 'inline';
}

/** Every transition definition of every `on` entry, keyed by the definition object. */
function transitionTable(machine: AnyStateMachine): Map<AnyTransitionDefinition, TransitionInfo> {
  const table = new Map<AnyTransitionDefinition, TransitionInfo>();
  walk(machine.root, (n) => {
    const source = pathOf(n);
    for (const [event, candidates] of n.transitions as Map<string, AnyTransitionDefinition[]>) {
      candidates.forEach((t, index) => {
        table.set(t, {
          id: `${source}|${event}|${index}`,
          source,
          event,
          index,
          targets: (t.target ?? []).map((x: AnyStateNode) => pathOf(x)),
          guard: guardName(t),
        });
      });
    }
  });
  return table;
}

/** Every transition definition of the machine (see the module comment for the ids). */
export function enumerateTransitions(machine: AnyStateMachine): TransitionInfo[] {
  return [...transitionTable(machine).values()];
}

/** The state paths active in a snapshot (every ancestor of every active leaf, root excluded). */
export function activeStatePaths(value: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown, prefix: string[]): void => {
    if (typeof v === 'string') {
      out.push([...prefix, v].join('.'));
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
      const here = [...prefix, k];
      out.push(here.join('.'));
      visit(sub, here);
    }
  };
  visit(value, []);
  return out;
}

export interface CoverageReport {
  machine: string;
  states: { covered: number; total: number };
  transitions: { covered: number; total: number };
  missingStates: string[];
  missingTransitions: string[];
  /** Both lists together: state paths, then transition ids. */
  missing: string[];
}

/** Records what a set of executed paths covered of one machine. */
export class Coverage {
  readonly states: StateInfo[];
  readonly transitions: TransitionInfo[];
  private readonly table: Map<AnyTransitionDefinition, TransitionInfo>;
  private readonly seenStates = new Set<string>();
  private readonly seenTransitions = new Set<string>();

  constructor(
    readonly machine: AnyStateMachine,
    readonly name: string = machine.id,
  ) {
    this.states = enumerateStates(machine);
    this.table = transitionTable(machine);
    this.transitions = [...this.table.values()];
  }

  /** The transition definitions `event` selects in `snapshot` (what would fire). */
  fired(snapshot: AnyMachineSnapshot, event: EventObject): TransitionInfo[] {
    const data = this.machine.getTransitionData(snapshot as never, event as never) ?? [];
    return data.map((t: AnyTransitionDefinition) => {
      const info = this.table.get(t);
      if (!info) throw new Error(`${this.name}: a transition outside the machine definition fired`);
      return info;
    });
  }

  /** Record the transitions `event` takes from `snapshotBefore`; returns their ids. */
  recordStep(snapshotBefore: AnyMachineSnapshot, event: EventObject): string[] {
    const ids = this.fired(snapshotBefore, event).map((t) => t.id);
    for (const id of ids) this.seenTransitions.add(id);
    return ids;
  }

  /** Record every state node active in `snapshot`. */
  recordState(snapshot: { value: unknown }): void {
    for (const p of activeStatePaths(snapshot.value)) this.seenStates.add(p);
  }

  report(): CoverageReport {
    const missingStates = this.states.map((s) => s.path).filter((p) => !this.seenStates.has(p));
    const missingTransitions = this.transitions.map((t) => t.id).filter((id) => !this.seenTransitions.has(id));
    return {
      machine: this.name,
      states: { covered: this.states.length - missingStates.length, total: this.states.length },
      transitions: {
        covered: this.transitions.length - missingTransitions.length,
        total: this.transitions.length,
      },
      missingStates,
      missingTransitions,
      missing: [...missingStates, ...missingTransitions],
    };
  }
}

function pct(c: { covered: number; total: number }): string {
  const p = c.total === 0 ? 100 : (100 * c.covered) / c.total;
  return `${c.covered}/${c.total} (${Number.isInteger(p) ? p : p.toFixed(1)}%)`;
}

/** A plain-text table, one line per machine: "machine | states | transitions". */
export function formatCoverageTable(reports: readonly CoverageReport[]): string {
  const rows = [
    ['machine', 'states', 'transitions'],
    ...reports.map((r) => [r.machine, pct(r.states), pct(r.transitions)]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)];
  for (const r of reports) if (r.missing.length) out.push(`  ${r.machine} missing: ${r.missing.join(', ')}`);
  return out.join('\n');
}
