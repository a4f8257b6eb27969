/**
 * Replay: a fold of `step` over a validated log, checking the recorded results
 * (design "Layers" 4; docs/log-format.md, "Assertions").
 *
 * - `$<line>.<field>` references resolve against the actual outs of earlier lines.
 *   Only the outs of lines that some later line references are kept, so memory is
 *   proportional to what the log needs, not to its length.
 * - `ret`, when given, must equal the actual return value exactly; each key of `out`,
 *   when given, must match the actual out field (values.ts `matches`); out fields
 *   the log does not give are not compared.
 * - With invariants (`--check`), they run after every event; the first event after
 *   which one does not hold stops the replay, like a divergence. With `checkEvery` n > 1
 *   they run after every n-th event and the last; a violation there is narrowed down by a
 *   second replay that checks every event since the last check that held, so the report is
 *   the one checking every event gives, unless a violation came and went between two checks.
 * - The first failure stops the replay. Its report names the objects involved: the
 *   kfd process of the caller (and of the file the call was issued on), and every
 *   task, object, file and GEM object the failing event changed. Those are found by
 *   replaying the log again up to the line before (replay is deterministic), so the
 *   normal path pays nothing for them.
 * - A reference to a field that the actual out of its line lacks is bad input (a
 *   LogError naming both lines), not a divergence.
 *
 * This module is the loop over a whole log, in memory (`replay`) or streamed from a file
 * (`replayFile`); one event is stepped by the Replayer (replayer.ts), references resolve in
 * resolve.ts, and what a failure reports is divergence.ts and involvement.ts.
 */
import type { Invariant } from '../invariants/index.js';
import type { World } from '../world/types.js';
import type { Divergence, InvariantFailure, ReplayReport } from './divergence.js';
import type { LogLine } from './event-fields.js';
import type { LogHeader } from './header.js';
import { involvement } from './involvement.js';
import { fileSize, progressCounter, readLogBatches, readLogLines, referencedLinesOfFile } from './read-file.js';
import { ReadThread, useReadThread } from './read-thread.js';
import type { LogItem, ReadOptions } from './reader.js';
import { referencedLines } from './refs.js';
import { Replayer, type ReplayerOptions } from './replayer.js';
import { checkContinuation } from './snapshot.js';
import { type CheckSchedule, endOfLog, narrowing, scheduleOf } from './check-schedule.js';

export type { Divergence, InvariantFailure, ReplayReport } from './divergence.js';
export { type Change, compareIds, type InvolvedProcess, type Involvement, involvement } from './involvement.js';
export { Replayer, type ReplayerOptions } from './replayer.js';

export interface ReplayOptions {
  /** Name of the log in messages (default "<log>"). */
  file?: string;
  /** Lines whose outs later lines reference; computed from the events when absent. */
  referenced?: ReadonlySet<number>;
  /** Continue from this world (a restored snapshot) instead of a fresh one; it is changed in place. */
  world?: World;
  /** Check these invariants after every event. */
  invariants?: readonly Invariant[];
  /** Check them after every `checkEvery`-th event and the last only (default 1; see the module comment). */
  checkEvery?: number;
  /** Stop after the event on this line. */
  until?: number;
  /** Name the objects a failure involves (default true; costs a second replay up to the failing line). */
  involve?: boolean;
  /** False: apply the events without checking their ret/out assertions. */
  assertions?: boolean;
}

/** A Replayer of a whole log: on `world` when given (a restored snapshot), else on a fresh world from the header. */
function replayerFor(
  header: LogHeader,
  file: string,
  referenced: ReadonlySet<number>,
  invariants: readonly Invariant[] | undefined,
  world?: World,
  schedule: CheckSchedule = { every: 1 },
): Replayer {
  const o: ReplayerOptions = { invariants: invariants ?? [], checkEvery: schedule.every };
  if (schedule.from !== undefined) o.checkFrom = schedule.from;
  if (world) o.world = world;
  return new Replayer(header, file, referenced, o);
}

function failureOf(r: {
  divergence?: Divergence;
  violation?: InvariantFailure;
}): Divergence | InvariantFailure | undefined {
  return r.divergence ?? r.violation;
}

/**
 * What replay and replayFile do with each event, whatever the events come from: stop at
 * `until`, or step and stop at the first failure. Undefined to go on; otherwise the final
 * report and, for a failure, the failure to name the involved objects of (each caller
 * replays its own source again up to the failing line for that: see `involve`).
 */
function loopStep(
  rp: Replayer,
  ev: LogLine,
  opts: { until?: number; assertions?: boolean },
): { report: ReplayReport; failure?: Divergence | InvariantFailure } | undefined {
  if (opts.until !== undefined && ev.line > opts.until) {
    const skipped = endOfLog(rp);
    if (skipped.failure) return skipped;
    skipped.report.until = opts.until;
    return skipped;
  }
  const r = rp.step(ev, opts.assertions !== false);
  const failure = failureOf(r);
  return failure ? { report: rp.report(r), failure } : undefined;
}

/** Name what a failure involves: the world before the failing line (`before`) against the world after it. */
function involve(failure: Divergence | InvariantFailure, before: World, rp: Replayer): void {
  failure.involved = involvement(before, rp.world, rp.lastCall!);
}

/** Replay validated events (from readLog) on a fresh world built from the header (or `opts.world`). */
export function replay(header: LogHeader, events: Iterable<LogLine>, opts: ReplayOptions = {}): ReplayReport {
  const list: LogLine[] = Array.isArray(events) ? (events as LogLine[]) : [...events];
  return replayList(header, list, opts, scheduleOf(opts));
}

function replayList(header: LogHeader, list: LogLine[], opts: ReplayOptions, schedule: CheckSchedule): ReplayReport {
  const referenced = opts.referenced ?? referencedLines(list);
  const file = opts.file ?? '<log>';
  checkContinuation(header, opts.world, file);
  const involveOn = opts.involve !== false;
  const start = opts.world && (involveOn || schedule.every > 1) ? structuredClone(opts.world) : undefined;
  const rp = replayerFor(header, file, referenced, opts.invariants, opts.world, schedule);
  let end: ReturnType<typeof loopStep> | undefined;
  for (const ev of list) if ((end = loopStep(rp, ev, opts))) break;
  end ??= endOfLog(rp);
  if (!end.failure) return end.report;
  const window = narrowing(rp, end.failure);
  if (window) {
    const again: ReplayOptions = { ...opts, until: window.until };
    if (start) again.world = structuredClone(start);
    return replayList(header, list, again, { every: Infinity, from: window.from });
  }
  if (involveOn) {
    const again = replayerFor(header, file, referenced, opts.invariants, start ? structuredClone(start) : undefined);
    for (const e of list) {
      if (e.line >= end.failure.line) break;
      again.apply(e);
    }
    involve(end.failure, again.world, rp);
  }
  return end.report;
}

export interface ReplayFileOptions {
  /** Name of the log in messages (default: the path). */
  file?: string;
  /** Continue from this world (a restored snapshot); it is changed in place. */
  world?: World;
  invariants?: readonly Invariant[];
  /** Check the invariants after every `checkEvery`-th event and the last only (ReplayOptions). */
  checkEvery?: number;
  until?: number;
  involve?: boolean;
  /**
   * Progress: bytes read and replayed of the file's size ('validate' only for a log with `\\u`
   * escapes, read twice; 'recheck' for the second pass of `checkEvery`, which reads the file
   * again up to a failure).
   */
  onProgress?: (phase: 'validate' | 'replay' | 'recheck', done: number, total: number) => void;
  /** False: apply the events without checking their ret/out assertions (gpucr state). */
  assertions?: boolean;
  /** Called with the header once it has been validated, before any event is replayed. */
  onHeader?: (header: LogHeader) => void;
  /**
   * Read and validate the file on a second thread (read-thread.ts): 'auto' (the default)
   * for a file of 8 MiB or more on a machine with two cores or more.
   */
  readThread?: 'auto' | 'always' | 'never';
}

/**
 * The lines of a log file whose outs later lines reference: by a byte scan (no JSON
 * parse), or, for a log whose `\u` escapes could hide a reference, by validating it in a
 * first full pass.
 */
async function referencedOfFile(
  path: string,
  file: string,
  size: number,
  progress: ReplayFileOptions['onProgress'],
): Promise<ReadonlySet<number>> {
  const scanned = await referencedLinesOfFile(path, file);
  if (scanned !== null) return scanned;
  const referenced = new Set<number>();
  const readOpts: ReadOptions = {};
  if (progress) readOpts.onLine = progressCounter(size, (done, total) => progress('validate', done, total));
  for await (const batch of readLogBatches(path, file, readOpts))
    for (const item of batch) if (item.event) for (const r of item.event.refs) referenced.add(r.line);
  return referenced;
}

/**
 * How replayFile reads: keeping the calls of the lines later lines reference, reporting
 * progress, and on a second thread when the file is large enough to repay it
 * (read-thread.ts), started before the scan for references so that the two overlap.
 */
async function openBatches(
  path: string,
  file: string,
  opts: ReplayFileOptions,
): Promise<{ referenced: ReadonlySet<number>; batches: AsyncGenerator<LogItem[]>; stop: () => Promise<void> }> {
  const size = fileSize(path);
  const thread = useReadThread(size, opts.readThread) ? new ReadThread(path, file) : undefined;
  let referenced: ReadonlySet<number>;
  try {
    referenced = await referencedOfFile(path, file, size, opts.onProgress);
  } catch (e) {
    await thread?.terminate();
    throw e;
  }
  const progress = opts.onProgress;
  const onChars = progress && progressCounter(size, (done, total) => progress('replay', done, total));
  if (thread) return { referenced, batches: thread.batches(referenced, onChars), stop: () => thread.terminate() };
  const readOpts: ReadOptions & { keep: ReadonlySet<number> } = { keep: referenced };
  if (onChars) readOpts.onLine = onChars;
  return { referenced, batches: readLogBatches(path, file, readOpts), stop: async () => {} };
}

/** The world before line `line` of a log file: the file read again and replayed up to it (replay is deterministic). */
async function fileWorldBefore(
  path: string,
  file: string,
  line: number,
  make: (header: LogHeader) => Replayer,
): Promise<World> {
  let again: Replayer | undefined;
  for await (const it of readLogLines(path, file)) {
    if (it.header) again = make(it.header);
    else if (it.event.line >= line) break;
    else again!.apply(it.event);
  }
  return again!.world;
}

/**
 * Replay a log file in one streaming pass that validates each line as it reaches it.
 * A byte scan first (referencedLinesOfFile, no JSON parse) finds the lines whose outs
 * later lines reference, so that only those are kept; a log whose `\u` escapes could hide
 * a reference is validated in a first full pass instead. Neither keeps the log in memory.
 * A malformed line is bad input (a LogError) whenever the replay reaches it; a failure on
 * an earlier line stops the replay first (docs/log-format.md, "Replay").
 */
export async function replayFile(path: string, opts: ReplayFileOptions = {}): Promise<ReplayReport> {
  return replayFileWith(path, opts, scheduleOf(opts));
}

async function replayFileWith(path: string, opts: ReplayFileOptions, schedule: CheckSchedule): Promise<ReplayReport> {
  const file = opts.file ?? path;
  const involveOn = opts.involve !== false;
  const start = opts.world && (involveOn || schedule.every > 1) ? structuredClone(opts.world) : undefined;
  const { referenced, batches, stop } = await openBatches(path, file, opts);
  // The reader thread ends with the batches' iteration; `stop` makes sure of it on every path.
  let end: { report: ReplayReport; failure?: Divergence | InvariantFailure; rp: Replayer };
  try {
    end = await replayItems(file, opts, { referenced, batches, schedule });
  } finally {
    await stop();
  }
  if (!end.failure) return end.report;
  const window = narrowing(end.rp, end.failure);
  if (window) {
    const again: ReplayFileOptions = { ...opts, until: window.until };
    if (start) again.world = structuredClone(start);
    const progress = opts.onProgress;
    if (progress)
      again.onProgress = (phase, done, total) => progress(phase === 'replay' ? 'recheck' : phase, done, total);
    return replayFileWith(path, again, { every: Infinity, from: window.from });
  }
  if (involveOn) {
    const before = await fileWorldBefore(path, file, end.failure.line, (h) =>
      replayerFor(h, file, referenced, opts.invariants, start ? structuredClone(start) : undefined),
    );
    involve(end.failure, before, end.rp);
  }
  return end.report;
}

/** replayFile's loop over the batches (the header, then each event until the end or a failure). */
async function replayItems(
  file: string,
  opts: ReplayFileOptions,
  r: { referenced: ReadonlySet<number>; batches: AsyncGenerator<LogItem[]>; schedule: CheckSchedule },
): Promise<{ report: ReplayReport; failure?: Divergence | InvariantFailure; rp: Replayer }> {
  let rp: Replayer | undefined;
  for await (const batch of r.batches) {
    for (const item of batch) {
      if (item.header) {
        checkContinuation(item.header, opts.world, file);
        opts.onHeader?.(item.header);
        rp = replayerFor(item.header, file, r.referenced, opts.invariants, opts.world, r.schedule);
        continue;
      }
      const end = loopStep(rp!, item.event, opts);
      if (end) return { ...end, rp: rp! };
    }
  }
  return { ...endOfLog(rp!), rp: rp! };
}
