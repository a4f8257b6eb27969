/**
 * `gpucr state <log>`: apply a log's events (without checking its assertions) and
 * print the final world, for people or (`--json`) as a snapshot that `replay --from`
 * accepts. `--pid N` shows one process.
 */
import type { Command } from 'commander';
import type { ReplayFileOptions } from '../log/replay.js';
import { lineNumber, pidNumber, readSnapshotFile, replayWithProgress } from './replay.js';
import { colors } from './style.js';
import { renderWorld, worldJson } from './world-view.js';

export interface StateCliOptions {
  pid?: number;
  json?: boolean;
  from?: string;
  until?: number;
}

export async function stateCommand(log: string, opts: StateCliOptions): Promise<number> {
  const fileOpts: ReplayFileOptions = { involve: false, assertions: false };
  if (opts.from !== undefined) fileOpts.world = readSnapshotFile(opts.from);
  if (opts.until !== undefined) fileOpts.until = opts.until;
  const rep = await replayWithProgress(log, fileOpts, opts.json);
  const view: { pid?: number } = {};
  if (opts.pid !== undefined) view.pid = opts.pid;
  if (opts.json) process.stdout.write(`${worldJson(rep.world, view)}\n`);
  else process.stdout.write(renderWorld(rep.world, { ...view, colors: colors(process.stdout) }));
  return 0;
}

export function registerState(program: Command): void {
  program
    .command('state')
    .description('apply an event log (ignoring its assertions) and print the final world')
    .argument('<log>', 'event log, JSON Lines (docs/log-format.md)')
    .option('--pid <pid>', 'show only this process', pidNumber)
    .option('--json', 'print the world as a snapshot (JSON; usable with replay --from)')
    .option('--from <snapshot>', 'apply the log to a world snapshot instead of a fresh world')
    .option('--until <line>', 'stop after the event on this line', lineNumber)
    .addHelpText('after', '\nExit codes: 0 done, 2 bad input (message on stderr).')
    .action(async (log: string, opts: StateCliOptions) => {
      process.exitCode = await stateCommand(log, opts);
    });
}
