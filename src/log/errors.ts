/**
 * Errors of the event log: an InputError that knows the file, the 1-based line and
 * the 1-based column of the offending key or value (docs/log-format.md, "Error messages").
 *
 *   trace.jsonl:1234:17: args.size: expected an unsigned 64-bit integer, found "0xZZ"
 */
import { describe, InputError } from '../errors.js';

const PREVIEW = 60;

/**
 * A short rendering of an offending value that is safe on any JSON tree: bounded in
 * depth and length, so a 10-million-deep nesting or a huge array cannot overflow the
 * stack or the message (InputError's `describe` stringifies the whole value).
 */
export function preview(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return describe(v);
  const budget = { n: PREVIEW + 1 };
  const s = render(v, 0, budget);
  return s.length > PREVIEW ? `${s.slice(0, PREVIEW - 3)}...` : s;
}

function render(v: unknown, depth: number, budget: { n: number }): string {
  if (budget.n <= 0) return '';
  let s: string;
  if (typeof v === 'bigint') s = `${v}`;
  else if (v instanceof Uint8Array) s = JSON.stringify(Buffer.from(v.subarray(0, PREVIEW)).toString('hex'));
  else if (Array.isArray(v)) {
    if (depth >= 8) s = '[...]';
    else {
      const parts: string[] = [];
      for (const x of v) {
        if (budget.n <= 0) break;
        parts.push(render(x, depth + 1, budget));
      }
      s = `[${parts.join(',')}]`;
    }
  } else if (typeof v === 'object' && v !== null) {
    if (depth >= 8) s = '{...}';
    else {
      const parts: string[] = [];
      for (const k of Object.keys(v)) {
        if (budget.n <= 0) break;
        parts.push(`${JSON.stringify(k)}:${render((v as Record<string, unknown>)[k], depth + 1, budget)}`);
      }
      s = `{${parts.join(',')}}`;
    }
  } else s = typeof v === 'string' ? JSON.stringify(v.length > PREVIEW ? v.slice(0, PREVIEW) : v) : String(v);
  budget.n -= s.length;
  return s;
}

export class LogError extends InputError {
  constructor(
    /** The log file as named by the caller (a path, or a label such as "<text>"). */
    readonly file: string,
    /** 1-based line of the file; line 1 is the header. */
    readonly line: number,
    /** 1-based column of the offending key or value in the line (1 when unknown). */
    readonly column: number,
    /** Path of the offending value inside the record ("args.bos[0].handle"), or "" for the whole line. */
    readonly path: string,
    expected: string,
    /** The offending value (for messages it is rendered with `preview`). */
    override readonly found: unknown,
  ) {
    // InputError would render `found` with describe(), which is not bounded in depth.
    super(`${file}:${line}:${column}${path ? `: ${path}` : ''}`, expected, undefined);
    this.message = `${this.where}: expected ${expected}, found ${preview(found)}`;
    this.name = 'LogError';
  }
}

/**
 * The last line of a log file is not a complete record: it has no newline at its
 * end (a write cut short by a crash), or it is not valid JSON. Reported as
 *
 *   trace.jsonl:7: torn last record (no newline at its end; `gpucr repair trace.jsonl` removes it)
 */
export class TornRecordError extends LogError {
  constructor(
    file: string,
    line: number,
    /** Why the line is torn, for people. */
    readonly reason: string,
  ) {
    super(file, line, 1, '', 'a complete last record', undefined);
    this.message = `${file}:${line}: torn last record (${reason}; \`gpucr repair ${file}\` removes it)`;
    this.name = 'TornRecordError';
  }
}

/**
 * A call failed inside gpucr on a world the caller gave (a `--from` snapshot). The snapshot
 * loader checks each context's fields, ranges and ids (src/log/snapshot-contexts.ts), not
 * every agreement between objects (a bo_va's mappings and its VM's interval index, say),
 * so a hand-edited snapshot can pass it and still hold a world no call sequence makes.
 * Reported as bad input on the line, with what failed; a snapshot gpucr wrote never does
 * this, and the message says that if it did, it is a gpucr bug.
 */
export class InconsistentWorldError extends LogError {
  constructor(file: string, line: number, call: string, cause: unknown) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super(file, line, 1, 'snapshot', 'a --from world whose objects agree with each other', what);
    this.message =
      `${file}:${line}: the --from snapshot's world cannot take ${call}: applying or checking it failed inside gpucr ` +
      `(${what.length > 200 ? `${what.slice(0, 197)}...` : what}). Its objects disagree with each other, ` +
      'which no snapshot gpucr writes does: was it edited? If not, please report this as a gpucr bug.';
    this.name = 'InconsistentWorldError';
  }
}
