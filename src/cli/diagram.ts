/**
 * `gpucr diagram <machine>`: the mermaid stateDiagram-v2 of one object machine, of any
 * driver (src/docs/diagram.ts). `--all` takes every machine; `--write <dir>` rewrites the
 * generated block of `<dir>/<driver>-<object>.md` (kfd-bo.md, amdgpu-bo-va.md, …) (between `<!-- diagram:begin -->` and
 * `<!-- diagram:end -->`) and leaves the hand-written prose alone; `--check` changes
 * nothing and exits 1 when a page is stale. `npm run diagrams` is
 * `diagram --all --write docs/machines`.
 *
 * Exit codes: 0 done (or up to date), 1 a page is stale (--check), 2 bad input
 * (unknown machine, a page without its markers: message on stderr, no stack trace).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import {
  DIAGRAM_MARKER,
  diagramBlock,
  diagramFileName,
  MarkerError,
  markers,
  newDiagramPage,
  replaceBlock,
  toMermaid,
} from '../docs/diagram.js';
import { InputError } from '../errors.js';
import { MACHINES } from '../world/objects.js';
import type { ObjectKind } from '../world/types.js';

export function machineNames(): ObjectKind[] {
  return Object.keys(MACHINES) as ObjectKind[];
}

/** The machine kind for a name: `kfd.pdd`, its file-name form `kfd-pdd` or its machine id `kfd_pdd`. */
export function machineKind(name: string): ObjectKind {
  for (const kind of machineNames()) {
    const file = diagramFileName(kind).replace(/\.md$/, '');
    if (name === kind || name === file || name === MACHINES[kind]!.id) return kind;
  }
  throw new InputError('machine', `one of ${machineNames().join(', ')}`, name);
}

/** What happened to one generated file. */
export type FileStatus = 'created' | 'updated' | 'unchanged' | 'stale' | 'missing';

export interface PlannedWrite {
  file: string;
  /** The file's text now (undefined when it does not exist). */
  before: string | undefined;
  after: string;
}

/**
 * The new text of a page whose marked block becomes `content`; a missing page gets
 * `fresh()`. A page without its markers is bad input (nothing is written).
 */
export function planBlock(file: string, marker: string, content: string, fresh: () => string): PlannedWrite {
  if (!existsSync(file)) return { file, before: undefined, after: fresh() };
  const before = readFileSync(file, 'utf8');
  try {
    return { file, before, after: replaceBlock(before, marker, content) };
  } catch (e) {
    if (!(e instanceof MarkerError)) throw e;
    const { begin, end } = markers(marker);
    throw new InputError(file, `one ${begin} line followed by one ${end} line`, e.message);
  }
}

/**
 * Apply planned writes (all of them were planned first, so a bad page stops the run
 * before anything is written). Each file is replaced whole through a rename, so a
 * reader never sees half a page. With `check`, nothing is written.
 */
export function applyWrites(plans: readonly PlannedWrite[], check: boolean): [string, FileStatus][] {
  const out: [string, FileStatus][] = [];
  for (const p of plans) {
    if (p.before === p.after) {
      out.push([p.file, 'unchanged']);
      continue;
    }
    if (check) {
      out.push([p.file, p.before === undefined ? 'missing' : 'stale']);
      continue;
    }
    mkdirSync(dirname(p.file), { recursive: true });
    const tmp = `${p.file}.tmp-${process.pid}`;
    writeFileSync(tmp, p.after);
    renameSync(tmp, p.file);
    out.push([p.file, p.before === undefined ? 'created' : 'updated']);
  }
  return out;
}

/** The planned rewrite of the diagram pages of `kinds` in `dir`. */
export function planDiagramPages(dir: string, kinds: readonly ObjectKind[]): PlannedWrite[] {
  return kinds.map((kind) => {
    const machine = MACHINES[kind]!;
    const file = join(dir, diagramFileName(kind));
    return planBlock(file, DIAGRAM_MARKER, diagramBlock(kind, machine), () => newDiagramPage(kind, machine));
  });
}

/** Print the statuses; returns the exit code (1 when --check found a stale or missing page). */
export function reportWrites(statuses: readonly [string, FileStatus][], check: boolean): number {
  let stale = false;
  for (const [file, status] of statuses) {
    if (status === 'stale' || status === 'missing') stale = true;
    process.stdout.write(`${file}: ${status}\n`);
  }
  if (check && stale) {
    process.stderr.write('generated documentation is stale: run `npm run docs` (`gpucr docs`)\n');
    return 1;
  }
  return 0;
}

interface DiagramOptions {
  all?: boolean;
  write?: string;
  check?: boolean;
  actions?: boolean;
}

export function diagramCommand(name: string | undefined, opts: DiagramOptions): number {
  if (name !== undefined && opts.all) throw new InputError('machine', 'a machine name or --all, not both', name);
  if (name === undefined && !opts.all)
    throw new InputError('machine', `a machine name (${machineNames().join(', ')}) or --all`, undefined);
  if (opts.check && opts.write === undefined) throw new InputError('--check', 'to be used with --write <dir>', true);
  const kinds = opts.all ? machineNames() : [machineKind(name!)];
  if (opts.write !== undefined) {
    if (opts.actions === false)
      throw new InputError('--no-actions', 'to be left out with --write (pages carry the full labels)', true);
    const plans = planDiagramPages(opts.write, kinds);
    return reportWrites(applyWrites(plans, opts.check === true), opts.check === true);
  }
  const texts = kinds.map((kind) => {
    const text = toMermaid(MACHINES[kind]!, { actions: opts.actions !== false });
    return kinds.length > 1 ? `%% ${kind}\n${text}` : text;
  });
  process.stdout.write(texts.join('\n'));
  return 0;
}

export function registerDiagram(program: Command): void {
  program
    .command('diagram')
    .description('print the mermaid state diagram of an object machine, or rewrite the docs pages')
    .argument('[machine]', `one of ${machineNames().join(', ')}`)
    .option('--all', 'every machine')
    .option('--write <dir>', 'rewrite the generated diagram block of <dir>/<driver>-<object>.md instead of printing')
    .option('--check', 'with --write: change nothing, exit 1 if a page is stale')
    .option('--no-actions', 'leave the actions out of the transition labels (printing only)')
    .addHelpText('after', '\nExit codes: 0 done, 1 a page is stale (--check), 2 bad input (message on stderr).')
    .action((name: string | undefined, opts: DiagramOptions) => {
      process.exitCode = diagramCommand(name, opts);
    });
}
