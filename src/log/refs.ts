/**
 * `$<line>.<field>` references (docs/log-format.md, "References").
 *
 * A string value of `args` of exactly the form `$<line>.<field>` stands for a field
 * of the actual `out` of the event on that line (1-based, the header is line 1).
 * `<field>` is a dotted path into that out; numeric segments index arrays:
 * `$7.bos.0.dmabuf_fd`. Any other string that starts with `$` and a digit is an
 * error (a malformed reference); strings such as `"$HOME"` are ordinary strings.
 */
import type { PathSegment } from './json.js';
import { isRecord } from './values.js';

export interface Ref {
  /** Where the reference stands inside `args` (["bos", 0, "handle"]). */
  path: readonly PathSegment[];
  /** The referenced line (1-based, ≥ 2, before the referring line). */
  line: number;
  /** Path into that line's out (["bos", 0, "dmabuf_fd"]). */
  field: readonly PathSegment[];
  /** The reference as written, "$7.bos.0.dmabuf_fd". */
  text: string;
  /** 1-based column of the reference's opening quote in its line (1 if not found). */
  column: number;
}

const REF = /^\$([1-9][0-9]{0,15})\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+)((?:\.(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+))*)$/;

/** True if a string is meant as a reference: `$` followed by a digit. */
export function looksLikeRef(s: string): boolean {
  return s.length > 1 && s.charCodeAt(0) === 0x24 && s.charCodeAt(1) >= 0x30 && s.charCodeAt(1) <= 0x39;
}

/** Parse `$<line>.<field>`; undefined if malformed. */
export function parseRef(s: string): { line: number; field: PathSegment[] } | undefined {
  const m = REF.exec(s);
  if (!m) return undefined;
  const field = `${m[2]}${m[3]}`.split('.').map((seg) => (/^[0-9]+$/.test(seg) ? Number(seg) : seg));
  return { line: Number(m[1]), field };
}

/** The field of an out that a reference names, or undefined when it is missing. */
export function lookupField(out: unknown, field: readonly PathSegment[]): unknown {
  let v: unknown = out;
  for (const seg of field) {
    if (Array.isArray(v) && typeof seg === 'number') v = seg < v.length ? v[seg] : undefined;
    else if (isRecord(v) && Object.hasOwn(v, String(seg))) v = v[String(seg)];
    else return undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/** Lines referenced by any of the events: the outs replay must keep. */
export function referencedLines(events: Iterable<{ refs: readonly Ref[] }>): Set<number> {
  const set = new Set<number>();
  for (const e of events) for (const r of e.refs) set.add(r.line);
  return set;
}

/** Set the value at a path of a JSON tree (containers along the path exist: the reader found the ref there). */
export function setAt(root: Record<string, unknown>, path: readonly PathSegment[], value: unknown): void {
  let v: unknown = root;
  for (let i = 0; i < path.length - 1; i++) v = (v as Record<string | number, unknown>)[path[i]!];
  const last = path[path.length - 1]!;
  if (Array.isArray(v) && typeof last === 'number') v[last] = value;
  else
    Object.defineProperty(v, String(last), {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

/** What a reference resolved against: the referenced line's call and actual result. */
export interface RefTarget {
  call: string;
  ret: number;
  out: Record<string, unknown>;
}
