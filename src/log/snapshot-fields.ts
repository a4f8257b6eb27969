/**
 * The field checks the structure of a snapshot world is built from (snapshot-world.ts,
 * snapshot-stores.ts): each returns the value with its type, or throws an InputError
 * naming where in the snapshot it is.
 */
import { InputError } from '../errors.js';
import { isRecord } from './values.js';

export function fail(where: string, expected: string, found: unknown): never {
  throw new InputError(where, expected, found);
}

export function record(v: unknown, where: string): Record<string, unknown> {
  if (!isRecord(v)) fail(where, 'an object', v);
  return v;
}

export function int(v: unknown, where: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(where, `an integer ≥ ${min}`, v);
  return v;
}

export function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'a string', v);
  return v;
}

/** The serial number of an id `<prefix>#<n>`, or undefined for ids of another form. */
export function serial(id: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix.replace(/[.]/g, '\\.')}#([0-9]+)$`).exec(id);
  return m ? Number(m[1]) : undefined;
}

/**
 * An id `<prefix>#<n>` must have n below the counter `next.<key>` that hands such ids
 * out (when the world has that counter), or a restored world would hand it out again.
 */
export function checkFresh(next: Record<string, unknown>, at: string, id: string, prefix: string, key: string): void {
  const n = serial(id, prefix);
  const c = typeof next[key] === 'number' ? (next[key] as number) : undefined;
  if (n !== undefined && c !== undefined && n >= c) fail(at, `an id ${prefix}#<n> with n below next.${key} (${c})`, id);
}
