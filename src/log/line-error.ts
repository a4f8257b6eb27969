/**
 * A problem in one line of a log as a LogError `file:line:column: path: expected …, found …`.
 * The column is found by locating the path in the line's text, which happens only once
 * the line has failed: a valid line pays nothing for it.
 */
import { InputError } from '../errors.js';
import { LogError } from './errors.js';
import { formatPath, locate, type PathSegment, parsePath } from './json.js';

/** Fail line `n` (its `text`) at `path`: at the key there, or at its value (the default). */
export function lineError(
  file: string,
  n: number,
  text: string,
  path: readonly PathSegment[],
  expected: string,
  found: unknown,
  at: 'value' | 'key' = 'value',
): never {
  const column = path.length === 0 ? 1 : locate(text, path, at) + 1;
  throw new LogError(file, n, column, formatPath(path), expected, found);
}

/** Re-throw an InputError of a schema or topology decoder as a LogError pointing into the line. */
export function rethrowInLine(e: unknown, file: string, n: number, text: string): never {
  if (e instanceof LogError || !(e instanceof InputError)) throw e;
  const path = parsePath(e.where);
  let column = 1;
  if (path) {
    const last = path[path.length - 1];
    const aboutKey = typeof last === 'string' && e.found === last && /^(one of |no )/.test(e.expected);
    column = locate(text, path, aboutKey ? 'key' : 'value') + 1;
  }
  throw new LogError(file, n, column, e.where, e.expected, e.found);
}
