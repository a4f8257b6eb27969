/**
 * The shape every model-based suite shares: plan the paths of each model instance of a
 * machine (at collection time, so each path is its own test), execute them against the
 * handler layer, then print and check the coverage of the machine.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Coverage, type CoverageReport, formatCoverageTable } from '../../../src/mbt/coverage.js';
import { type Adapter, executePath, planPaths, type Sut } from '../../../src/mbt/run.js';

export interface SuiteOptions {
  /** Spec sections the machine models, for the coverage test's title. */
  spec: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- adapters of one machine differ in their env type
export function mbtSuite(adapters: Adapter<Sut & any, any>[], opts: SuiteOptions): { report: () => CoverageReport } {
  const machine = adapters[0]!.machine;
  const coverage = new Coverage(machine);
  const plans = adapters.map((a) => planPaths(a));
  describe(`model-based test of ${machine.id}`, () => {
    for (const plan of plans)
      plan.paths.forEach((p, i) => {
        it(`${plan.adapter.name} path ${i + 1}/${plan.paths.length}: ${p.description}`, async () => {
          await executePath(plan, p, coverage);
        });
      });

    it(`spec ${opts.spec}: the paths cover every state and every transition of ${machine.id}`, () => {
      const r = coverage.report();
      const why = plans.flatMap((p) => p.uncovered.map((id) => `${id} (no ${p.adapter.name} call sequence causes it)`));
      const unreached = r.missingTransitions.map((id) => why.find((w) => w.startsWith(id)) ?? id);
      expect({ states: r.missingStates, transitions: unreached }).toEqual({ states: [], transitions: [] });
    });

    afterAll(() => {
      const stats = plans
        .map(
          (p) =>
            `${p.adapter.name}: ${p.generated} shortest paths, ${p.executable} executable, ${p.paths.length} run${p.unusedMacros.length ? `; macros never used: ${p.unusedMacros.join(', ')}` : ''}`,
        )
        .join('; ');
      console.log(`${formatCoverageTable([coverage.report()])}\n  (${stats})`);
    });
  });
  return { report: () => coverage.report() };
}
