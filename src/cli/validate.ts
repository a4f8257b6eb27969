/**
 * `gpucr validate <log>`: check a log's format only (every line, the references,
 * the torn-record rule), without replaying it. Exit 0 valid, 2 invalid.
 */
import type { Command } from 'commander';
import { fileSize, progressCounter, readLogBatches } from '../log/read-file.js';
import { stableJson } from './output.js';
import { colors, Progress } from './style.js';

/**
 * Read and validate a whole log file (library form of the command): its number of lines,
 * or the first problem thrown (LogError, TornRecordError, InputError). `onProgress` is told
 * the bytes read of the file's size.
 */
export async function validateFile(
  log: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ lines: number }> {
  let lines = 0;
  const opts = onProgress ? { onLine: progressCounter(fileSize(log), onProgress) } : {};
  for await (const batch of readLogBatches(log, log, opts)) lines += batch.length;
  return { lines };
}

export async function validateCommand(log: string, opts: { json?: boolean; quiet?: boolean }): Promise<number> {
  const bar = new Progress({ enabled: opts.quiet !== true && opts.json !== true });
  let lines: number;
  try {
    ({ lines } = await validateFile(log, (done, total) => bar.update('validating', done, total)));
  } finally {
    bar.stop();
  }
  const events = lines - 1;
  if (opts.json) process.stdout.write(`${stableJson({ file: log, ok: true, lines, events })}\n`);
  else if (!opts.quiet)
    process.stdout.write(
      `${colors(process.stdout).green(`${log}: valid`)}, ${lines} line${lines === 1 ? '' : 's'} (a header and ${events} event${events === 1 ? '' : 's'})\n`,
    );
  return 0;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check the format of an event log without replaying it')
    .argument('<log>', 'event log, JSON Lines (docs/log-format.md)')
    .option('--json', 'print a machine-readable result')
    .option('-q, --quiet', 'print nothing on stdout')
    .addHelpText('after', '\nExit codes: 0 valid, 2 invalid (the first problem on stderr, file:line:column).')
    .action(async (log: string, opts: { json?: boolean; quiet?: boolean }) => {
      process.exitCode = await validateCommand(log, opts);
    });
}
