/**
 * Execution of one planned path (src/mbt/plan-paths.ts) with `testModel.testPath`: the
 * macros run against a fresh world, and after each macro the subject's state in
 * `world.objects` must equal the model's state value (an object whose machine reached a
 * final state is dropped by the handlers, so "absent" stands for the final state), and
 * the adapter's projection of the context must agree. Coverage is recorded on the model
 * side along the path.
 */
import { deepStrictEqual } from 'node:assert/strict';
import type { AnyMachineSnapshot } from 'xstate';
import type { Adapter, Sut } from './adapter.js';
import type { Coverage } from './coverage.js';
import type { Application } from './parse-path.js';
import type { Plan, PlannedPath } from './plan-paths.js';
import { canonicalize } from './serialize.js';

/**
 * Execute one planned path with `testModel.testPath`: macros run when their last event
 * is reached; the world is compared with the model at every macro boundary; coverage is
 * recorded for every step.
 */
export async function executePath<S extends Sut, Env>(
  plan: Plan<S, Env>,
  path: PlannedPath<S, Env>,
  coverage: Coverage,
): Promise<void> {
  const { adapter } = plan;
  const sut = adapter.setup();
  const pending = [...path.applications];
  const boundaries = new Set(path.applications.map((x) => x.end));
  let k = 0;
  const handlers: Record<string, () => void> = {};
  for (const e of [...adapter.events, ...path.events]) handlers[e.type] = () => runMacrosUpTo(sut, path, pending, k);
  await plan.testModel.testPath(statePathOf(path) as never, {
    events: handlers as never,
    states: {
      '*': () => {
        if (k > 0) coverage.recordStep(path.snaps[k - 1]!, path.events[k - 1]!);
        coverage.recordState(path.snaps[k]!);
        if (boundaries.has(k) || k === 0) checkSubject(adapter, sut, path.snaps[k]!, k);
        k++;
      },
    },
  });
  if (pending.length) throw new Error(`${pending.length} macro(s) of the path did not run`);
}

/** The planned path as xstate/graph's `testPath` takes it. */
function statePathOf<S extends Sut, Env>(path: PlannedPath<S, Env>) {
  return {
    state: path.snaps[path.snaps.length - 1],
    weight: path.events.length,
    steps: path.snaps.map((state, i) => ({ state, event: i === 0 ? { type: 'xstate.init' } : path.events[i - 1] })),
  };
}

/**
 * Before the model's step k is checked, every macro that ends at k has run; a set-up
 * macro (no events) placed at k runs with the next macro, after that check.
 */
function runMacrosUpTo<S extends Sut, Env>(
  sut: S,
  path: PlannedPath<S, Env>,
  pending: Application<S, Env>[],
  k: number,
): void {
  while (pending.length && (pending[0]!.end < k || (pending[0]!.end === k && pending[0]!.start < k))) {
    const app = pending.shift()!;
    try {
      app.macro.run(sut, {
        env: app.env,
        events: path.events.slice(app.start, app.end),
        before: path.snaps[app.start]!,
        after: path.snaps[app.end]!,
      });
    } catch (e) {
      (e as Error).message = `${app.macro.name} (events ${app.start}..${app.end}): ${(e as Error).message}`;
      throw e;
    }
  }
}

function observe(sut: Sut, id: string) {
  return sut.world.objects[id];
}

/** The subject in the world agrees with the model snapshot after step k: same state, same projected context. */
function checkSubject<S extends Sut, Env>(adapter: Adapter<S, Env>, sut: S, snap: AnyMachineSnapshot, k: number): void {
  const id = adapter.subject(sut);
  if (id === undefined) {
    if (k > 0) throw new Error(`after step ${k} the subject of ${adapter.name} does not exist`);
    return;
  }
  const rec = observe(sut, id);
  if (snap.status === 'done') {
    if (rec !== undefined)
      throw new Error(
        `model reached final state ${canonicalize(snap.value)} but ${id} is still in the world (${canonicalize(rec.value)})`,
      );
    return;
  }
  if (rec === undefined) throw new Error(`model is in ${canonicalize(snap.value)} but ${id} is gone from the world`);
  deepStrictEqual(rec.value, snap.value, `state of ${id} after step ${k}`);
  const project = adapter.project as ((c: unknown) => unknown) | undefined;
  if (project)
    deepStrictEqual(project(rec.context), project(snap.context), `projected context of ${id} after step ${k}`);
}
