/**
 * The event log writer (design "Layers" 4; docs/log-format.md, "Writing logs").
 *
 * Every event is written as one line with its `ret` and `out` (and `by` for events
 * issued by an orchestration event), in a stable form: keys in the order
 * pid, call, fd, args, ret, out, by; argument and out fields in the order of the
 * call's schema (C struct order); values in the log encoding (`encodeField`:
 * integers beyond 2^53−1 as "0x…" strings, byte buffers as hex), with flag words and
 * enumerations of `args` written by name when every bit has one.
 *
 * Durability: records are buffered and written with write(2); every `syncEvery`
 * records (and on `flush()` and `close()`) the buffer is written out and fsync'd,
 * and only then is the batch reported durable (`onDurable`). A record is complete
 * only with its newline, and a newline is only ever written as the last byte of a
 * record, so a crash (or SIGKILL) at any point leaves complete records and at most
 * one torn last line without a newline, which the reader reports
 * (`file:LINE: torn last record`) and `gpucr repair` removes.
 *
 * This module imports no handler: a process that only records (or the crash test's
 * child) stays small. Calls without a registered schema are encoded generically.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { callDef } from '../ioctls/registry.js';
import { encodeField, type FieldType, isRecord } from '../ioctls/schema.js';
import { encodeValue, setOwn } from './encode-value.js';
import type { Call, FdRef } from '../world/types.js';
import type { LogHeader } from './reader.js';

/** The result of a call as the writer records it. */
export interface RecordResult {
  ret: number;
  out: Record<string, unknown>;
}

export { encodeValue } from './encode-value.js';

/** Keys of an event line, in the order the writer writes them. */
export const RECORD_KEYS = ['pid', 'call', 'fd', 'args', 'ret', 'out', 'by'] as const;

function fdText(fd: FdRef): number | string {
  return typeof fd === 'number' ? fd : `${fd.pid}:${fd.fd}`;
}

/**
 * One event line (without its newline): the call with its decoded arguments, and
 * optionally its result and the line of the event that issued it.
 */
export function formatRecord(event: Call, result?: RecordResult, by?: number): string {
  const def = callDef(event.call);
  const schema: FieldType | undefined = def ? { t: 'struct', fields: def.args } : undefined;
  const rec: Record<string, unknown> = {};
  if (event.pid !== undefined) rec.pid = event.pid;
  rec.call = event.call;
  if (event.fd !== undefined) rec.fd = fdText(event.fd);
  rec.args = encodeValue(schema, event.args, true);
  if (result) {
    rec.ret = result.ret;
    const out: Record<string, unknown> = {};
    const keys = def ? [...def.out.filter((k) => Object.hasOwn(result.out, k))] : [];
    for (const k of Object.keys(result.out).sort()) if (!keys.includes(k)) keys.push(k);
    for (const k of keys) {
      if (result.out[k] === undefined) continue;
      const type = def && Object.hasOwn(def.args, k) ? def.args[k] : undefined;
      setOwn(out, k, encodeValue(type, result.out[k], false));
    }
    rec.out = out;
  }
  if (by !== undefined) rec.by = by;
  return JSON.stringify(rec);
}

export interface WriterOptions {
  /** fsync after this many records (default 64); 0 syncs only on flush() and close(). */
  syncEvery?: number;
  /** Called after each fsync with the line number of the last durable record. */
  onDurable?: (line: number) => void;
  /**
   * Bytes per write(2) at most (default: a whole batch at once). Only the crash
   * test sets it, so that a kill can land inside a record.
   */
  maxWrite?: number;
  /** Buffered bytes that trigger a write(2) between syncs (default 1 MiB). */
  bufferBytes?: number;
}

/** fsync a directory, so that a file created in it survives a crash. */
export function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the file's own fsync still holds.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Appends events to a log file; see the module comment for the durability rule. */
export class LogWriter {
  private buf: string[] = [];
  private bufBytes = 0;
  private pending = 0;
  private closed = false;
  private readonly syncEvery: number;
  private readonly maxWrite: number;
  private readonly bufferBytes: number;

  private constructor(
    readonly path: string,
    private fd: number,
    /** Line number of the last line appended (the header is line 1). */
    public line: number,
    private readonly opts: WriterOptions,
  ) {
    this.syncEvery = opts.syncEvery ?? 64;
    this.maxWrite = opts.maxWrite ?? Number.POSITIVE_INFINITY;
    this.bufferBytes = opts.bufferBytes ?? 1 << 20;
  }

  /**
   * Create (or truncate) a log and write its header line durably. `header` is the
   * header in its log form (`{"gpucr":1,"topology":…}`; see encodeHeader).
   */
  static create(path: string, header: Record<string, unknown>, opts: WriterOptions = {}): LogWriter {
    const fd = openSync(path, 'w');
    const w = new LogWriter(path, fd, 0, opts);
    w.writeOut(`${JSON.stringify(header)}\n`);
    fsyncSync(fd);
    fsyncDir(dirname(path));
    w.line = 1;
    return w;
  }

  /**
   * Continue a log that has `lines` complete lines (the caller validated it, e.g.
   * with readLogLines; a torn last line must have been repaired first).
   */
  static append(path: string, lines: number, opts: WriterOptions = {}): LogWriter {
    return new LogWriter(path, openSync(path, 'a'), lines, opts);
  }

  /** Append one event with its result; returns its line number. */
  append(event: Call, result: RecordResult, by?: number): number {
    return this.appendLine(formatRecord(event, result, by));
  }

  /** Append one line of text that is already a valid event record (no newline in it). */
  appendLine(text: string): number {
    if (this.closed) throw new Error('LogWriter: append after close');
    if (text.includes('\n')) throw new Error('LogWriter: a record must be one line');
    this.buf.push(text, '\n');
    this.bufBytes += text.length + 1;
    this.line += 1;
    this.pending += 1;
    if (this.syncEvery > 0 && this.pending >= this.syncEvery) this.flush();
    else if (this.bufBytes >= this.bufferBytes) this.writeBuffered();
    return this.line;
  }

  /** Write out and fsync everything appended so far; reports it durable. */
  flush(): void {
    if (this.closed) return;
    this.writeBuffered();
    if (this.pending > 0) {
      fsyncSync(this.fd);
      this.pending = 0;
      this.opts.onDurable?.(this.line);
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private writeBuffered(): void {
    if (this.buf.length === 0) return;
    const text = this.buf.join('');
    this.buf = [];
    this.bufBytes = 0;
    this.writeOut(text);
  }

  private writeOut(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < bytes.length) {
      const n = writeSync(this.fd, bytes, off, Math.min(bytes.length - off, this.maxWrite));
      off += n;
    }
  }
}

/** u64 values of the header as the log writes them. */
function headerValue(v: unknown): unknown {
  if (typeof v === 'bigint') return encodeField({ t: 'u64' }, v);
  if (Array.isArray(v)) return v.map(headerValue);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setOwn(out, k, headerValue(v[k]));
    return out;
  }
  return v;
}

/**
 * A parsed header in its log form, every topology field given (defaults filled in);
 * `processes`, `variants`, `seed` and `snapshot` only when the header has them.
 */
export function encodeHeader(h: LogHeader): Record<string, unknown> {
  const { processes, ...topology } = h.topology;
  const out: Record<string, unknown> = { gpucr: 1, topology: headerValue(topology) };
  if (processes.length > 0) out.processes = headerValue(processes);
  if (Object.keys(h.variants).length > 0) out.variants = { ...h.variants };
  if (h.seed !== undefined) out.seed = h.seed;
  if (h.snapshot !== undefined) out.snapshot = h.snapshot;
  return out;
}
