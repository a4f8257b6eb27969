/**
 * Which states and transitions of each machine a composed exploration reached
 * (issue 7 item 4), with the ids of src/mbt/coverage.ts (`<source>|<EVENT>|<index>`,
 * state paths like "alive.vm.bound"), so that per-machine MBT coverage and composed
 * coverage speak of the same transitions.
 *
 * Every `send` reports (kind, from, event type, to) to the world's transition
 * observer (src/world/objects.ts). When the observer also passes the context before
 * the send and the event object, the transitions that fired are asked of XState
 * (`getTransitionData`), exactly as the MBT coverage does. Otherwise they are
 * inferred from the two state values: for each active atomic state, the candidates
 * of its `on` entries for the event (innermost first) that are consistent with the
 * value after the send — a targeted candidate whose targets are all active after, a
 * targetless one whose source's active subtree is unchanged. One consistent
 * candidate is a covered transition; several (guarded alternatives with the same
 * effect on the value) are reported as `ambiguous`, never counted as covered.
 */
import type { AnyStateMachine, StateValue } from 'xstate';
import { activeStatePaths, Coverage, ROOT_PATH, type TransitionInfo } from '../mbt/coverage.js';
import { MACHINES } from '../world/objects.js';
import type { ObjectKind, World } from '../world/types.js';

export interface MachineCoverage {
  machine: string;
  states: { covered: number; total: number };
  transitions: { covered: number; total: number };
  missingStates: string[];
  missingTransitions: string[];
  /** Firings whose transition could not be told apart from the state values alone: [candidate ids, times]. */
  ambiguous: [string[], number][];
}

class MachineTracker {
  readonly cov: Coverage;
  readonly byKey = new Map<string, TransitionInfo[]>();
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();
  readonly ambiguous = new Map<string, number>();

  constructor(
    readonly kind: string,
    readonly machine: AnyStateMachine,
  ) {
    this.cov = new Coverage(machine, kind);
    for (const t of this.cov.transitions) {
      const k = `${t.source}|${t.event}`;
      this.byKey.set(k, [...(this.byKey.get(k) ?? []), t]);
    }
  }

  seeState(value: unknown): void {
    for (const p of activeStatePaths(value)) this.states.add(p);
  }

  /** The candidates of one active atomic state for an event, innermost state first. */
  private chain(leaf: string, event: string): TransitionInfo[] {
    const parts = leaf.split('.');
    const out: TransitionInfo[] = [];
    for (let n = parts.length; n >= 0; n--) {
      const source = n === 0 ? ROOT_PATH : parts.slice(0, n).join('.');
      out.push(...(this.byKey.get(`${source}|${event}`) ?? []));
    }
    return out;
  }

  private infer(from: StateValue, event: string, to: StateValue): void {
    const before = activeStatePaths(from);
    const after = new Set(activeStatePaths(to));
    const beforeSet = new Set(before);
    const leaves = before.filter((p) => !before.some((q) => q.startsWith(`${p}.`)));
    const under = (s: string, set: Iterable<string>) =>
      [...set].filter((p) => s === ROOT_PATH || p === s || p.startsWith(`${s}.`)).sort();
    const unchanged = (s: string) => under(s, beforeSet).join() === under(s, after).join();
    for (const leaf of leaves) {
      const consistent = this.chain(leaf, event).filter((t) =>
        t.targets.length ? t.targets.every((x) => after.has(x)) : unchanged(t.source),
      );
      if (consistent.length === 1) this.transitions.add(consistent[0]!.id);
      else if (consistent.length > 1) {
        const key = consistent.map((t) => t.id).join(' ');
        this.ambiguous.set(key, (this.ambiguous.get(key) ?? 0) + 1);
      }
    }
  }

  seeTransition(from: StateValue, event: string, to: StateValue, context?: unknown, eventObject?: unknown): void {
    this.seeState(from);
    this.seeState(to);
    if (context !== undefined && eventObject !== undefined) {
      const snapshot = this.machine.resolveState({ value: from, context: context as Record<string, unknown> });
      for (const t of this.cov.fired(snapshot, eventObject as { type: string })) this.transitions.add(t.id);
      return;
    }
    this.infer(from, event, to);
  }
}

/** Accumulates machine coverage over any number of explorations (a suite of configurations). */
export class MachineCoverageTracker {
  private readonly trackers = new Map<string, MachineTracker>();

  private tracker(kind: string): MachineTracker | undefined {
    let t = this.trackers.get(kind);
    if (!t) {
      const machine = (MACHINES as Record<string, AnyStateMachine | undefined>)[kind];
      if (!machine) return undefined;
      t = new MachineTracker(kind, machine);
      this.trackers.set(kind, t);
    }
    return t;
  }

  /** The transition observer to install with `observeTransitions` (extra arguments used when given). */
  readonly observer = (
    kind: ObjectKind,
    from: StateValue,
    event: string,
    to: StateValue,
    context?: unknown,
    eventObject?: unknown,
  ): void => {
    this.tracker(kind)?.seeTransition(from, event, to, context, eventObject);
  };

  /** Record the state of every object of a world (objects that never receive an event count too). */
  seeWorld(w: World): void {
    for (const rec of Object.values(w.objects)) this.tracker(rec.kind)?.seeState(rec.value);
  }

  /** Coverage of the given machine kinds (default: every registered machine), sorted by kind. */
  report(kinds: string[] = Object.keys(MACHINES)): MachineCoverage[] {
    return [...kinds].sort().flatMap((kind) => {
      const t = this.tracker(kind);
      if (!t) return [];
      const missingStates = t.cov.states.map((s) => s.path).filter((p) => !t.states.has(p));
      const missingTransitions = t.cov.transitions.map((x) => x.id).filter((id) => !t.transitions.has(id));
      return [
        {
          machine: kind,
          states: { covered: t.cov.states.length - missingStates.length, total: t.cov.states.length },
          transitions: {
            covered: t.cov.transitions.length - missingTransitions.length,
            total: t.cov.transitions.length,
          },
          missingStates,
          missingTransitions,
          ambiguous: [...t.ambiguous.entries()].sort().map(([k, n]) => [k.split(' '), n] as [string[], number]),
        },
      ];
    });
  }
}
