/**
 * The command line of `gpucr check` (and what `gpucr fuzz` shares of it): the options in the
 * order `--help` lists them, their parsers (a positive bound, a repeatable option, design
 * variants), `--config`'s file merged under the command line, and the run's bounds resolved
 * from `--bounds`, the file and `--max-depth`/`--max-states`. Bad input is an InputError
 * naming the option (exit 2), before any exploring.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { FAMILIES, type Family } from '../explore/families.js';
import { BOUND_NAMES, type Bounds, checkBounds, parseBoundsOption } from '../explore/families/bounds.js';
import type { CheckCliOptions } from '../explore/config.js';
import { VARIANT_VALUES } from '../log/reader.js';
import type { Variants } from '../world/types.js';

/**
 * The bounds of a run: the family's (the file's, then --bounds, checked against the family;
 * none apply to the toy model) and the search's depth and states, from --bounds depth= and
 * states= or --max-depth and --max-states (not both).
 */
export function resolveBounds(
  opts: CheckCliOptions,
  family: Family | null,
): { bounds: Bounds; maxDepth?: string; maxStates?: string } {
  const cli = opts.bounds === undefined ? { bounds: {} } : parseBoundsOption(opts.bounds);
  const fromFile = opts.configBounds ? checkBounds(family, opts.configBounds.values, opts.configBounds.where) : {};
  const bounds = { ...fromFile, ...checkBounds(family, cli.bounds, '--bounds') };
  const both = (name: string, option: string, value: string | undefined, bound: number | undefined) => {
    if (value !== undefined && bound !== undefined)
      throw new InputError(`--bounds ${name}`, `either --bounds ${name}= or ${option}, not both`, `${option} ${value}`);
    return bound === undefined ? value : String(bound);
  };
  const maxDepth = both('depth', '--max-depth', opts.maxDepth, cli.depth);
  const maxStates = both('states', '--max-states', opts.maxStates, cli.states);
  return { bounds, ...(maxDepth === undefined ? {} : { maxDepth }), ...(maxStates === undefined ? {} : { maxStates }) };
}

/** A bound given on the command line: an integer from 1 to `max`, or undefined when not given. */
export function positive(v: string | undefined, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new InputError(name, `an integer from 1 to ${max}`, v);
  return Number(v);
}

/** A repeatable option's values, in the order given. */
export function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}

/** `--variant name=value` pairs, checked against the variants a log header accepts. */
export function parseVariants(pairs: string[]): Partial<Variants> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const m = /^([a-z0-9_-]+)=(.+)$/.exec(p);
    const key = m?.[1];
    // own keys only: `__proto__` or `constructor` must not find Object.prototype's members
    const allowed =
      key && Object.hasOwn(VARIANT_VALUES, key)
        ? (VARIANT_VALUES as Record<string, readonly unknown[]>)[key]
        : undefined;
    if (!m || !allowed)
      throw new InputError('--variant', `name=value with a name among ${Object.keys(VARIANT_VALUES).join(', ')}`, p);
    const value = allowed.find((v) => String(v) === m[2]);
    if (value === undefined) throw new InputError(`--variant ${key}`, `one of ${allowed.join(', ')}`, m[2]);
    out[key!] = value;
  }
  return out as Partial<Variants>;
}

/** The options of `gpucr check`, in the order `--help` lists them. */
export function checkOptions(cmd: Command): Command {
  return cmd
    .option('--model <name>', 'the model to explore: toy (K BOs × {none, allocated, mapped, exported})')
    .option('--family <name>', `a composed driver world to explore: ${FAMILIES.join(', ')}`)
    .option('--variant <name=value>', 'a design variant (repeatable), e.g. ttm=unfixed-restore-drop', collect, [])
    .option('--invariant <name>', 'check only this invariant (repeatable; default: all)', collect, [])
    .option('--out <file>', 'where to write the counterexample log (default: counterexample.jsonl)')
    .option('--k <K>', 'number of BOs of the toy model (1..26)')
    .option('--max-states <n>', 'stop after this many distinct states and report')
    .option('--max-depth <n>', 'stop at this depth and report')
    .option(
      '--bounds <k=v,…>',
      `bounds on the configuration: ${BOUND_NAMES.join(', ')} (those of the family), depth, states`,
    )
    .option('--json', 'print a machine-readable report')
    .option('--coverage', 'print which machine states and transitions, invariants, handlers and returns were exercised')
    .option('--no-symmetry', 'do not merge worlds that differ only in object, file and GEM ids (--family)')
    .option(
      '--fixed-baseline',
      'start from every known bug fixed (docs/known-bugs.md), then apply --variant (--family)',
    )
    .option('--workers <n>', 'explore with n worker threads (1..64, default 1), the states partitioned by fingerprint')
    .option('--config <file>', 'a JSON file of these options (docs/explorer.md); options given here override it');
}

/** The command line's options with `--config`'s file filled in where the command line gave none. */
export async function withConfigFile(cli: CheckCliOptions, cmd: Command): Promise<CheckCliOptions> {
  // ajv (src/explore/config.ts) is loaded only when a configuration file is given.
  const config = cli.config ? await import('../explore/config.js') : null;
  return config && cli.config
    ? config.mergeCheckConfig(
        cli,
        config.loadCheckConfig(cli.config),
        (k) => cmd.getOptionValueSource(k) === 'cli',
        cli.config,
      )
    : cli;
}
