/**
 * `gpucr paths <machine>`: the paths of one object machine's test model
 * (`createTestModel` from xstate/graph, src/mbt/model-paths.ts `modelPaths`), one per
 * line as `state --EVENT--> state --EVENT--> …`, or as JSON with `--json`. These are
 * the paths `describeModel` (`gpucr/vitest`) turns into tests, with the sample events
 * and input of src/mbt/sample-events.ts: a driver or CRIU plugin team can read what
 * its adapter has to carry out.
 *
 * Machine names as `gpucr diagram` takes them (`kfd.queue`, `kfd-queue`, `kfd_queue`);
 * only machines with sample events (the KFD ones) have paths. A machine with several
 * sample instances (kfd.bo: GTT and userptr) prints a `# <instance>` line before each
 * instance's paths.
 *
 * Exit codes: 0 done, 2 bad input (unknown machine, bad option: message on stderr, no stack trace).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import {
  KFD_SAMPLES,
  modelPaths,
  type ModelSample,
  type PathGeneratorName,
  samplesOf,
  stateText,
  TraversalLimitError,
} from '../mbt/sample-events.js';
import { snapshotSerializer } from '../mbt/serialize.js';
import { MACHINES } from '../world/objects.js';
import type { ObjectKind } from '../world/types.js';
import { machineKind } from './diagram.js';
import { stableJson } from './output.js';

interface PathsOptions {
  generator?: string;
  limit?: string;
  json?: boolean;
}

/** The machines `gpucr paths` has sample events for. */
export function pathMachineNames(): ObjectKind[] {
  return Object.keys(KFD_SAMPLES) as ObjectKind[];
}

function resolveKind(name: string): ObjectKind {
  const valid = `one of ${pathMachineNames().join(', ')}`;
  let kind: ObjectKind;
  try {
    kind = machineKind(name);
  } catch (e) {
    if (e instanceof InputError) throw new InputError('machine', valid, name);
    throw e;
  }
  if (!pathMachineNames().includes(kind))
    throw new InputError('machine', `${valid} (no sample events for ${kind})`, name);
  return kind;
}

function parseGenerator(v: string | undefined): PathGeneratorName {
  if (v === undefined || v === 'shortest' || v === 'simple') return v ?? 'shortest';
  throw new InputError('--generator', 'shortest or simple', v);
}

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new InputError('--limit', 'a positive integer', v);
  return Number(v);
}

interface SamplePaths {
  sample: ModelSample;
  paths: ReturnType<typeof modelPaths>['paths'];
}

/** The paths of every sample instance of a machine (bad options and names are InputErrors). */
export function machinePaths(name: string, opts: PathsOptions = {}): { kind: ObjectKind; instances: SamplePaths[] } {
  const kind = resolveKind(name);
  const generator = parseGenerator(opts.generator);
  const limit = parseLimit(opts.limit);
  const machine = MACHINES[kind]!;
  const instances = samplesOf(kind, machine).map((sample) => {
    try {
      const { paths } = modelPaths(machine, {
        input: sample.input,
        events: sample.events,
        serializeState: snapshotSerializer(sample.abstract as ((c: unknown) => unknown) | undefined),
        pathGenerator: generator,
        limit,
      });
      return { sample, paths };
    } catch (e) {
      if (e instanceof TraversalLimitError)
        throw new InputError('--limit', `a limit above the number of states ${sample.name} has`, limit);
      throw e;
    }
  });
  return { kind, instances };
}

export function pathsCommand(name: string, opts: PathsOptions): number {
  const { kind, instances } = machinePaths(name, opts);
  if (opts.json) {
    const paths = instances.flatMap(({ sample, paths }) =>
      paths.map((p) => ({
        instance: sample.name,
        text: p.text,
        events: p.events,
        states: p.snapshots.map((s) => stateText(s.value)),
      })),
    );
    process.stdout.write(
      `${stableJson({ machine: kind, id: MACHINES[kind]!.id, generator: parseGenerator(opts.generator), paths })}\n`,
    );
    return 0;
  }
  const lines: string[] = [];
  for (const { sample, paths } of instances) {
    if (instances.length > 1) lines.push(`# ${sample.name}`);
    for (const p of paths) lines.push(p.text);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export function registerPaths(program: Command): void {
  program
    .command('paths')
    .description("print the test-model paths of an object machine (what describeModel's tests walk), one per line")
    .argument('<machine>', `one of ${pathMachineNames().join(', ')}`)
    .option('--generator <name>', 'shortest (a shortest path to every state and transition) or simple', 'shortest')
    .option('--limit <n>', 'traversal limit: how many states the traversal may visit (default 100000)')
    .option('--json', 'print {machine, id, generator, paths: [{instance, text, events, states}]} as JSON')
    .addHelpText('after', '\nExit codes: 0 done, 2 bad input (message on stderr).')
    .action((name: string, opts: PathsOptions) => {
      process.exitCode = pathsCommand(name, opts);
    });
}
