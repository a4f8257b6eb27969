/**
 * `gpucr fuzz`: random walks over a composed driver world for configurations too
 * large to enumerate (docs/cli.md, docs/explorer.md). Exit 0 when every walk kept
 * every invariant, 1 on a violation (the shrunk run written as a replayable log),
 * 2 on bad input.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { FAMILIES, type Family, FIXED_BASELINE, familyModel } from '../explore/families.js';
import { getInvariant } from '../invariants/index.js';
import { collect, parseVariants, positive } from './check-options.js';

interface FuzzCliOptions {
  family?: string;
  fixedBaseline?: boolean;
  variant: string[];
  invariant: string[];
  runs?: string;
  seed?: string;
  maxSteps?: string;
  out?: string;
  json?: boolean;
}

function seedOf(v: string | undefined): number {
  if (v === undefined) return 1;
  if (!/^-?[0-9]+$/.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1)
    throw new InputError('--seed', 'an integer from -2147483647 to 2147483647', v);
  return Number(v);
}

async function fuzz(opts: FuzzCliOptions): Promise<void> {
  const family = opts.family as Family;
  if (!FAMILIES.includes(family)) throw new InputError('--family', `one of ${FAMILIES.join(', ')}`, opts.family);
  for (const name of opts.invariant)
    if (!getInvariant(name))
      throw new InputError('--invariant', 'a registered invariant (gpucr invariants lists them)', name);
  const runs = positive(opts.runs ?? '100', '--runs', 1_000_000)!;
  const maxSteps = positive(opts.maxSteps ?? '20', '--max-steps', 10_000)!;
  const seed = seedOf(opts.seed);
  const variants = { ...(opts.fixedBaseline ? FIXED_BASELINE : {}), ...parseVariants(opts.variant) };
  const model = familyModel(family, variants, opts.invariant);
  // fast-check is loaded only by this command.
  const { fuzzWorlds } = await import('../explore/fuzz.js');
  const r = fuzzWorlds(model, { runs, seed, maxSteps });
  const out = opts.out ?? 'fuzz-counterexample.jsonl';
  if (r.violation) writeFileSync(out, r.violation.log);
  const report = {
    family,
    variants: model.header.variants,
    runs: r.runs,
    seed: r.seed,
    max_steps: maxSteps,
    steps: r.steps,
    seconds: Number(r.seconds.toFixed(3)),
    invariants: model.invariants.map((i) => i.name),
    violations: r.violation
      ? r.violation.violations.map((v) => ({ invariant: v.invariant, log: out, actions: r.violation!.actions }))
      : [],
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const lines = [
      `family ${family}, variants ${JSON.stringify(model.header.variants)}, ${model.invariants.length} invariants`,
      `${r.runs} walks of up to ${maxSteps} actions (seed ${r.seed}): ${r.steps.toLocaleString('en-US')} actions, ${r.seconds.toFixed(3)} s`,
    ];
    if (r.violation)
      lines.push(
        `violation of ${r.violation.violations.map((v) => v.invariant).join(', ')} after ${r.violation.actions.join(' → ')}`,
        `(found by walk ${r.violation.foundAfter}, shrunk in ${r.violation.shrinks} steps)`,
        `minimal failing run written to ${out} (gpucr replay --check ${out} reproduces it)`,
      );
    else lines.push('no violation');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = r.violation ? 1 : 0;
}

export function registerFuzz(program: Command): void {
  program
    .command('fuzz')
    .description('random walks over a composed driver world, shrinking a failing walk to a minimal replayable log')
    .option('--family <name>', `the composed driver world: ${FAMILIES.join(', ')}`)
    .option('--fixed-baseline', 'start from every known bug fixed; --variant applies on top')
    .option('--variant <name=value>', 'a design variant (repeatable), e.g. ttm=unfixed-restore-drop', collect, [])
    .option('--invariant <name>', 'check only this invariant (repeatable; default: all)', collect, [])
    .option('--runs <n>', 'number of random walks (default 100)')
    .option('--seed <s>', 'the random seed: the same seed gives the same walks and the same log (default 1)')
    .option('--max-steps <n>', 'the most actions in one walk (default 20)')
    .option('--out <file>', 'where to write the minimal failing run (default: fuzz-counterexample.jsonl)')
    .option('--json', 'print a machine-readable report')
    .action((opts: FuzzCliOptions) => fuzz(opts));
}
