/**
 * Positions inside one JSON line, for error messages only (never on the fast path):
 *
 * - `locate(text, path)`: the offset of the value (or key) at a path such as
 *   `args.bos[0].handle`, in a line that JSON.parse accepted;
 * - `syntaxError(text)`: the offset and expectation of the first JSON syntax error
 *   of a line that JSON.parse refused (V8's messages do not always carry a position).
 *
 * Both scan iteratively, so a 10-million-deep nesting cannot overflow the stack.
 */

export type PathSegment = string | number;

/** `args.bos[0].handle` → ["args", "bos", 0, "handle"]; undefined if the text is not such a path. */
export function parsePath(where: string): PathSegment[] | undefined {
  const out: PathSegment[] = [];
  const re = /\[(\d+)\]|\.?([^.[\]]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < where.length) {
    re.lastIndex = pos;
    m = re.exec(where);
    if (!m || m.index !== pos) return undefined;
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) {
      if (pos === 0 && m[0].startsWith('.')) return undefined;
      out.push(m[2]);
    }
    pos = re.lastIndex;
  }
  return out;
}

/** Render a path as the messages write it: `args.bos[0].handle`. */
export function formatPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

const WS = new Set([' ', '\t', '\n', '\r']);

function ws(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

/** Index just after the string literal starting at s[i] === '"' (the text is known to be valid). */
function skipString(s: string, i: number): number {
  i++;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return i;
}

/** Index just after the JSON value starting at s[i] (the text is known to be valid). */
function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    while (i < s.length) {
      const d = s[i];
      if (d === '"') {
        i = skipString(s, i);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < s.length && !WS.has(s[i]!) && s[i] !== ',' && s[i] !== '}' && s[i] !== ']') i++;
  return i;
}

function keyText(s: string, start: number, end: number): string | undefined {
  try {
    return JSON.parse(s.slice(start, end)) as string;
  } catch {
    return undefined;
  }
}

/**
 * 0-based offset of the value at `path` in a valid JSON text, or of its key when
 * `at === 'key'`. When the path stops early (a missing key), the offset of the
 * deepest container reached. Duplicate keys resolve to the last one, as JSON.parse does.
 */
export function locate(text: string, path: readonly PathSegment[], at: 'value' | 'key' = 'value'): number {
  let i = ws(text, 0);
  let keyAt = i;
  for (const seg of path) {
    const open = text[i];
    if (typeof seg === 'string' && open === '{') {
      let found: { key: number; value: number } | undefined;
      let j = ws(text, i + 1);
      while (j < text.length && text[j] === '"') {
        const kEnd = skipString(text, j);
        const key = keyText(text, j, kEnd);
        let v = ws(text, kEnd);
        if (text[v] !== ':') break;
        v = ws(text, v + 1);
        if (key === seg) found = { key: j, value: v };
        j = ws(text, skipValue(text, v));
        if (text[j] !== ',') break;
        j = ws(text, j + 1);
      }
      if (!found) return i;
      keyAt = found.key;
      i = found.value;
    } else if (typeof seg === 'number' && open === '[') {
      let j = ws(text, i + 1);
      let n = 0;
      let found: number | undefined;
      while (j < text.length && text[j] !== ']') {
        if (n === seg) {
          found = j;
          break;
        }
        j = ws(text, skipValue(text, j));
        if (text[j] !== ',') break;
        j = ws(text, j + 1);
        n++;
      }
      if (found === undefined) return i;
      keyAt = found;
      i = found;
    } else {
      return i;
    }
  }
  return at === 'key' ? keyAt : i;
}

export interface SyntaxProblem {
  /** 0-based offset of the first character that cannot continue valid JSON. */
  offset: number;
  expected: string;
  /** The offending character, or undefined at the end of the line. */
  found: string | undefined;
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;

/** Offset of the end of a string literal starting at s[i] === '"', or a problem. */
function scanString(s: string, i: number): number | SyntaxProblem {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20)
      return {
        offset: i,
        expected: 'a character of a string (control characters must be escaped)',
        found: s[i],
      };
    if (c === 0x5c) {
      const e = s[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6)))
          return { offset: i, expected: 'four hex digits after \\u', found: s.slice(i, i + 6) };
        i += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
      else
        return {
          offset: i,
          expected: 'an escape sequence (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
          found: s.slice(i, i + 2),
        };
    } else i++;
  }
  return { offset: s.length, expected: "the closing '\"' of a string", found: undefined };
}

/**
 * The scanner's position: the offset, what may come next, and the open containers. The stack
 * is the only memory of nesting, so depth costs heap, never call stack.
 */
interface Scan {
  i: number;
  state: 'value' | 'key' | 'after';
  stack: ('{' | '[')[];
}

/** A key in double quotes and its ':'; then a value. */
function scanKey(s: string, scan: Scan): SyntaxProblem | undefined {
  const i = scan.i;
  if (s[i] !== '"') return { offset: i, expected: 'a key in double quotes', found: s[i] };
  const end = scanString(s, i);
  if (typeof end !== 'number') return end;
  const colon = ws(s, end);
  if (s[colon] !== ':') return { offset: colon, expected: "':' after the key", found: s[colon] };
  scan.i = ws(s, colon + 1);
  scan.state = 'value';
  return undefined;
}

/** A value: an empty container, the opening of a non-empty one, a string, a number or a literal. */
function scanValue(s: string, scan: Scan): SyntaxProblem | undefined {
  const i = scan.i;
  const c = s[i];
  if (c === '{' || c === '[') {
    const close = c === '{' ? '}' : ']';
    const next = ws(s, i + 1);
    if (s[next] === close) {
      scan.i = ws(s, next + 1);
      scan.state = 'after';
    } else {
      scan.i = next;
      scan.stack.push(c);
      scan.state = c === '{' ? 'key' : 'value';
    }
    return undefined;
  }
  if (c === '"') {
    const end = scanString(s, i);
    if (typeof end !== 'number') return end;
    scan.i = ws(s, end);
    scan.state = 'after';
    return undefined;
  }
  NUMBER.lastIndex = i;
  LITERAL.lastIndex = i;
  const m = (c === '-' || (c !== undefined && c >= '0' && c <= '9') ? NUMBER : LITERAL).exec(s);
  if (!m) return { offset: i, expected: 'a JSON value', found: c };
  scan.i = ws(s, i + m[0].length);
  scan.state = 'after';
  return undefined;
}

/** After a value inside a container: ',' and the next member, or the container's close. */
function scanAfterMember(s: string, scan: Scan, top: '{' | '['): SyntaxProblem | undefined {
  const i = scan.i;
  const close = top === '{' ? '}' : ']';
  if (s[i] === ',') {
    scan.i = ws(s, i + 1);
    scan.state = top === '{' ? 'key' : 'value';
  } else if (s[i] === close) {
    scan.stack.pop();
    scan.i = ws(s, i + 1);
  } else {
    return { offset: i, expected: `',' or '${close}'`, found: s[i] };
  }
  return undefined;
}

/** The first syntax error of a JSON text, or undefined if the text is valid JSON. */
export function syntaxError(s: string): SyntaxProblem | undefined {
  const scan: Scan = { i: ws(s, 0), state: 'value', stack: [] };
  for (;;) {
    let problem: SyntaxProblem | undefined;
    if (scan.state === 'key') problem = scanKey(s, scan);
    else if (scan.state === 'value') problem = scanValue(s, scan);
    else {
      const top = scan.stack[scan.stack.length - 1];
      // The top-level value is complete: only whitespace may follow it.
      if (top === undefined) {
        if (scan.i < s.length)
          return { offset: scan.i, expected: 'the end of the line after the JSON value', found: s[scan.i] };
        return undefined;
      }
      problem = scanAfterMember(s, scan, top);
    }
    if (problem) return problem;
  }
}
