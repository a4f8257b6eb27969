/**
 * The recorded log of `gpucr run` (run.ts), line by line. It exists because an orchestration
 * event moves the output's lines away from the script's: the event's issued calls are written
 * right after it, so every later line lands further down, and a `by` in the output must name
 * the output's line of its orchestration event, not the script's. The recorder keeps that
 * mapping for the lines a `by` names only, so that its memory follows them, not the script's
 * length.
 */
import { orchestrationLines } from '../criu/orchestrate-log.js';
import type { LogLine } from '../log/event-fields.js';
import type { LogWriter } from '../log/writer.js';
import type { Call } from '../world/types.js';

/** Writes each applied script line to the recorded log, orchestration events with their issued calls. */
export class RunRecorder {
  /** The output's line of each script line a `by` names. */
  private readonly outputLine = new Map<number, number>();
  /** Per named orchestration line: the output lines of its issued calls, and how many script lines took theirs. */
  private readonly issuedLines = new Map<number, { lines: number[]; taken: number }>();

  constructor(
    private readonly writer: LogWriter,
    /** Lines that a later line names with `by`: the only ones whose output line must be kept. */
    private readonly named: ReadonlySet<number>,
  ) {}

  /** Record script line `ev`, applied as `call` with result `r`. */
  record(ev: LogLine, call: Call, r: { ret: number; out: Record<string, unknown> }): void {
    const issued = ev.by === undefined ? undefined : this.issuedLines.get(ev.by);
    if (issued) {
      // written with its orchestration line (the replayer checked it is the call issued there)
      this.keep(ev.line, issued.lines[issued.taken++]!);
      return;
    }
    const w = this.writer;
    if (Array.isArray(r.out.issued)) {
      const [first, ...calls] = orchestrationLines(call, r.ret, r.out, w.line + 1);
      this.keep(ev.line, w.appendLine(first!));
      const lines = calls.map((l) => w.appendLine(l));
      if (this.named.has(ev.line)) this.issuedLines.set(ev.line, { lines, taken: 0 });
      return;
    }
    this.keep(ev.line, w.append(call, r, ev.by === undefined ? undefined : this.outputLine.get(ev.by)));
  }

  /** Remember script line `line`'s output line `at` if a `by` names it. */
  private keep(line: number, at: number): void {
    if (this.named.has(line)) this.outputLine.set(line, at);
  }
}
