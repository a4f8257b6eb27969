/**
 * Coverage of composed explorations (issue 7 item 4): which states and transitions
 * of each machine were reached (src/explore/coverage-machines.ts), which invariants
 * were evaluated and how often, and which handlers ran with which returns (0 or a
 * negative errno). One `ExplorationCoverage` accumulates over several explorations,
 * so a suite of configurations reports what it covers together.
 */
import type { Invariant } from '../invariants/index.js';
import { errnoName } from '../uapi/errno.js';
import { applyInPlace } from '../world/step.js';
import { observeTransitions } from '../world/objects.js';
import { createWorld } from '../world/world.js';
import type { Call } from '../world/types.js';
import { type MachineCoverage, MachineCoverageTracker } from './coverage-machines.js';
import { exploreWorlds, type WorldExploreResult, type WorldModel } from './world-explorer.js';

export type { MachineCoverage } from './coverage-machines.js';

export interface CoverageJson {
  machines: MachineCoverage[];
  invariants: { name: string; evaluations: number; violations: number }[];
  /** Per call: how often it ran and how often each return value came back ("0", "-EINVAL", …). */
  handlers: { call: string; calls: number; returns: Record<string, number> }[];
}

/** A return value as the coverage names it: "0", "-EINVAL", or a positive result (an fd) as its number. */
function retName(r: number): string {
  return r < 0 ? `-${errnoName(r)}` : String(r);
}

export class ExplorationCoverage {
  readonly machines = new MachineCoverageTracker();
  private readonly invariants = new Map<string, { evaluations: number; violations: number }>();
  private readonly handlers = new Map<string, Map<number, number>>();
  /** The machine kinds some exploration touched (an object of the kind existed). */
  private readonly touched = new Set<string>();

  private seeCall(c: Call, ret: number): void {
    let m = this.handlers.get(c.call);
    if (!m) this.handlers.set(c.call, (m = new Map()));
    m.set(ret, (m.get(ret) ?? 0) + 1);
  }

  private counted(inv: Invariant): Invariant {
    let n = this.invariants.get(inv.name);
    if (!n) this.invariants.set(inv.name, (n = { evaluations: 0, violations: 0 }));
    const stats = n;
    return {
      ...inv,
      check: (w) => {
        stats.evaluations += 1;
        const v = inv.check(w);
        if (v.length) stats.violations += 1;
        return v;
      },
    };
  }

  /** Explore `model` as `exploreWorlds` does, recording what the exploration covered. */
  explore(
    model: WorldModel,
    opts: Omit<NonNullable<Parameters<typeof exploreWorlds>[1]>, 'onCall'> = {},
  ): WorldExploreResult {
    const prev = observeTransitions(this.machines.observer);
    try {
      // The setup calls again, observed: the transitions that built the initial world count too.
      const w = createWorld(model.header.topology, model.header.variants);
      for (const c of model.setup) this.seeCall(c, applyInPlace(w, c).ret);
      const wrapped: WorldModel = {
        ...model,
        invariants: model.invariants.map((i) => this.counted(i)),
        actions: (world) => {
          this.machines.seeWorld(world);
          for (const rec of Object.values(world.objects)) this.touched.add(rec.kind);
          return model.actions(world);
        },
      };
      return exploreWorlds(wrapped, { ...opts, onCall: (c, r) => this.seeCall(c, r.ret) });
    } finally {
      observeTransitions(prev);
    }
  }

  /** The coverage so far; machines: the given kinds, or those an exploration touched. */
  json(kinds: string[] = [...this.touched]): CoverageJson {
    return {
      machines: this.machines.report(kinds),
      invariants: [...this.invariants.entries()].sort().map(([name, s]) => ({ name, ...s })),
      handlers: [...this.handlers.entries()].sort().map(([call, m]) => ({
        call,
        calls: [...m.values()].reduce((a, b) => a + b, 0),
        returns: Object.fromEntries([...m.entries()].sort((a, b) => b[0] - a[0]).map(([r, n]) => [retName(r), n])),
      })),
    };
  }
}

function pct(c: { covered: number; total: number }): string {
  const p = c.total === 0 ? 100 : (100 * c.covered) / c.total;
  return `${c.covered}/${c.total} (${Number.isInteger(p) ? p : p.toFixed(1)}%)`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)];
}

/** The coverage as plain-text tables: machines, invariants, handlers (with their returns). */
export function formatCoverage(c: CoverageJson): string {
  const out = table([
    ['machine', 'states', 'transitions', 'ambiguous'],
    ...c.machines.map((m) => [m.machine, pct(m.states), pct(m.transitions), String(m.ambiguous.length)]),
  ]);
  for (const m of c.machines) {
    if (m.missingStates.length) out.push(`  ${m.machine} states not reached: ${m.missingStates.join(', ')}`);
    if (m.missingTransitions.length)
      out.push(`  ${m.machine} transitions not taken: ${m.missingTransitions.join(', ')}`);
  }
  out.push(
    '',
    ...table([
      ['invariant', 'evaluations', 'violations'],
      ...c.invariants.map((i) => [i.name, String(i.evaluations), String(i.violations)]),
    ]),
    '',
    ...table([
      ['handler', 'calls', 'returns'],
      ...c.handlers.map((h) => [
        h.call,
        String(h.calls),
        Object.entries(h.returns)
          .map(([r, n]) => `${r}×${n}`)
          .join(' '),
      ]),
    ]),
  );
  return out.join('\n');
}
