/**
 * The state spaces `--workers` explores (src/explore/parallel.ts): a composed family
 * world (states are worlds, fingerprinted as the single-threaded explorer does) or
 * the reference toy model (states are their own integer fingerprints). A space is
 * built from a plain, cloneable spec, so that every worker thread builds its own.
 */
import { checkInvariants, type NamedViolation } from '../invariants/index.js';
import { thaw } from '../world/step.js';
import type { Variants, World } from '../world/types.js';
import { applyAction } from './run-log.js';
import { type Family, familyModel } from './families.js';
import type { Bounds } from './families/bounds.js';
import { toyModel } from './toy.js';
import { type Action, fingerprint, type WorldModel } from './world-explorer.js';

export type ModelSpec =
  | {
      kind: 'family';
      family: Family;
      variants: Partial<Variants>;
      invariants: string[];
      symmetry: boolean;
      /** The family's bounds (src/explore/families/bounds.ts); default: its own. */
      bounds?: Bounds;
    }
  | { kind: 'toy'; k: number };

export interface Space<S> {
  initial: S;
  fingerprint(s: S): number;
  /** Every successor of `s`, with the index of the action (or the toy label) that reached it. */
  expand(s: S, emit: (label: number, next: S) => void): void;
  check(s: S): NamedViolation[];
  /** A world the configuration may not rest in (the deadlock check), when the model declares final worlds. */
  stuck?(s: S): boolean;
}

export function buildWorldModel(spec: Extract<ModelSpec, { kind: 'family' }>): WorldModel {
  return familyModel(spec.family, spec.variants, spec.invariants, spec.bounds ?? {});
}

function worldSpace(model: WorldModel, symmetry: boolean): Space<World> {
  const final = (model as WorldModel & { final?: (w: World) => boolean }).final;
  return {
    initial: model.initial,
    // The single-threaded explorer's fingerprint, with or without symmetry reduction.
    fingerprint: (w) => fingerprint(w, symmetry),
    expand(w, emit) {
      model.actions(w).forEach((a, i) => {
        const next = thaw(w);
        applyAction(next, a);
        emit(i, next);
      });
    },
    check: (w) => checkInvariants(w, model.invariants),
    ...(final ? { stuck: (w: World) => !final(w) } : {}),
  };
}

function toySpace(k: number): Space<number> {
  const m = toyModel(k);
  return {
    initial: m.initial(),
    fingerprint: (s) => s,
    expand: (s, emit) => m.successors(s, emit),
    check(s) {
      const bad = m.check?.(s) ?? null;
      return bad ? [{ invariant: bad, message: `${bad} violated` } as NamedViolation] : [];
    },
  };
}

export function buildSpace(spec: ModelSpec): Space<unknown> {
  return (spec.kind === 'toy' ? toySpace(spec.k) : worldSpace(buildWorldModel(spec), spec.symmetry)) as Space<unknown>;
}

/** The names of a path of labels from the initial state (toy labels, or the family's action names). */
export function labelNames(spec: ModelSpec, labels: number[]): { names: string[]; actions: Action[] } {
  if (spec.kind === 'toy') {
    const m = toyModel(spec.k);
    return { names: labels.map((l) => m.labelName(l)), actions: [] };
  }
  const model = buildWorldModel(spec);
  const w = thaw(model.initial);
  const actions = labels.map((l) => {
    const a = model.actions(w)[l]!;
    applyAction(w, a);
    return a;
  });
  return { names: actions.map((a) => a.name), actions };
}
