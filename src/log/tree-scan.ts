/**
 * The walk of a JSON tree of a line (an event's `args` or `out`, the header's topology,
 * processes and variants): bounded depth and array length, no keys that name
 * Object.prototype, and, in `args`, the `$<line>.<field>` references, checked statically:
 * they must name an earlier event line whose call has that out field.
 */
import { MAX_INLINE_ARRAY } from '../ioctls/schema.js';
import type { EarlierCalls } from './earlier-calls.js';
import type { PathSegment } from './json.js';
import { lineError } from './line-error.js';
import { looksLikeRef, parseRef, type Ref } from './refs.js';
import { FORBIDDEN_KEYS, MAX_DEPTH } from './values.js';

export class TreeScanner {
  /**
   * @param file  the name used in messages
   * @param total the number of lines of the file when known (better messages for references beyond it)
   * @param calls the calls of the event lines read so far
   */
  constructor(
    readonly file: string,
    readonly total: number | undefined,
    readonly calls: EarlierCalls,
  ) {}

  /** Walk `v` at `path` of line `n`; collect the references into `refs` (null: references are not allowed). */
  scan(v: unknown, path: PathSegment[], depth: number, n: number, text: string, refs: Ref[] | null): void {
    if (typeof v === 'string') {
      if (looksLikeRef(v)) this.reference(v, path, n, text, refs);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth > MAX_DEPTH) lineError(this.file, n, text, path, `at most ${MAX_DEPTH} levels of nesting`, v);
    if (Array.isArray(v)) {
      if (v.length > MAX_INLINE_ARRAY)
        lineError(this.file, n, text, path, `at most ${MAX_INLINE_ARRAY} entries`, v.length);
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
        lineError(
          this.file,
          n,
          text,
          path,
          'a field name (__proto__, constructor and prototype are not field names)',
          k,
          'key',
        );
      this.scan((v as Record<string, unknown>)[k], path, depth + 1, n, text, refs);
      path.pop();
    }
  }

  private reference(s: string, path: PathSegment[], n: number, text: string, refs: Ref[] | null): void {
    const file = this.file;
    if (refs === null) lineError(file, n, text, path, 'a value (references are resolved in args only)', s);
    const r = parseRef(s);
    if (!r) lineError(file, n, text, path, 'a reference of the form $<line>.<field> such as "$5.handle"', s);
    if (r.line === 1)
      lineError(file, n, text, path, 'a reference to an event line (line 1 is the header, it has no out)', s);
    if (r.line >= n) {
      const beyond = this.total !== undefined && r.line > this.total ? ` (the file has ${this.total} lines)` : '';
      lineError(
        file,
        n,
        text,
        path,
        n > 2
          ? `a reference to an earlier line (2..${n - 1})${beyond}`
          : `a reference to an earlier line (there is none before line 2)${beyond}`,
        s,
      );
    }
    const target = this.calls.callOf(r.line);
    const first = r.field[0];
    if (target && (typeof first !== 'string' || !target.out.includes(first))) {
      const outs = target.out.length ? target.out.join(', ') : 'no out fields';
      lineError(file, n, text, path, `a field of the out of line ${r.line} (${target.name}: ${outs})`, s);
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
}
