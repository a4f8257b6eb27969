/**
 * `gpucr check --workers N` with N > 1 (docs/cli.md): the exploration of a family or
 * of the toy model spread over worker threads (src/explore/parallel.ts), reported
 * like the single-threaded one. Coverage is not collected across threads (`coverage`
 * is null in --json); `memory_bytes` is the process's resident set, workers included.
 */
import { writeFileSync } from 'node:fs';
import { type ModelSpec, exploreParallel } from '../explore/parallel.js';
import { formatBounds, statisticsJson, statisticsLines } from './check-stats.js';

export interface ParallelCheck {
  spec: ModelSpec;
  workers: number;
  maxStates?: number;
  maxDepth?: number;
  out: string;
  json: boolean;
  /** What the report says it explored (family and variants, or model and K). */
  describe: Record<string, unknown>;
  invariants: string[];
  /** The run's bounds as the report gives them (family bounds, depth, states; null: none). */
  bounds: Record<string, number | null>;
}

export async function checkParallel(c: ParallelCheck): Promise<void> {
  const r = await exploreParallel(c.spec, {
    workers: c.workers,
    ...(c.maxStates ? { maxStates: c.maxStates } : {}),
    ...(c.maxDepth ? { maxDepth: c.maxDepth } : {}),
  });
  if (r.violation?.log) writeFileSync(c.out, r.violation.log);
  const memory = process.memoryUsage().rss;
  const report = {
    ...c.describe,
    bounds: c.bounds,
    workers: r.workers,
    ...statisticsJson(r, memory),
    ...(c.spec.kind === 'family' ? { invariants: c.invariants } : {}),
    violations: r.violation
      ? r.violation.violations.map((v) => ({
          invariant: v.invariant,
          ...(r.violation!.log ? { log: c.out } : {}),
          actions: r.violation!.actions,
        }))
      : [],
    coverage: null,
  };
  if (c.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const what = Object.entries(c.describe)
      .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
    const lines = [
      `${what}, ${r.workers} workers`,
      `bounds ${formatBounds(c.bounds)}`,
      ...statisticsLines(r, `${(memory / 2 ** 20).toFixed(1)} MiB resident`),
    ];
    if (r.violation) {
      lines.push(
        `violation of ${r.violation.violations.map((v) => v.invariant).join(', ')} after ${r.violation.actions.join(' → ') || 'nothing'}`,
      );
      if (r.violation.log)
        lines.push(`shortest counterexample written to ${c.out} (gpucr replay --check ${c.out} reproduces it)`);
    } else lines.push('no violation');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = r.violation ? 1 : 0;
}
