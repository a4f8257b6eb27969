/**
 * `gpucr replay <log>`: validate a log, replay it, compare the recorded results
 * (docs/cli.md). Exit 0 every assertion held, 1 first divergence, 2 bad input.
 */
import type { Command } from 'commander';
import { replayFile } from '../log/replay.js';
import { divergenceMessage, replayJson } from './output.js';

export interface ReplayCliOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Run the command; returns the exit code (bad input throws InputError, which the caller maps to 2). */
export async function replayCommand(log: string, opts: ReplayCliOptions): Promise<number> {
  const rep = await replayFile(log);
  if (opts.json) {
    process.stdout.write(`${replayJson(log, rep)}\n`);
  } else if (!opts.quiet) {
    if (rep.divergence) process.stdout.write(`${divergenceMessage(log, rep.divergence)}\n`);
    else
      process.stdout.write(
        `${log}: ${rep.events} event${rep.events === 1 ? '' : 's'} replayed, every assertion held\n`,
      );
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
    .addHelpText('after', '\nExit codes: 0 every assertion held, 1 first divergence, 2 bad input (message on stderr).')
    .action(async (log: string, opts: ReplayCliOptions) => {
      process.exitCode = await replayCommand(log, opts);
    });
}
