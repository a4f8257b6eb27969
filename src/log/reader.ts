/**
 * The event log reader (design "Event log format, version 1"; docs/log-format.md).
 *
 * Every line is validated on its own as it is read — JSON syntax, keys, the call,
 * pid, fd, ret, by, the `$` references (statically: they must name an earlier event
 * line whose call has that out field) and the arguments against the call's schema —
 * and any problem is a LogError `file:line:column: path: expected …, found …`.
 *
 * `readLog` reads a whole text; src/log/read-file.ts streams a file (`readLogBatches`,
 * `readLogLines`: a huge log never sits in memory). Both use `LogParser`.
 */
import { InputError } from '../errors.js';
import '../ioctls/all.js';
import { type CallDef, callDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField, type FieldType, MAX_INLINE_ARRAY, zeroOf } from '../ioctls/schema.js';
import { parseTopology } from '../world/topology.js';
import type { FdRef, Topology, Variants } from '../world/types.js';
import { LogError, TornRecordError } from './errors.js';
import { formatPath, locate, type PathSegment, parsePath, syntaxError } from './json.js';
import { looksLikeRef, parseRef, type Ref, setAt } from './refs.js';
import { decodeExpected, FORBIDDEN_KEYS, isRecord, MAX_DEPTH, typeAt } from './values.js';

/** Line 1 of a log. */
export interface LogHeader {
  gpucr: 1;
  /** The validated topology with defaults filled in, including the header's `processes`. */
  topology: Topology;
  /** The variants the header names; the others take DEFAULT_VARIANTS. */
  variants: Partial<Variants>;
  seed?: number;
  /** The hash of the world snapshot this log continues from (replay needs it with --from). */
  snapshot?: string;
}

/** One event line, validated. */
export interface LogLine {
  /** 1-based line number in the file (events start at line 2). */
  line: number;
  call: string;
  pid?: number;
  fd?: FdRef;
  /** Decoded arguments (schema-typed, zero-filled); absent when the line has references. */
  args?: Record<string, unknown>;
  /** The arguments as written, when the line has references (decoded by replay once they resolve). */
  rawArgs?: Record<string, unknown>;
  /** The `$<line>.<field>` references of `args`, in the order they appear (empty for most lines). */
  refs: readonly Ref[];
  /** Expected return value (an assertion), if given. */
  ret?: number;
  /** Expected out fields (an assertion), decoded by their schema types, if given. */
  out?: Record<string, unknown>;
  /** The line of the orchestration event that issued this one, if any. */
  by?: number;
}

export type LogItem = { header: LogHeader; event?: undefined } | { event: LogLine; header?: undefined };

const HEADER_KEYS = ['gpucr', 'topology', 'processes', 'variants', 'seed', 'snapshot'] as const;
const EVENT_KEYS = ['pid', 'call', 'fd', 'args', 'ret', 'out', 'by'] as const;
const HEADER_KEY_SET: ReadonlySet<string> = new Set(HEADER_KEYS);
const EVENT_KEY_SET: ReadonlySet<string> = new Set(EVENT_KEYS);

/** Values each design variant accepts (src/world/types.ts Variants). */
export const VARIANT_VALUES: { readonly [K in keyof Variants]: readonly Variants[K][] } = {
  kernel: ['6.18', '6.17'],
  'kfd-restore-devices': ['fixed', 'fget-leak'],
  max_gpu_instance: [64, 16],
  ttm: ['fixed', 'unfixed-restore-drop'],
  i915: ['final', 'v2-restore-put'],
  'amdgpu-criu': ['upstream', 'criu-ioctl-v3'],
  'gem-change-handle': ['enabled', 'disabled'],
  resume: ['at-resume-devices-late', 'at-restore-file'],
  'kfd-process-info': ['evict-again', 'evict-once'],
  'kfd-restore-aql': ['halved-again', 'checkpointed-size'],
  'dump-abort': ['leave-paused', 'unpause'],
};

/** Largest pid, fd and int return value: pid_t and int are signed 32-bit. */
const INT_MAX = 0x7fffffff;
/** MAX_ERRNO (include/linux/err.h): a syscall returns 0 or -1..-4095. */
const MAX_ERRNO = 4095;

const NO_REFS: readonly Ref[] = Object.freeze([]);

/** Validates the lines of one log, in order. */
export class LogParser {
  private n = 0;
  private headerSeen = false;
  /**
   * The call of every event line so far, for the static check of references: an index
   * into `calls` per line (two bytes a line, not a pointer), or, when the lines that are
   * referenced are known beforehand (`keep`), only theirs.
   */
  private callIndex = new Uint16Array(1024);
  private readonly calls: CallDef[] = [];
  private readonly callNumber = new Map<CallDef, number>();
  private readonly kept = new Map<number, CallDef>();

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
  ) {}

  private remember(line: number, def: CallDef): void {
    if (this.keep) {
      if (this.keep.has(line)) this.kept.set(line, def);
      return;
    }
    let i = this.callNumber.get(def);
    if (i === undefined) {
      i = this.calls.push(def);
      this.callNumber.set(def, i);
    }
    if (line >= this.callIndex.length) {
      const grown = new Uint16Array(this.callIndex.length * 2);
      grown.set(this.callIndex);
      this.callIndex = grown;
    }
    this.callIndex[line] = i;
  }

  /** The call of an earlier event line (undefined when it was not remembered). */
  private callOf(line: number): CallDef | undefined {
    if (this.keep) return this.kept.get(line);
    const i = line < this.callIndex.length ? this.callIndex[line]! : 0;
    return i === 0 ? undefined : this.calls[i - 1];
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
      return { header: this.header(value, text) };
    }
    const event = this.event(value, text, n);
    this.remember(n, callDef(event.call)!);
    return { event };
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

  private fail(
    n: number,
    text: string,
    path: readonly PathSegment[],
    expected: string,
    found: unknown,
    at: 'value' | 'key' = 'value',
  ): never {
    const column = path.length === 0 ? 1 : locate(text, path, at) + 1;
    throw new LogError(this.file, n, column, formatPath(path), expected, found);
  }

  /** Re-throw an InputError of a schema or topology decoder as a LogError pointing into the line. */
  private rethrow(e: unknown, n: number, text: string): never {
    if (e instanceof LogError || !(e instanceof InputError)) throw e;
    const path = parsePath(e.where);
    let column = 1;
    if (path) {
      const last = path[path.length - 1];
      const aboutKey = typeof last === 'string' && e.found === last && /^(one of |no )/.test(e.expected);
      column = locate(text, path, aboutKey ? 'key' : 'value') + 1;
    }
    throw new LogError(this.file, n, column, e.where, e.expected, e.found);
  }

  /**
   * Walk a JSON tree of `args` or `out`: bounded depth and array length, no keys that
   * name Object.prototype, and (in args) collect the `$` references.
   */
  private scan(v: unknown, path: PathSegment[], depth: number, n: number, text: string, refs: Ref[] | null): void {
    if (typeof v === 'string') {
      if (looksLikeRef(v)) this.reference(v, path, n, text, refs);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth > MAX_DEPTH) this.fail(n, text, path, `at most ${MAX_DEPTH} levels of nesting`, v);
    if (Array.isArray(v)) {
      if (v.length > MAX_INLINE_ARRAY) this.fail(n, text, path, `at most ${MAX_INLINE_ARRAY} entries`, v.length);
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        this.scan(v[i], path, depth + 1, n, text, refs);
        path.pop();
      }
      return;
    }
    for (const k of Object.keys(v)) {
      path.push(k);
      if (FORBIDDEN_KEYS.has(k))
        this.fail(n, text, path, 'a field name (__proto__, constructor and prototype are not field names)', k, 'key');
      this.scan((v as Record<string, unknown>)[k], path, depth + 1, n, text, refs);
      path.pop();
    }
  }

  private reference(s: string, path: PathSegment[], n: number, text: string, refs: Ref[] | null): void {
    if (refs === null) this.fail(n, text, path, 'a value (references are resolved in args only)', s);
    const r = parseRef(s);
    if (!r) this.fail(n, text, path, 'a reference of the form $<line>.<field> such as "$5.handle"', s);
    if (r.line === 1) this.fail(n, text, path, 'a reference to an event line (line 1 is the header, it has no out)', s);
    if (r.line >= n) {
      const beyond = this.total !== undefined && r.line > this.total ? ` (the file has ${this.total} lines)` : '';
      this.fail(
        n,
        text,
        path,
        n > 2
          ? `a reference to an earlier line (2..${n - 1})${beyond}`
          : `a reference to an earlier line (there is none before line 2)${beyond}`,
        s,
      );
    }
    const target = this.callOf(r.line);
    const first = r.field[0];
    if (target && (typeof first !== 'string' || !target.out.includes(first))) {
      const outs = target.out.length ? target.out.join(', ') : 'no out fields';
      this.fail(n, text, path, `a field of the out of line ${r.line} (${target.name}: ${outs})`, s);
    }
    // Column of the reference: its quoted text, searched after the previous reference.
    const from = refs.length ? refs[refs.length - 1]!.column : 0;
    const at = text.indexOf(`"${s}"`, from);
    refs.push({
      path: path.slice(1),
      line: r.line,
      field: r.field,
      text: s,
      column: at < 0 ? 1 : at + 1,
    });
  }

  private header(v: unknown, text: string): LogHeader {
    const n = 1;
    if (!isRecord(v) || !Object.hasOwn(v, 'gpucr'))
      this.fail(n, text, [], 'a header line {"gpucr":1,"topology":…} on line 1', v);
    for (const k of Object.keys(v)) {
      if (!HEADER_KEY_SET.has(k)) this.fail(n, text, [k], `one of ${HEADER_KEYS.join(', ')}`, k, 'key');
    }
    if (v.gpucr !== 1) this.fail(n, text, ['gpucr'], 'the log format version 1', v.gpucr);
    for (const k of ['topology', 'processes', 'variants'] as const) {
      if (Object.hasOwn(v, k)) this.scan(v[k], [k], 1, n, text, null);
    }
    let topology: Topology;
    try {
      topology = parseTopology(v.topology, v.processes);
    } catch (e) {
      this.rethrow(e, n, text);
    }
    const variants: Partial<Variants> = {};
    if (v.variants !== undefined) {
      if (!isRecord(v.variants)) this.fail(n, text, ['variants'], 'an object of design variants', v.variants);
      for (const k of Object.keys(v.variants)) {
        if (!Object.hasOwn(VARIANT_VALUES, k))
          this.fail(n, text, ['variants', k], `one of ${Object.keys(VARIANT_VALUES).join(', ')}`, k, 'key');
        const allowed = VARIANT_VALUES[k as keyof Variants] as readonly unknown[];
        const value = v.variants[k];
        if (!allowed.includes(value))
          this.fail(n, text, ['variants', k], `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
        (variants as Record<string, unknown>)[k] = value;
      }
    }
    const header: LogHeader = { gpucr: 1, topology, variants };
    if (v.seed !== undefined) {
      if (typeof v.seed !== 'number' || !Number.isSafeInteger(v.seed) || v.seed < 0)
        this.fail(n, text, ['seed'], 'a non-negative integer up to 2^53-1', v.seed);
      header.seed = v.seed;
    }
    if (v.snapshot !== undefined) {
      if (typeof v.snapshot !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v.snapshot))
        this.fail(n, text, ['snapshot'], 'the hash of a world snapshot, sha256:<64 hex digits>', v.snapshot);
      header.snapshot = v.snapshot;
    }
    return header;
  }

  private event(v: unknown, text: string, n: number): LogLine {
    if (!isRecord(v)) this.fail(n, text, [], 'an event object {"pid":…,"call":…,"args":…}', v);
    for (const k of Object.keys(v)) {
      if (!EVENT_KEY_SET.has(k)) this.fail(n, text, [k], `one of ${EVENT_KEYS.join(', ')}`, k, 'key');
    }
    const call = v.call;
    if (call === undefined) this.fail(n, text, ['call'], 'a call name', undefined);
    if (typeof call !== 'string') this.fail(n, text, ['call'], 'a call name', call);
    const def = callDef(call);
    if (!def) this.fail(n, text, ['call'], 'a call gpucr models', call);
    const event: LogLine = { line: n, call, refs: NO_REFS };

    if (v.pid !== undefined) {
      if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid < 1 || v.pid > INT_MAX)
        this.fail(n, text, ['pid'], `a pid (an integer from 1 to ${INT_MAX})`, v.pid);
      event.pid = v.pid;
    } else if (def.needsPid) {
      this.fail(n, text, ['pid'], `a pid (${call} is issued by a process)`, undefined);
    }

    if (v.fd !== undefined) event.fd = this.fd(v.fd, n, text);

    if (v.ret !== undefined) {
      // Most calls return 0 or -errno; some return a count (ttm.backup: pages backed up).
      if (typeof v.ret !== 'number' || !Number.isInteger(v.ret) || v.ret > INT_MAX || v.ret < -MAX_ERRNO)
        this.fail(n, text, ['ret'], `0, a count up to ${INT_MAX}, or a negative errno (-${MAX_ERRNO}..-1)`, v.ret);
      event.ret = v.ret;
    }

    if (v.by !== undefined) {
      if (typeof v.by !== 'number' || !Number.isInteger(v.by) || v.by < 2 || v.by >= n)
        this.fail(
          n,
          text,
          ['by'],
          n > 2 ? `the line of an earlier event (2..${n - 1})` : 'the line of an earlier event (there is none)',
          v.by,
        );
      event.by = v.by;
    }

    if (v.out !== undefined) {
      if (!isRecord(v.out)) this.fail(n, text, ['out'], 'an object of out fields', v.out);
      this.scan(v.out, ['out'], 1, n, text, null);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v.out)) {
        if (!def.out.includes(k))
          this.fail(
            n,
            text,
            ['out', k],
            def.out.length
              ? `one of ${def.out.join(', ')} (the out fields of ${call})`
              : `no out fields (${call} has none)`,
            k,
            'key',
          );
        const type = Object.hasOwn(def.args, k) ? def.args[k] : undefined;
        try {
          out[k] = decodeExpected(type, v.out[k], `out.${k}`);
        } catch (e) {
          this.rethrow(e, n, text);
        }
      }
      event.out = out;
    }

    const raw = v.args === undefined ? {} : v.args;
    if (!isRecord(raw)) this.fail(n, text, ['args'], 'an object of argument fields', raw);
    const refs: Ref[] = [];
    this.scan(raw, ['args'], 1, n, text, refs);
    if (refs.length === 0) {
      try {
        event.args = decodeArgs(def.args, raw, 'args');
      } catch (e) {
        this.rethrow(e, n, text);
      }
    } else {
      // Validate everything but the references now, with each reference replaced by
      // the zero of its field; replay decodes again once the references resolve.
      const probe = structuredClone(raw);
      for (const r of refs) {
        const type: FieldType | undefined = typeAt(def.args, r.path);
        if (type) setAt(probe, r.path, encodeField(type, zeroOf(type)));
      }
      try {
        decodeArgs(def.args, probe, 'args');
      } catch (e) {
        this.rethrow(e, n, text);
      }
      event.rawArgs = raw;
      event.refs = refs;
    }
    return event;
  }

  private fd(v: unknown, n: number, text: string): FdRef {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= INT_MAX) return v;
    if (typeof v === 'string') {
      const m = /^([1-9][0-9]{0,9}):([0-9]{1,10})$/.exec(v);
      if (m) {
        const pid = Number(m[1]);
        const fd = Number(m[2]);
        if (pid <= INT_MAX && fd <= INT_MAX) return { pid, fd };
      }
    }
    this.fail(n, text, ['fd'], 'a file descriptor: a number, or "<pid>:<fd>" for a file of another process', v);
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
