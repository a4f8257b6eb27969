/**
 * `gpucr run <script> -o <out>`: apply a log's events without checking its
 * assertions and write the recorded log: every event with the `ret` and `out` the
 * model gave (src/log/writer.ts). References are resolved (the recorded log carries
 * the actual values). An orchestration event (criu.dump, criu.restore) is written as a log
 * writes it (docs/log-format.md "Orchestration events"): its line without `out.issued`, then
 * each call it issued with `by`; the script's own lines with `by` on it are checked against
 * those calls and not written again. The output is written to a temporary file and
 * renamed over `<out>` at the end, so a run that stops on bad input leaves `<out>`
 * as it was.
 */
import { renameSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { fileSize, progressCounter, readLogBatches } from '../log/read-file.js';
import { ReadThread, useReadThread } from '../log/read-thread.js';
import type { LogHeader, ReadOptions } from '../log/reader.js';
import { Replayer } from '../log/replay.js';
import { checkContinuation } from '../log/snapshot.js';
import { encodeHeader, fsyncDir, LogWriter } from '../log/writer.js';
import { dirname } from 'node:path';
import { stableJson } from './output.js';
import { readSnapshotFile } from './replay.js';
import { RunRecorder } from './run-recorder.js';
import { colors, Progress } from './style.js';

export interface RunCliOptions {
  output: string;
  json?: boolean;
  quiet?: boolean;
  from?: string;
}

export interface RunSummary {
  events: number;
  /** Events that returned an errno. */
  errors: number;
}

export interface RunScriptOptions {
  /** Apply the script to this world snapshot file instead of a fresh world. */
  from?: string;
  /** Name of the script in messages (default: its path). */
  file?: string;
  /** As replayFile's (docs/log-format.md "The reader thread"). */
  readThread?: 'auto' | 'always' | 'never';
  /** Progress: bytes validated of the script's size, then events applied of its events. */
  onProgress?: (phase: 'validate' | 'run', done: number, total: number) => void;
}

/** What the validation pass learns of a script before it is applied. */
interface ScriptIndex {
  /** Its events. */
  total: number;
  /** Lines that references name (the replayer keeps their outs). */
  referenced: Set<number>;
  /** Lines that a later line names with `by`: the only ones whose output line must be kept. */
  named: Set<number>;
}

/** The validation pass: read `script` whole, counting its events and the lines references and `by` name. */
async function indexScript(
  script: string,
  file: string,
  size: number,
  progress: RunScriptOptions['onProgress'],
): Promise<ScriptIndex> {
  const index: ScriptIndex = { total: 0, referenced: new Set(), named: new Set() };
  const readOpts: ReadOptions = {};
  if (progress) readOpts.onLine = progressCounter(size, (done, all) => progress('validate', done, all));
  for await (const batch of readLogBatches(script, file, readOpts))
    for (const item of batch) {
      if (item.event) {
        index.total += 1;
        for (const r of item.event.refs) index.referenced.add(r.line);
        if (item.event.by !== undefined) index.named.add(item.event.by);
      }
    }
  return index;
}

/** Create the temporary output `tmp` with the script's header; `out` names it in the error. */
function createOutput(tmp: string, out: string, header: LogHeader): LogWriter {
  try {
    return LogWriter.create(tmp, encodeHeader(header), { syncEvery: 0 });
  } catch (e) {
    throw new InputError(out, 'a writable output file', (e as NodeJS.ErrnoException).code ?? String(e));
  }
}

/**
 * Apply `script` and record it to `out` (library form of the command). The script is
 * validated whole first (counting its events and finding the lines references name), then
 * read again and applied, on a second thread for a large script as `gpucr replay` reads
 * (docs/log-format.md "The reader thread").
 */
export async function runScript(script: string, out: string, opts: RunScriptOptions = {}): Promise<RunSummary> {
  const file = opts.file ?? script;
  const world = opts.from !== undefined ? readSnapshotFile(opts.from) : undefined;
  // A file that cannot be read is reported by the reader below, with its message.
  const size = fileSize(script);
  const progress = opts.onProgress;
  const { total, referenced, named } = await indexScript(script, file, size, progress);
  const tmp = `${out}.tmp-${process.pid}`;
  let writer: LogWriter | undefined;
  let recorder: RunRecorder | undefined;
  let rp: Replayer | undefined;
  let errors = 0;
  const thread = useReadThread(size, opts.readThread) ? new ReadThread(script, file) : undefined;
  try {
    for await (const batch of thread ? thread.batches(referenced) : readLogBatches(script, file))
      for (const item of batch) {
        if (item.header) {
          const header: LogHeader = item.header;
          checkContinuation(header, world, file);
          rp = new Replayer(header, file, referenced, world ? { world } : {});
          writer = createOutput(tmp, out, header);
          recorder = new RunRecorder(writer, named);
          continue;
        }
        const ev = item.event;
        const r = rp!.apply(ev);
        if (r.ret !== 0) errors += 1;
        recorder!.record(ev, rp!.lastCall!, r);
        if ((rp!.events & 1023) === 0) progress?.('run', rp!.events, total);
      }
    writer!.close();
    renameSync(tmp, out);
    fsyncDir(dirname(out));
  } catch (e) {
    writer?.close();
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    await thread?.terminate();
  }
  return { events: rp?.events ?? 0, errors };
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('apply a log without checking its assertions and write the recorded log with every result')
    .argument('<script>', 'event log, JSON Lines (docs/log-format.md); its ret/out assertions are ignored')
    .requiredOption('-o, --output <out>', 'the recorded log to write (replaced whole at the end)')
    .option('--from <snapshot>', 'apply the script to a world snapshot instead of a fresh world')
    .option('--json', 'print a machine-readable summary')
    .option('-q, --quiet', 'print nothing on stdout')
    .addHelpText('after', '\nExit codes: 0 every event was applied and recorded, 2 bad input (message on stderr).')
    .action(async (script: string, opts: RunCliOptions) => {
      const bar = new Progress({ enabled: opts.quiet !== true && opts.json !== true });
      const runOpts: RunScriptOptions = {
        onProgress: (phase, done, total) =>
          phase === 'validate' ? bar.update('validating', done, total) : bar.update('running', done, total, 'events'),
      };
      if (opts.from !== undefined) runOpts.from = opts.from;
      let s: RunSummary;
      try {
        s = await runScript(script, opts.output, runOpts);
      } finally {
        bar.stop();
      }
      if (opts.json) process.stdout.write(`${stableJson({ script, output: opts.output, ...s })}\n`);
      else if (!opts.quiet) {
        const c = colors(process.stdout);
        process.stdout.write(
          `${c.green(`${script}: ${s.events} event${s.events === 1 ? '' : 's'} applied`)} (${s.errors} returned an errno), recorded to ${opts.output}\n`,
        );
      }
      process.exitCode = 0;
    });
}
