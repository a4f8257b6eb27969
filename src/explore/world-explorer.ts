/**
 * Exploration of composed worlds (issue 7): breadth-first over `applyInPlace`, every
 * state a whole world (all its objects' machines together), fingerprinted by the
 * sha-256 of its canonical form (src/log/canonical.ts: sorted keys, exact u64) cut
 * to 52 bits, every named invariant checked in every state. The first violation is
 * at the smallest depth, so the calls that lead to it are a shortest counterexample,
 * written as an ordinary log that `gpucr replay --check` reproduces.
 *
 * Only the frontier's worlds are kept; a reached state is remembered by its
 * fingerprint, its parent and the action that reached it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../log/canonical.js';
import type { LogHeader } from '../log/reader.js';
import { checkInvariants, type Invariant, type NamedViolation } from '../invariants/index.js';
import { applyInPlace, type CallResult, thaw } from '../world/step.js';
import { createWorld } from '../world/world.js';
import type { Call, World } from '../world/types.js';
import { FingerprintSet } from './fingerprints.js';
import { runLog } from './run-log.js';
import { symmetryKey } from './symmetry.js';

/** One nondeterministic choice: a short sequence of calls (arming a fault, then the call). */
export interface Action {
  name: string;
  calls: Call[];
}

export interface WorldModel {
  header: LogHeader;
  /** A world after the setup calls (not frozen). */
  initial: World;
  /** The setup calls that made `initial`, written at the head of counterexample logs. */
  setup: Call[];
  /** The actions offered in a world (the event generator). */
  actions(w: World): Action[];
  invariants: Invariant[];
  /**
   * The worlds in which the configuration may rest. A family that declares them asks for
   * the deadlock check: a world that is not final and in which no action changes anything
   * (every call fails without effect) is reported like a violation of `deadlock`.
   */
  final?: (w: World) => boolean;
}

/** The name a deadlock is reported under (not a registered invariant: it is about transitions). */
export const DEADLOCK = 'deadlock';

export interface WorldExploreResult {
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  limited: 'states' | 'depth' | null;
  violation: { violations: NamedViolation[]; actions: string[]; log: string } | null;
}

/** The fingerprint of a world, up to the names of interchangeable ids when `symmetry` (src/explore/symmetry.ts). */
export function fingerprint(w: World, symmetry: boolean): number {
  // The top 52 bits of sha-256 over the canonical world: exact below 2^53.
  const h = createHash('sha256')
    .update(symmetry ? symmetryKey(w) : canonicalJson(w))
    .digest('hex');
  return Number.parseInt(h.slice(0, 13), 16);
}

/** Build a model: the initial world is the header's world after the setup calls. */
export function worldModel(
  header: LogHeader,
  setup: Call[],
  actions: (w: World) => Action[],
  invariants: Invariant[],
): WorldModel {
  const initial = createWorld(header.topology, header.variants);
  for (const c of setup) applyInPlace(initial, c);
  return { header, setup, initial, actions, invariants };
}

/** The counterexample as a log: header, setup and the actions' calls, each with its result. */
const counterexampleLog = runLog;

type Frontier = { index: number; world: World; fp: number }[];

/** The world an action leads to: a thawed copy with the action's calls applied. */
function afterAction(world: World, action: Action, onCall?: (call: Call, result: CallResult) => void): World {
  const w = thaw(world);
  for (const c of action.calls) {
    const r = applyInPlace(w, c);
    onCall?.(c, r);
  }
  return w;
}

/** A world that no action changes and that is not final: the actions that reached it, as a violation. */
function deadlock(model: WorldModel, path: Action[]): NonNullable<WorldExploreResult['violation']> {
  const message = `no action changes this world and it is not final (${path.length ? path.map((a) => a.name).join(' → ') : 'the initial world'})`;
  return {
    violations: [{ invariant: DEADLOCK, message }],
    actions: path.map((a) => a.name),
    log: counterexampleLog(model, path),
  };
}

export interface WorldExploreOptions {
  maxStates?: number;
  maxDepth?: number;
  /** Called with every call the exploration applies and its result (coverage of handlers and errnos). */
  onCall?: (call: Call, result: CallResult) => void;
  /** Merge worlds equal up to the names of interchangeable ids (src/explore/symmetry.ts); default on. */
  symmetry?: boolean;
}

/**
 * The reached worlds of one exploration: their fingerprints, each one's parent and the
 * action that reached it (parent pointers, no path per world), and the counts its result
 * reports.
 */
class WorldSearch {
  readonly seen = new FingerprintSet();
  private readonly parent: number[] = [-1];
  private readonly via: Action[] = [];
  private readonly t0 = process.hrtime.bigint();
  private readonly maxStates: number;
  private readonly symmetry: boolean;
  transitions = 0;
  depth = 0;
  limited: WorldExploreResult['limited'] = null;

  constructor(
    private readonly model: WorldModel,
    private readonly opts: WorldExploreOptions,
  ) {
    this.maxStates = opts.maxStates ?? 1_000_000;
    this.symmetry = opts.symmetry ?? true;
  }

  /** The initial world as the first frontier entry. */
  root(): Frontier[number] {
    const fp = fingerprint(this.model.initial, this.symmetry);
    this.seen.add(fp);
    return { index: 0, world: this.model.initial, fp };
  }

  /** The actions from the initial world to world `index`. */
  pathTo(index: number): Action[] {
    const out: Action[] = [];
    for (let i = index; this.parent[i]! >= 0; i = this.parent[i]!) out.push(this.via[i]!);
    return out.reverse();
  }

  result(violation: WorldExploreResult['violation']): WorldExploreResult {
    return {
      states: this.seen.size,
      transitions: this.transitions,
      depth: this.depth,
      seconds: Number(process.hrtime.bigint() - this.t0) / 1e9,
      limited: this.limited,
      violation,
    };
  }

  /**
   * Take every action of one frontier world: new worlds are checked and join `next`. The
   * result when the exploration ends here (a violation, a deadlock, the state limit).
   */
  expand({ index, world, fp }: Frontier[number], next: Frontier): WorldExploreResult | undefined {
    const { model } = this;
    let moved = false;
    for (const action of model.actions(world)) {
      this.transitions += 1;
      const w = afterAction(world, action, this.opts.onCall);
      const childFp = fingerprint(w, this.symmetry);
      if (childFp !== fp) moved = true;
      const r = this.seen.add(childFp);
      if (r >= 0) continue;
      const child = -r - 1;
      this.parent[child] = index;
      this.via[child] = action;
      const bad = checkInvariants(w, model.invariants);
      if (bad.length) {
        this.depth += 1;
        const path = this.pathTo(child);
        return this.result({ violations: bad, actions: path.map((a) => a.name), log: counterexampleLog(model, path) });
      }
      if (this.seen.size >= this.maxStates) {
        this.limited = 'states';
        return this.result(null);
      }
      next.push({ index: child, world: w, fp: childFp });
    }
    if (!moved && model.final && !model.final(world)) return this.result(deadlock(model, this.pathTo(index)));
    return undefined;
  }
}

export function exploreWorlds(model: WorldModel, opts: WorldExploreOptions = {}): WorldExploreResult {
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const search = new WorldSearch(model, opts);
  let frontier: Frontier = [search.root()];
  const initialBad = checkInvariants(model.initial, model.invariants);
  if (initialBad.length)
    return search.result({ violations: initialBad, actions: [], log: counterexampleLog(model, []) });
  while (frontier.length > 0) {
    if (search.depth >= maxDepth) {
      search.limited = 'depth';
      break;
    }
    const next: Frontier = [];
    for (const entry of frontier) {
      const end = search.expand(entry, next);
      if (end) return end;
    }
    if (next.length) search.depth += 1;
    frontier = next;
  }
  return search.result(null);
}
