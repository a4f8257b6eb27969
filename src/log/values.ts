/**
 * Values of a log line: the schema type at a path, the expected `out` decoding,
 * and the comparison rule of replay (docs/log-format.md, "Assertions").
 */
import { InputError } from '../errors.js';
import { decodeField, type FieldType, isRecord, MAX_INLINE_ARRAY, type Schema } from '../ioctls/schema.js';
import type { PathSegment } from './json.js';

/** Nesting deeper than this inside `args` or `out` is refused (no C struct nests so deep). */
export const MAX_DEPTH = 64;

/** Keys that would reach Object.prototype if a consumer ever used plain assignment. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export { isRecord };

/** The field type at a path inside a call's arguments, or undefined if the schema has no such place. */
export function typeAt(schema: Schema, path: readonly PathSegment[]): FieldType | undefined {
  let fields: Schema | undefined = schema;
  let type: FieldType | undefined;
  for (const seg of path) {
    if (type?.t === 'nullable') type = type.of;
    if (typeof seg === 'string') {
      if (type !== undefined) {
        if (type.t !== 'struct') return undefined;
        fields = type.fields;
      }
      if (!fields || !Object.hasOwn(fields, seg)) return undefined;
      type = fields[seg];
      fields = undefined;
    } else {
      if (type?.t !== 'array') return undefined;
      type = type.of;
    }
  }
  return type;
}

/**
 * Decode an expected value of `out`. Like decodeField, except that an object only
 * holds the keys it gives (absent keys are not compared, they are not zero).
 * Fields without a schema type (results of syscalls such as `open`'s fd) stay as written.
 */
export function decodeExpected(type: FieldType | undefined, v: unknown, where: string): unknown {
  if (type === undefined) return v;
  switch (type.t) {
    case 'nullable':
      return v === null ? null : decodeExpected(type.of, v, where);
    case 'array': {
      if (!Array.isArray(v)) throw new InputError(where, 'a list', v);
      if (v.length > MAX_INLINE_ARRAY) throw new InputError(where, `at most ${MAX_INLINE_ARRAY} entries`, v.length);
      return v.map((x, i) => decodeExpected(type.of, x, `${where}[${i}]`));
    }
    case 'struct': {
      if (!isRecord(v)) throw new InputError(where, 'an object', v);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(type.fields, k)) {
          const known = Object.keys(type.fields);
          throw new InputError(`${where}.${k}`, known.length ? `one of ${known.join(', ')}` : 'no fields', k);
        }
        out[k] = decodeExpected(type.fields[k], v[k], `${where}.${k}`);
      }
      return out;
    }
    default:
      return decodeField(type, v, where);
  }
}

/** An exact integer from a number, bigint, or decimal/0x string; undefined otherwise. */
export function intValue(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const neg = v.startsWith('-');
    const n = BigInt(neg ? v.slice(1) : v);
    return neg ? -n : n;
  }
  return undefined;
}

function hexOf(v: unknown): string | undefined {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'string' && v.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(v)) return v.toLowerCase();
  return undefined;
}

/**
 * The assertion rule: does the actual value satisfy the expected one?
 * Integers compare exactly whatever their encoding (number, bigint, "0x…" or decimal
 * string) when either side is a number or bigint; byte buffers compare with their hex
 * form; arrays need the same length and matching elements; objects need every key of
 * the expected object to match (keys the expectation leaves out are not compared).
 */
export function matches(expected: unknown, actual: unknown, depth = 0): boolean {
  if (expected === actual) return true;
  if (depth > MAX_DEPTH) return false;
  if (
    typeof expected === 'number' ||
    typeof expected === 'bigint' ||
    typeof actual === 'number' ||
    typeof actual === 'bigint'
  ) {
    const e = intValue(expected);
    const a = intValue(actual);
    return e !== undefined && e === a;
  }
  if (expected instanceof Uint8Array || actual instanceof Uint8Array) {
    const e = hexOf(expected);
    return e !== undefined && e === hexOf(actual);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    for (let i = 0; i < expected.length; i++) if (!matches(expected[i], actual[i], depth + 1)) return false;
    return true;
  }
  if (isRecord(expected)) {
    if (!isRecord(actual)) return false;
    for (const k of Object.keys(expected)) {
      if (!Object.hasOwn(actual, k) || !matches(expected[k], actual[k], depth + 1)) return false;
    }
    return true;
  }
  return false;
}
