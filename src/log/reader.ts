/**
 * The event log reader (design "Event log format, version 1"; docs/log-format.md).
 *
 * Every line is validated on its own as it is read — JSON syntax, keys, the call,
 * pid, fd, ret, by, the `$` references (statically: they must name an earlier event
 * line whose call has that out field) and the arguments against the call's schema —
 * and any problem is a LogError `file:line:column: path: expected …, found …`.
 *
 * `LogParser` here is the line validator: it numbers the lines, refuses blank lines and
 * bad JSON, and hands line 1 to the header checks (header.ts) and the others to the
 * checks of the event fields (event-fields.ts); JSON trees are walked by tree-scan.ts.
 * `readLog` reads a whole text; src/log/read-file.ts streams a file (`readLogBatches`,
 * `readLogLines`: a huge log never sits in memory). Both use `LogParser`.
 */
import '../ioctls/all.js';
import { callDef } from '../ioctls/registry.js';
import { EarlierCalls } from './earlier-calls.js';
import { LogError, TornRecordError } from './errors.js';
import {
  checkEventKeys,
  eventArgs,
  eventBy,
  eventFd,
  eventOut,
  eventPid,
  eventRet,
  type LogLine,
  NO_REFS,
} from './event-fields.js';
import { type LogHeader, parseHeader } from './header.js';
import { syntaxError } from './json.js';
import { lineError } from './line-error.js';
import { TreeScanner } from './tree-scan.js';

export { type LogHeader, VARIANT_VALUES } from './header.js';
export type { LogLine } from './event-fields.js';

export type LogItem = { header: LogHeader; event?: undefined } | { event: LogLine; header?: undefined };

/** Validates the lines of one log, in order. */
export class LogParser {
  private n = 0;
  private headerSeen = false;
  /** The call of every event line so far (or of the `keep` lines only), for the static check of references. */
  private readonly calls: EarlierCalls;
  /** Walks the JSON trees of each line and checks their references against `calls`. */
  private readonly trees: TreeScanner;

  /**
   * @param file  the name used in messages
   * @param total the number of lines of the file when known (better messages for references beyond it)
   * @param keep  the lines that later lines reference, when known (replay's pre-scan): only
   *              their calls are remembered, so memory does not grow with the log
   */
  constructor(
    readonly file: string,
    readonly total?: number,
    readonly keep?: ReadonlySet<number>,
  ) {
    this.calls = new EarlierCalls(keep);
    this.trees = new TreeScanner(file, total, this.calls);
  }

  /** Lines validated so far. */
  get lines(): number {
    return this.n;
  }

  /** Validate the next line: the header on line 1, an event after. */
  next(text: string): LogItem {
    this.n += 1;
    const n = this.n;
    if (n === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // A blank line. trim() copies the line, so it runs only on a line that starts with a
    // space, a control or a non-ASCII character (the ones trim() may remove).
    const c0 = text.charCodeAt(0);
    if (text.length === 0 || ((c0 <= 0x20 || c0 >= 0x7f) && text.trim() === ''))
      throw new LogError(
        this.file,
        n,
        1,
        '',
        n === 1 ? 'a header line {"gpucr":1,"topology":…}' : 'an event line (blank lines are not allowed)',
        text,
      );
    const value = this.parseJson(text, n);
    if (n === 1) {
      this.headerSeen = true;
      return { header: parseHeader(value, text, this.trees) };
    }
    return { event: this.event(value, text, n) };
  }

  /**
   * Validate the last line of a file. A last line without its newline, or one that
   * is not valid JSON (or blank), is a torn record: a write cut short.
   */
  last(text: string, newline: boolean): LogItem {
    if (!newline) throw new TornRecordError(this.file, this.n + 1, 'no newline at its end');
    try {
      return this.next(text);
    } catch (e) {
      if (e instanceof LogError && (e.path === 'JSON' || text.trim() === ''))
        throw new TornRecordError(
          this.file,
          e.line,
          e.path === 'JSON'
            ? `not valid JSON: column ${e.column}: ${e.message.replace(/^.*?: JSON: /, '')}`
            : 'a blank line',
        );
      throw e;
    }
  }

  /** Call after the last line: a file without lines has no header. */
  end(): void {
    if (!this.headerSeen) throw new LogError(this.file, 1, 1, '', 'a header line {"gpucr":1,"topology":…}', undefined);
  }

  private parseJson(text: string, n: number): unknown {
    try {
      return JSON.parse(text);
    } catch (e) {
      if (!(e instanceof SyntaxError))
        throw new LogError(this.file, n, 1, '', 'a JSON value V8 can parse', (e as Error).message);
      const p = syntaxError(text);
      const offset = p?.offset ?? 0;
      throw new LogError(this.file, n, offset + 1, 'JSON', p?.expected ?? 'valid JSON', p ? p.found : text);
    }
  }

  /**
   * An event line, field by field (event-fields.ts), in the order the messages depend on;
   * a valid line's call is remembered for the reference checks of later lines.
   */
  private event(v: unknown, text: string, n: number): LogLine {
    const file = this.file;
    checkEventKeys(v, file, n, text);
    const call = v.call;
    if (call === undefined) lineError(file, n, text, ['call'], 'a call name', undefined);
    if (typeof call !== 'string') lineError(file, n, text, ['call'], 'a call name', call);
    const def = callDef(call);
    if (!def) lineError(file, n, text, ['call'], 'a call gpucr models', call);
    const event: LogLine = { line: n, call, refs: NO_REFS };
    if (v.pid !== undefined) event.pid = eventPid(v.pid, file, n, text);
    else if (def.needsPid) lineError(file, n, text, ['pid'], `a pid (${call} is issued by a process)`, undefined);
    if (v.fd !== undefined) event.fd = eventFd(v.fd, file, n, text);
    if (v.ret !== undefined) event.ret = eventRet(v.ret, file, n, text);
    if (v.by !== undefined) event.by = eventBy(v.by, file, n, text);
    if (v.out !== undefined) event.out = eventOut(v.out, def, this.trees, n, text);
    eventArgs(event, def, v.args, this.trees, n, text);
    // Remembered once the whole line is valid, with the definition looked up above.
    this.calls.remember(n, def);
    return event;
  }
}

export interface ReadOptions {
  /**
   * Apply the torn-record rule to the last line (docs/log-format.md, "Torn records"):
   * it must end with a newline and be valid JSON. Files are always read with it
   * (readLogLines); a text in memory only when asked (default false).
   */
  requireNewline?: boolean;
  /** Called with the size of each line read, newline included (progress reporting; readLogLines only). */
  onLine?: (chars: number) => void;
}

/** Read and validate a whole log text. */
export function readLog(text: string, file: string, opts: ReadOptions = {}): { header: LogHeader; events: LogLine[] } {
  // The line ends node:readline recognises, so that both readers number lines alike.
  const lines = text.split(/\r\n|\n|\r/);
  const newline = lines.length > 0 && lines[lines.length - 1] === '';
  if (newline) lines.pop();
  const parser = new LogParser(file, lines.length);
  let header: LogHeader | undefined;
  const events: LogLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const item =
      opts.requireNewline && i === lines.length - 1
        ? parser.last(raw, newline && text.endsWith('\n'))
        : parser.next(raw);
    if (item.header) header = item.header;
    else events.push(item.event);
  }
  parser.end();
  return { header: header!, events };
}
