/**
 * `gpucr check`: exhaustive exploration with TLC/SPIN-style statistics (docs/cli.md).
 * It explores the reference toy model (`--model toy --k K`) or a composed driver
 * world (`--family ttm|i915` with variants), checking the named invariants in every
 * state and writing the shortest counterexample as a replayable log.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { type ExploreResult, exploreNumeric } from '../explore/bfs.js';
import { toyModel } from '../explore/toy.js';
import { writeFileSync } from 'node:fs';
import { FAMILIES, type Family, FIXED_BASELINE, familyModel } from '../explore/families.js';
import { effectiveBounds } from '../explore/families/bounds.js';
import type { CheckCliOptions } from '../explore/config.js';
import type { WorldExploreResult, WorldModel } from '../explore/world-explorer.js';
import { checkOptions, parseVariants, positive, resolveBounds, withConfigFile } from './check-options.js';
import { checkParallel } from './check-parallel.js';
import { formatBounds, statisticsJson, statisticsLines } from './check-stats.js';
import { ExplorationCoverage, formatCoverage } from '../explore/coverage.js';
import { getInvariant } from '../invariants/index.js';

/** The progress line on stderr (a terminal only): `\r` and the running counts. */
function progress(text: string): void {
  process.stderr.write(`\r${text}`);
}

/**
 * The model with its event generator counted: a progress line of the worlds expanded and
 * the transitions tried every 64 worlds (the explorer reports distinct states at the end).
 */
function withProgress(model: WorldModel): WorldModel {
  let expanded = 0;
  let transitions = 0;
  const n = (x: number) => x.toLocaleString('en-US');
  return {
    ...model,
    actions: (w) => {
      const a = model.actions(w);
      expanded += 1;
      transitions += a.length;
      if ((expanded & 63) === 0) progress(`${n(expanded)} states expanded, ${n(transitions)} transitions`);
      return a;
    },
  };
}

/** The toy model's `--json` report: the family reports' statistics, then its violation. */
export function checkReport(r: ExploreResult) {
  return {
    ...statisticsJson(r, r.memoryBytes),
    violations: r.violation ? [{ invariant: r.violation.invariant, path: r.violation.path }] : [],
  };
}

/** A family run's settings, every option checked (in this order: bad input fails before any exploring). */
function familySettings(opts: CheckCliOptions) {
  const family = opts.family as Family;
  if (!FAMILIES.includes(family)) throw new InputError('--family', `one of ${FAMILIES.join(', ')}`, opts.family);
  for (const name of opts.invariant ?? [])
    if (!getInvariant(name))
      throw new InputError('--invariant', 'a registered invariant (gpucr invariants lists them)', name);
  const resolved = resolveBounds(opts, family);
  const maxStates = positive(resolved.maxStates, '--max-states', 2 ** 31 - 1);
  const maxDepth = positive(resolved.maxDepth ?? '6', '--max-depth', 64)!;
  const variants = { ...(opts.fixedBaseline ? FIXED_BASELINE : {}), ...parseVariants(opts.variant ?? []) };
  const workers = positive(opts.workers ?? '1', '--workers', 64)!;
  const model = familyModel(family, variants, opts.invariant ?? [], resolved.bounds);
  const bounds = { ...effectiveBounds(family, resolved.bounds), depth: maxDepth, states: maxStates ?? null };
  const out = opts.out ?? 'counterexample.jsonl';
  return { family, familyBounds: resolved.bounds, maxStates, maxDepth, variants, workers, model, bounds, out };
}

type FamilySettings = ReturnType<typeof familySettings>;

/** `--workers N` (N > 1): the family explored by worker threads (src/cli/check-parallel.ts). */
function checkFamilyParallel(opts: CheckCliOptions, f: FamilySettings): Promise<void> {
  const spec = {
    kind: 'family',
    family: f.family,
    variants: f.variants,
    invariants: opts.invariant ?? [],
    symmetry: opts.symmetry !== false,
    bounds: f.familyBounds,
  } as const;
  const { workers, maxStates, maxDepth, out, bounds } = f;
  const describe = { family: f.family, variants: f.model.header.variants };
  const invariants = f.model.invariants.map((i) => i.name);
  return checkParallel({ spec, workers, maxStates, maxDepth, out, json: !!opts.json, describe, invariants, bounds });
}

/** The single-threaded family run's report: text lines, or one JSON line with `--json`. */
function writeFamilyReport(
  opts: CheckCliOptions,
  f: FamilySettings,
  r: WorldExploreResult,
  memory: number,
  coverage: ReturnType<ExplorationCoverage['json']>,
): void {
  const { family, model, bounds, out } = f;
  const report = {
    family,
    variants: model.header.variants,
    bounds,
    ...statisticsJson(r, memory),
    invariants: model.invariants.map((i) => i.name),
    violations: r.violation
      ? r.violation.violations.map((v) => ({ invariant: v.invariant, log: out, actions: r.violation!.actions }))
      : [],
    coverage,
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines = [
    `family ${family}, variants ${JSON.stringify(model.header.variants)}, ${model.invariants.length} invariants`,
    `bounds ${formatBounds(bounds)}`,
    ...statisticsLines(r, `${(memory / 2 ** 20).toFixed(1)} MiB heap`),
  ];
  if (r.violation)
    lines.push(
      `violation of ${r.violation.violations.map((v) => v.invariant).join(', ')} after ${r.violation.actions.join(' → ')}`,
      `shortest counterexample written to ${out} (gpucr replay --check ${out} reproduces it)`,
    );
  else lines.push('no violation');
  if (opts.coverage) lines.push('', formatCoverage(coverage));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `gpucr check --family`: explore the composed world, write the counterexample, report, set the exit code. */
function checkFamily(opts: CheckCliOptions): void | Promise<void> {
  const f = familySettings(opts);
  if (f.workers > 1) return checkFamilyParallel(opts, f);
  const tty = process.stderr.isTTY && !opts.json;
  const cov = new ExplorationCoverage();
  const r = cov.explore(tty ? withProgress(f.model) : f.model, {
    maxDepth: f.maxDepth,
    symmetry: opts.symmetry !== false,
    ...(f.maxStates ? { maxStates: f.maxStates } : {}),
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const memory = process.memoryUsage().heapUsed;
  const coverage = cov.json();
  if (r.violation) writeFileSync(f.out, r.violation.log);
  writeFamilyReport(opts, f, r, memory, coverage);
  process.exitCode = r.violation ? 1 : 0;
}

/** The toy run's report: text lines, or one JSON line with `--json`. */
function writeToyReport(
  opts: CheckCliOptions,
  k: number,
  bounds: { depth: number | null; states: number | null },
  r: ExploreResult,
): void {
  // The toy model has no driver machines, handlers or registered invariants to cover.
  const report = { model: 'toy', k, bounds, ...checkReport(r), coverage: null };
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      [
        `model toy, K = ${k}${r.limited ? ` (stopped by the ${r.limited} limit)` : ''}`,
        ...statisticsLines({ ...r, limited: null }, `${(r.memoryBytes / 2 ** 20).toFixed(1)} MiB`),
        r.violation ? `violation of ${r.violation.invariant}: ${r.violation.path.join(' → ')}` : 'no violation',
      ].join('\n') + '\n',
    );
  }
}

/** `gpucr check --model toy`: the reference toy model of K BOs (numeric states, no driver machines). */
function checkToy(opts: CheckCliOptions): void | Promise<void> {
  if (opts.model !== 'toy') throw new InputError('--model', 'toy (or --family)', opts.model);
  const k = positive(opts.k ?? '10', '--k', 26)!;
  const resolved = resolveBounds(opts, null);
  const maxStates = positive(resolved.maxStates, '--max-states', 2 ** 31 - 1);
  const maxDepth = positive(resolved.maxDepth, '--max-depth', 2 ** 31 - 1);
  const bounds = { depth: maxDepth ?? null, states: maxStates ?? null };
  const workers = positive(opts.workers ?? '1', '--workers', 64)!;
  if (workers > 1) {
    const out = opts.out ?? 'counterexample.jsonl';
    const spec = { kind: 'toy', k } as const;
    const describe = { model: 'toy', k };
    return checkParallel({
      spec,
      workers,
      maxStates,
      maxDepth,
      out,
      json: !!opts.json,
      describe,
      invariants: [],
      bounds,
    });
  }
  const tty = process.stderr.isTTY && !opts.json;
  const r = exploreNumeric(toyModel(k), {
    ...(maxStates ? { maxStates } : {}),
    ...(maxDepth ? { maxDepth } : {}),
    ...(tty
      ? {
          onProgress: (s: number, t: number, d: number) =>
            progress(`${s.toLocaleString('en-US')} states, ${t.toLocaleString('en-US')} transitions, depth ${d}`),
          progressEvery: 1 << 17,
        }
      : {}),
  });
  if (tty) process.stderr.write('\r\x1b[K');
  writeToyReport(opts, k, bounds, r);
  process.exitCode = r.violation ? 1 : 0;
}

export function registerCheck(program: Command): void {
  checkOptions(
    program.command('check').description('explore every reachable state of a model and check its invariants'),
  ).action(async (cli: CheckCliOptions, cmd: Command) => {
    const opts = await withConfigFile(cli, cmd);
    return opts.family !== undefined ? checkFamily(opts) : checkToy(opts);
  });
}
