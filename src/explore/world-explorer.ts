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
import { encodeHeader, formatRecord } from '../log/writer.js';
import { checkInvariants, type Invariant, type NamedViolation } from '../invariants/index.js';
import { applyInPlace, type CallResult, thaw } from '../world/step.js';
import { createWorld } from '../world/world.js';
import type { Call, World } from '../world/types.js';
import { FingerprintSet } from './fingerprints.js';

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
}

export interface WorldExploreResult {
  states: number;
  transitions: number;
  depth: number;
  seconds: number;
  limited: 'states' | 'depth' | null;
  violation: { violations: NamedViolation[]; actions: string[]; log: string } | null;
}

function fingerprint(w: World): number {
  // The top 52 bits of sha-256 over the canonical world: exact below 2^53.
  const h = createHash('sha256').update(canonicalJson(w)).digest('hex');
  return Number.parseInt(h.slice(0, 13), 16);
}

/** A fresh world of the header, and the setup calls applied to it with their results. */
function setupWorld(header: LogHeader, setup: Call[]): { world: World; results: CallResult[] } {
  const world = createWorld(header.topology, header.variants);
  const results = setup.map((c) => applyInPlace(world, c));
  return { world, results };
}

/** Build a model: the initial world is the header's world after the setup calls. */
export function worldModel(
  header: LogHeader,
  setup: Call[],
  actions: (w: World) => Action[],
  invariants: Invariant[],
): WorldModel {
  return { header, setup, initial: setupWorld(header, setup).world, actions, invariants };
}

/** The counterexample as a log: header, setup and the actions' calls, each with its result. */
function counterexampleLog(model: WorldModel, actions: Action[]): string {
  const { world, results } = setupWorld(model.header, model.setup);
  const lines = [JSON.stringify(encodeHeader(model.header))];
  model.setup.forEach((c, i) => lines.push(formatRecord(c, results[i])));
  for (const a of actions) for (const c of a.calls) lines.push(formatRecord(c, applyInPlace(world, c)));
  return `${lines.join('\n')}\n`;
}

export function exploreWorlds(
  model: WorldModel,
  opts: {
    maxStates?: number;
    maxDepth?: number;
    /** Called with every call the exploration applies and its result (coverage of handlers and errnos). */
    onCall?: (call: Call, result: CallResult) => void;
  } = {},
): WorldExploreResult {
  const t0 = process.hrtime.bigint();
  const maxStates = opts.maxStates ?? 1_000_000;
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  const seen = new FingerprintSet();
  const parent: number[] = [-1];
  const via: Action[] = [];
  seen.add(fingerprint(model.initial));
  let frontier: { index: number; world: World }[] = [{ index: 0, world: model.initial }];
  let transitions = 0;
  let depth = 0;
  let limited: WorldExploreResult['limited'] = null;

  const pathTo = (index: number): Action[] => {
    const out: Action[] = [];
    for (let i = index; parent[i]! >= 0; i = parent[i]!) out.push(via[i]!);
    return out.reverse();
  };
  const done = (violation: WorldExploreResult['violation']): WorldExploreResult => ({
    states: seen.size,
    transitions,
    depth,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    limited,
    violation,
  });

  const initialBad = checkInvariants(model.initial, model.invariants);
  if (initialBad.length) return done({ violations: initialBad, actions: [], log: counterexampleLog(model, []) });

  while (frontier.length > 0) {
    if (depth >= maxDepth) {
      limited = 'depth';
      break;
    }
    const next: { index: number; world: World }[] = [];
    for (const { index, world } of frontier) {
      for (const action of model.actions(world)) {
        transitions += 1;
        const w = thaw(world);
        for (const c of action.calls) {
          const r = applyInPlace(w, c);
          opts.onCall?.(c, r);
        }
        const r = seen.add(fingerprint(w));
        if (r >= 0) continue;
        const child = -r - 1;
        parent[child] = index;
        via[child] = action;
        const bad = checkInvariants(w, model.invariants);
        if (bad.length) {
          depth += 1;
          const path = pathTo(child);
          return done({ violations: bad, actions: path.map((a) => a.name), log: counterexampleLog(model, path) });
        }
        if (seen.size >= maxStates) {
          limited = 'states';
          return done(null);
        }
        next.push({ index: child, world: w });
      }
    }
    if (next.length) depth += 1;
    frontier = next;
  }
  return done(null);
}
