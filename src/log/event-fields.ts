/**
 * An event line (line 2 on; docs/log-format.md, "Event lines"): the LogLine it becomes
 * and the check of each of its fields — keys, pid, fd, ret, by, the `out` assertion and
 * the arguments against the call's schema.
 *
 * These run for every line of a log (the hot path of `gpucr replay`), so they take the
 * line's file, number and text as arguments rather than a context object, and build the
 * path and message of a problem only once the line has failed.
 */
import type { CallDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField, type FieldType, zeroOf } from '../ioctls/schema.js';
import { NO, quickDecoderOf } from '../ioctls/schema-quick.js';
import type { FdRef } from '../world/types.js';
import { lineError, rethrowInLine } from './line-error.js';
import { type Ref, setAt } from './refs.js';
import type { TreeScanner } from './tree-scan.js';
import { decodeExpected, isRecord, typeAt } from './values.js';

/** The `refs` of every line without references (most lines): one frozen empty list. */
export const NO_REFS: readonly Ref[] = Object.freeze([]);

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

const EVENT_KEYS = ['pid', 'call', 'fd', 'args', 'ret', 'out', 'by'] as const;
const EVENT_KEY_SET: ReadonlySet<string> = new Set(EVENT_KEYS);

/** Largest pid, fd and int return value: pid_t and int are signed 32-bit. */
const INT_MAX = 0x7fffffff;
/** MAX_ERRNO (include/linux/err.h): a syscall returns 0 or -1..-4095. */
const MAX_ERRNO = 4095;

/** An event object with only event keys. */
export function checkEventKeys(
  v: unknown,
  file: string,
  n: number,
  text: string,
): asserts v is Record<string, unknown> {
  if (!isRecord(v)) lineError(file, n, text, [], 'an event object {"pid":…,"call":…,"args":…}', v);
  // for…in: no key array on every line. JSON.parse gives own keys only; a key that is not
  // own (an object from elsewhere) is not an event key.
  for (const k in v) {
    if (!EVENT_KEY_SET.has(k) || !Object.hasOwn(v, k))
      lineError(file, n, text, [k], `one of ${EVENT_KEYS.join(', ')}`, k, 'key');
  }
}

export function eventPid(v: unknown, file: string, n: number, text: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > INT_MAX)
    lineError(file, n, text, ['pid'], `a pid (an integer from 1 to ${INT_MAX})`, v);
  return v;
}

export function eventFd(v: unknown, file: string, n: number, text: string): FdRef {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= INT_MAX) return v;
  if (typeof v === 'string') {
    const m = /^([1-9][0-9]{0,9}):([0-9]{1,10})$/.exec(v);
    if (m) {
      const pid = Number(m[1]);
      const fd = Number(m[2]);
      if (pid <= INT_MAX && fd <= INT_MAX) return { pid, fd };
    }
  }
  lineError(file, n, text, ['fd'], 'a file descriptor: a number, or "<pid>:<fd>" for a file of another process', v);
}

export function eventRet(v: unknown, file: string, n: number, text: string): number {
  // Most calls return 0 or -errno; some return a count (ttm.backup: pages backed up).
  if (typeof v !== 'number' || !Number.isInteger(v) || v > INT_MAX || v < -MAX_ERRNO)
    lineError(file, n, text, ['ret'], `0, a count up to ${INT_MAX}, or a negative errno (-${MAX_ERRNO}..-1)`, v);
  return v;
}

export function eventBy(v: unknown, file: string, n: number, text: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v >= n)
    lineError(
      file,
      n,
      text,
      ['by'],
      n > 2 ? `the line of an earlier event (2..${n - 1})` : 'the line of an earlier event (there is none)',
      v,
    );
  return v;
}

/** The `out` assertion: out fields of the call, each decoded by its schema type. */
export function eventOut(
  v: unknown,
  def: CallDef,
  trees: TreeScanner,
  n: number,
  text: string,
): Record<string, unknown> {
  const file = trees.file;
  if (!isRecord(v)) lineError(file, n, text, ['out'], 'an object of out fields', v);
  trees.scan(v, ['out'], 1, n, text, null);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    if (!def.out.includes(k))
      lineError(
        file,
        n,
        text,
        ['out', k],
        def.out.length
          ? `one of ${def.out.join(', ')} (the out fields of ${def.name})`
          : `no out fields (${def.name} has none)`,
        k,
        'key',
      );
    const type = Object.hasOwn(def.args, k) ? def.args[k] : undefined;
    try {
      out[k] = decodeExpected(type, v[k], `out.${k}`);
    } catch (e) {
      rethrowInLine(e, file, n, text);
    }
  }
  return out;
}

/**
 * The arguments of `event` (`v`: its `args` as written), checked against the call's
 * schema: decoded into `event.args`, or, when they hold references, kept as written in
 * `event.rawArgs` with the references in `event.refs`.
 */
export function eventArgs(event: LogLine, def: CallDef, v: unknown, trees: TreeScanner, n: number, text: string): void {
  const file = trees.file;
  const raw = v === undefined ? {} : v;
  if (!isRecord(raw)) lineError(file, n, text, ['args'], 'an object of argument fields', raw);
  // Most lines: no `$` anywhere in the text (so no reference, even written with \u escapes)
  // and arguments the compiled decoder accepts, which also bounds their depth and keys by
  // the schema's. The walk below would find nothing to say about them.
  if (text.indexOf('$') < 0 && text.indexOf('\\') < 0) {
    const fast = quickDecoderOf(def.args)(raw);
    if (fast !== NO) {
      event.args = fast as Record<string, unknown>;
      return;
    }
  }
  const refs: Ref[] = [];
  trees.scan(raw, ['args'], 1, n, text, refs);
  if (refs.length === 0) {
    try {
      event.args = decodeArgs(def.args, raw, 'args');
    } catch (e) {
      rethrowInLine(e, file, n, text);
    }
    return;
  }
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
    rethrowInLine(e, file, n, text);
  }
  event.rawArgs = raw;
  event.refs = refs;
}
