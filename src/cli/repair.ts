/**
 * `gpucr repair <log>`: cut a torn last record (a write cut short by a crash) off a
 * log, keeping every complete record (src/log/repair.ts). A log without a torn
 * record is left as it is. Exit 0 done, 2 bad input (an invalid line before the
 * last: nothing is changed).
 */
import type { Command } from 'commander';
import { repairLog } from '../log/repair.js';
import { stableJson } from './output.js';
import { colors } from './style.js';

export async function repairCommand(log: string, opts: { json?: boolean; quiet?: boolean }): Promise<number> {
  const r = await repairLog(log);
  if (opts.json) process.stdout.write(`${stableJson({ file: log, removed: r.removed, lines: r.lines })}\n`);
  else if (!opts.quiet) {
    const c = colors(process.stdout);
    process.stdout.write(
      r.removed
        ? `${c.yellow(`${log}: removed the torn line ${r.removed.line}`)} (${r.removed.bytes} bytes); ${r.lines} complete line${r.lines === 1 ? '' : 's'} kept\n`
        : `${c.green(`${log}: no torn record`)}; ${r.lines} line${r.lines === 1 ? '' : 's'}\n`,
    );
  }
  return 0;
}

export function registerRepair(program: Command): void {
  program
    .command('repair')
    .description('cut a torn last record off an event log, keeping every complete record')
    .argument('<log>', 'event log, JSON Lines (docs/log-format.md)')
    .option('--json', 'print a machine-readable result')
    .option('-q, --quiet', 'print nothing on stdout')
    .addHelpText('after', '\nExit codes: 0 done (repaired or nothing to do), 2 bad input (nothing changed).')
    .action(async (log: string, opts: { json?: boolean; quiet?: boolean }) => {
      process.exitCode = await repairCommand(log, opts);
    });
}
