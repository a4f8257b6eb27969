/**
 * `gpucr replay <log>`: validate a log, replay it, compare the recorded results
 * (docs/cli.md). Exit 0 every assertion (and every checked invariant) held, 1 the
 * first divergence or invariant violation, 2 bad input.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { InputError } from '../errors.js';
import { type Invariant, selectInvariants } from '../invariants/index.js';
import { repairLog } from '../log/repair.js';
import { type ReplayFileOptions, type ReplayReport, replayFile } from '../log/replay.js';
import { restoreSnapshot, snapshotText } from '../log/snapshot.js';
import type { World } from '../world/types.js';
import { failureText, replayJson } from './output.js';
import { colors, Progress } from './style.js';
import { renderWorld } from './world-view.js';

export interface ReplayCliOptions {
  json?: boolean;
  quiet?: boolean;
  check?: boolean;
  checkEvery?: number;
  invariant?: string[];
  until?: number;
  from?: string;
  snapshot?: string;
  repair?: boolean;
}

/** A positive line number (commander argument parser). */
export function lineNumber(v: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new InvalidArgumentError('expected a line number (1, 2, …)');
  return Number(v);
}

/** A count of events ≥ 1 (commander argument parser, --check-every). */
export function eventCount(v: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new InvalidArgumentError('expected a number of events (1, 2, …)');
  return Number(v);
}

/** A pid (commander argument parser). */
export function pidNumber(v: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(v) || Number(v) > 0x7fffffff)
    throw new InvalidArgumentError('expected a pid (1..2147483647)');
  return Number(v);
}

/** 2 → "2nd", 11 → "11th", 1000 → "1000th". */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** The world of a snapshot file (`--from`); any problem is bad input naming the file. */
export function readSnapshotFile(path: string): World {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(path, 'a readable snapshot file', (e as NodeJS.ErrnoException).code ?? String(e));
  }
  return restoreSnapshot(text, path);
}

/**
 * Write a file whole or not at all: a temporary file in the same directory, fsync'd
 * by writeFileSync's flush, renamed over the target.
 */
export function writeWhole(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, { flush: true });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new InputError(path, 'a writable output file', (e as NodeJS.ErrnoException).code ?? String(e));
  }
}

/** What the progress bar calls each pass of replayFile. */
const PHASE_LABELS = { validate: 'validating', replay: 'replaying', recheck: 'checking again' } as const;

/** Replay a log file with the CLI's progress bar (shared by replay, run and state). */
export async function replayWithProgress(
  log: string,
  opts: ReplayFileOptions,
  quiet: boolean | undefined,
): Promise<ReplayReport> {
  const bar = new Progress({ enabled: !quiet });
  try {
    return await replayFile(log, {
      ...opts,
      onProgress: (phase, done, total) => bar.update(PHASE_LABELS[phase], done, total),
    });
  } finally {
    bar.stop();
  }
}

/** Run the command; returns the exit code (bad input throws InputError, which the caller maps to 2). */
export async function replayCommand(log: string, opts: ReplayCliOptions): Promise<number> {
  const checking = opts.check === true || (opts.invariant?.length ?? 0) > 0 || opts.checkEvery !== undefined;
  const every = opts.checkEvery ?? 1;
  const invariants: Invariant[] = checking ? selectInvariants(opts.invariant ?? []) : [];
  const world = opts.from !== undefined ? readSnapshotFile(opts.from) : undefined;
  if (opts.repair) {
    const r = await repairLog(log);
    if (r.removed && !opts.quiet && !opts.json)
      process.stderr.write(`${log}: removed the torn line ${r.removed.line} (${r.removed.bytes} bytes)\n`);
  }
  const fileOpts: ReplayFileOptions = { invariants };
  if (every > 1) fileOpts.checkEvery = every;
  if (world) fileOpts.world = world;
  if (opts.until !== undefined) fileOpts.until = opts.until;
  const rep = await replayWithProgress(log, fileOpts, opts.quiet || opts.json);
  if (opts.snapshot !== undefined && rep.ok) writeWhole(opts.snapshot, snapshotText(rep.world));
  const showWorld = opts.until !== undefined;
  if (opts.json) {
    const jsonOpts: { checked?: string[]; checkEvery?: number; state?: boolean } = { state: showWorld && rep.ok };
    if (checking) jsonOpts.checked = invariants.map((i) => i.name);
    if (every > 1) jsonOpts.checkEvery = every;
    process.stdout.write(`${replayJson(log, rep, jsonOpts)}\n`);
  } else if (!opts.quiet) {
    const c = colors(process.stdout);
    if (!rep.ok) process.stdout.write(failureText(log, rep, c));
    else {
      const n = `${rep.events} event${rep.events === 1 ? '' : 's'}`;
      const upTo = rep.until !== undefined ? ` up to line ${rep.lastLine}` : '';
      const held = !checking
        ? 'every assertion held'
        : every > 1
          ? `every assertion held, and every invariant after every ${ordinal(every)} event and the last`
          : 'every assertion and invariant held';
      process.stdout.write(`${c.green(`${log}: ${n} replayed${upTo}, ${held}`)}\n`);
      if (showWorld) process.stdout.write(renderWorld(rep.world, { colors: c }));
    }
  }
  return rep.ok ? 0 : 1;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('validate an event log, replay it and check the results it records')
    .argument('<log>', 'event log, JSON Lines (docs/log-format.md)')
    .option('--json', 'print a machine-readable report (sorted keys, log encoding)')
    .option('-q, --quiet', 'print nothing on stdout; the exit code tells the result')
    .option('--check', 'check every invariant after every event (docs/invariants.md)')
    .option('--invariant <name>', 'check this invariant after every event (repeatable; implies --check)', collect)
    .option(
      '--check-every <n>',
      'check the invariants after every n-th event and the last only; a violation is narrowed down to its event (implies --check)',
      eventCount,
    )
    .option('--until <line>', 'stop after the event on this line and print the world', lineNumber)
    .option('--from <snapshot>', 'continue from a world snapshot instead of a fresh world')
    .option('--snapshot <out>', "write the final world's snapshot to <out> (when every check held)")
    .option('--repair', 'first cut a torn last record off the log (as gpucr repair)')
    .addHelpText(
      'after',
      '\nExit codes: 0 every assertion held, 1 first divergence or invariant violation, 2 bad input (message on stderr).',
    )
    .action(async (log: string, opts: ReplayCliOptions) => {
      process.exitCode = await replayCommand(log, opts);
    });
}
