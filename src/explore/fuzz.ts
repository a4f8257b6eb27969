/**
 * `gpucr fuzz` (issue 7 item 3): random walks over a model's actions for
 * configurations too large to enumerate, built on fast-check's model-based commands
 * (`fc.commands` run by `fc.modelRun`). Each command applies one of the actions the
 * current world offers (WorldModel.actions, chosen by index modulo their number), and
 * every invariant is checked in the initial world and after every step. On a
 * violation fast-check shrinks the run (fewer, earlier commands); the minimal run is
 * written as an ordinary log (header, setup, each call with its `ret`/`out`), which
 * `gpucr replay --check` reproduces.
 *
 * The seed makes a fuzz run deterministic: the same model, seed, runs and step bound
 * give the same walks, the same shrunk run and the same log bytes.
 */
import fc from 'fast-check';
import { checkInvariants, type NamedViolation } from '../invariants/index.js';
import { thaw } from '../world/step.js';
import type { World } from '../world/types.js';
import { applyAction, runLog } from './run-log.js';
import type { Action, WorldModel } from './world-explorer.js';

export interface FuzzOptions {
  runs?: number;
  seed?: number;
  /** The most actions in one walk. */
  maxSteps?: number;
}

export interface FuzzResult {
  runs: number;
  seed: number;
  /** Actions applied over every walk, shrinking included. */
  steps: number;
  seconds: number;
  violation: {
    violations: NamedViolation[];
    /** The shrunk run's actions, up to and including the one that broke an invariant. */
    actions: string[];
    log: string;
    /** Walks fast-check ran before the failure, and shrink steps after it. */
    foundAfter: number;
    shrinks: number;
  } | null;
}

/** The state a walk runs on: a world and the actions applied so far. */
interface Walk {
  world: World;
  applied: Action[];
  steps: number;
}

class Violated extends Error {
  constructor(readonly violations: NamedViolation[]) {
    super(`invariant violated: ${violations.map((v) => v.invariant).join(', ')}`);
  }
}

/** One step: the action at `pick` modulo the number the world offers. */
class ActionCommand implements fc.Command<object, Walk> {
  private chosen = '';

  constructor(
    private readonly model: WorldModel,
    readonly pick: number,
  ) {}

  check(): boolean {
    return true;
  }

  run(_m: object, walk: Walk): void {
    const offered = this.model.actions(walk.world);
    if (offered.length === 0) return;
    const action = offered[this.pick % offered.length]!;
    this.chosen = action.name;
    applyAction(walk.world, action);
    walk.applied.push(action);
    walk.steps += 1;
    const bad = checkInvariants(walk.world, this.model.invariants);
    if (bad.length) throw new Violated(bad);
  }

  toString(): string {
    return this.chosen || `action #${this.pick}`;
  }
}

/** Run one walk of commands from the initial world; the walk's record whether or not it failed. */
function walk(model: WorldModel, cmds: Iterable<fc.Command<object, Walk>>, counter: { steps: number }): Walk {
  const w: Walk = { world: thaw(model.initial), applied: [], steps: 0 };
  try {
    fc.modelRun(() => ({ model: {}, real: w }), cmds);
  } finally {
    counter.steps += w.steps;
  }
  return w;
}

/**
 * Run shrunk commands again (fresh instances) to recover the actions they chose: the walk
 * and the violations it ends with.
 */
function walkAgain(
  model: WorldModel,
  shrunk: Iterable<fc.Command<object, Walk>>,
): { replayed: Walk; violations: NamedViolation[] } {
  const replayed: Walk = { world: thaw(model.initial), applied: [], steps: 0 };
  try {
    fc.modelRun(
      () => ({ model: {}, real: replayed }),
      // fast-check hands back its wrappers (`cmd` is ours).
      [...shrunk].map(
        (c) => new ActionCommand(model, ((c as { cmd?: ActionCommand }).cmd ?? (c as ActionCommand)).pick),
      ),
    );
  } catch (e) {
    if (!(e instanceof Violated)) throw e;
    return { replayed, violations: e.violations };
  }
  return { replayed, violations: [] };
}

export function fuzzWorlds(model: WorldModel, opts: FuzzOptions = {}): FuzzResult {
  const t0 = process.hrtime.bigint();
  const runs = opts.runs ?? 100;
  const seed = opts.seed ?? 1;
  const maxSteps = opts.maxSteps ?? 20;
  const counter = { steps: 0 };
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const initialBad = checkInvariants(model.initial, model.invariants);
  if (initialBad.length)
    return {
      runs: 0,
      seed,
      steps: 0,
      seconds: seconds(),
      violation: { violations: initialBad, actions: [], log: runLog(model, []), foundAfter: 0, shrinks: 0 },
    };
  // Unbiased picks (fast-check biases small integers, which would favour the first actions),
  // and walks of any length up to the bound.
  const commands = fc.commands([fc.noBias(fc.nat({ max: 1023 })).map((i) => new ActionCommand(model, i))], {
    maxCommands: maxSteps,
    size: 'max',
  });
  const details = fc.check(
    fc.property(commands, (cmds) => {
      walk(model, cmds, counter);
    }),
    { numRuns: runs, seed },
  );
  if (!details.failed || !details.counterexample)
    return { runs, seed, steps: counter.steps, seconds: seconds(), violation: null };
  if (!(details.errorInstance instanceof Violated)) throw details.errorInstance;
  const [shrunk] = details.counterexample;
  const { replayed, violations } = walkAgain(model, shrunk);
  return {
    runs: details.numRuns,
    seed,
    steps: counter.steps,
    seconds: seconds(),
    violation: {
      violations,
      actions: replayed.applied.map((a) => a.name),
      log: runLog(model, replayed.applied),
      foundAfter: details.numRuns,
      shrinks: details.numShrinks,
    },
  };
}
