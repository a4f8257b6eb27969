/**
 * decodeArgs' fast path, compiled once per schema (issue 4: every event of a replay decodes
 * its arguments).
 *
 * `quickDecoderOf(schema)` gives a function that decodes a valid argument object and gives
 * up (NO) on anything else, never throwing; decodeArgs then runs the field-by-field decoder,
 * which decodes the same value again and throws the precise error. The fast path accepts
 * only what `decodeField` accepts and gives the same value (test/unit/decode-args.test.ts
 * checks both on random values of every registered call).
 *
 * A struct's decoder is generated code with the field names written as literals, the way
 * ajv compiles a JSON Schema: a generic loop (`out[k] = …` for each field name k) makes
 * every property access a megamorphic keyed access, which cost the reader more than
 * JSON.parse of the line's arguments. The names are the schema's own C field names, quoted
 * with JSON.stringify; the generated code calls the per-type decoders below, which are
 * closures built once.
 */
import { type FieldType, inExclusive, intOf, isRecord, MAX_INLINE_ARRAY, type Schema, zeroOf } from './schema.js';

export const NO: unique symbol = Symbol('not decoded');

/** A compiled decoder: the decoded value, or NO. */
export type QuickDecoder = (v: unknown) => unknown;

const U32_MAX = 0xffffffff;
const S32_MIN = -(2 ** 31);
const S32_MAX = 2 ** 31 - 1;

function quickU32(v: unknown): unknown {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX ? v + 0 : NO;
}

function quickS32(v: unknown): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= S32_MIN && v <= S32_MAX ? v : NO;
}

/** Hex digit value, -1 for another character code. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * A u64 written as a number, a 0x string of 1-16 hex digits or a decimal string of 1-20
 * digits. A 0x string of up to 13 digits (below 2^52, every address and size of a real log)
 * is summed exactly in a double: faster than a regular expression and BigInt(string).
 */
function quickU64(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : NO;
  if (typeof v !== 'string') return NO;
  const n = v.length;
  if (n > 2 && n <= 15 && v.charCodeAt(0) === 48 && v.charCodeAt(1) === 120) {
    let x = 0;
    for (let i = 2; i < n; i++) {
      const d = hexDigit(v.charCodeAt(i));
      if (d < 0) return NO;
      x = x * 16 + d;
    }
    return BigInt(x);
  }
  const b = intOf(v);
  return b !== undefined && b < 1n << 64n ? b : NO;
}

function quickFlags(type: Extract<FieldType, { t: 'flags' }>): QuickDecoder {
  const { family, prefix } = type;
  return (v) => {
    if (typeof v === 'number') return quickU32(v);
    if (!Array.isArray(v)) return NO;
    let word = 0;
    let fields = 0;
    for (let i = 0; i < v.length; i++) {
      const name: unknown = v[i];
      if (typeof name !== 'string') return NO;
      const bare = name.startsWith(prefix) ? name.slice(prefix.length) : name;
      if (!Object.hasOwn(family, bare)) return NO;
      const bit = family[bare]!;
      // A second value of an enumerated field inside the word (GEM_VA's MTYPE).
      if (inExclusive(type, bit) && ++fields > 1) return NO;
      word = (word | bit) >>> 0;
    }
    return word;
  };
}

function quickEnum(type: Extract<FieldType, { t: 'enum' }>): QuickDecoder {
  const { values, prefix } = type;
  return (v) => {
    if (typeof v === 'number') return quickU32(v);
    if (typeof v !== 'string' || v.length === 0) return NO;
    const c0 = v.charCodeAt(0);
    if (c0 >= 48 && c0 <= 57) return NO;
    const bare = v.startsWith(prefix) ? v.slice(prefix.length) : v;
    return Object.hasOwn(values, bare) ? values[bare] : NO;
  };
}

function quickArray(of: QuickDecoder): QuickDecoder {
  return (v) => {
    if (!Array.isArray(v) || v.length > MAX_INLINE_ARRAY) return NO;
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = of(v[i]);
      if (x === NO) return NO;
      out[i] = x;
    }
    return out;
  };
}

function compileType(type: FieldType): QuickDecoder {
  switch (type.t) {
    case 'u32':
      return quickU32;
    case 's32':
      return quickS32;
    case 'u64':
      return quickU64;
    case 'bool':
      return (v) => (typeof v === 'boolean' ? v : NO);
    case 'string':
      return (v) => (typeof v === 'string' ? v : NO);
    case 'flags':
      return quickFlags(type);
    case 'enum':
      return quickEnum(type);
    case 'array':
      return quickArray(compileType(type.of));
    case 'nullable': {
      const of = compileType(type.of);
      return (v) => (v === null || v === undefined ? null : of(v));
    }
    case 'struct':
      return quickDecoderOf(type.fields);
    default:
      // bytes: hex of any length, decoded by the full decoder.
      return () => NO;
  }
}

/** The zero of a field as a function: a fresh value for the types whose zero is an object. */
function zeroMaker(type: FieldType): () => unknown {
  const z = zeroOf(type);
  return typeof z === 'object' && z !== null ? () => zeroOf(type) : () => z;
}

/**
 * Field names the generated code can use as literals: identifiers that no prototype
 * supplies and that the reader's walk would not refuse (src/log/values.ts FORBIDDEN_KEYS).
 */
function plainName(k: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && !(k in Object.prototype) && k !== 'prototype';
}

/**
 * A struct's decoder: every key of the object a field of the schema (an own, enumerable
 * key: an inherited one gives NO), each field decoded, a missing one zero, as decodeArgs.
 */
function compileStruct(schema: Schema): QuickDecoder {
  const fields = Object.entries(schema);
  if (!fields.every(([k]) => plainName(k))) return () => NO;
  const decoders = fields.map(([, t]) => compileType(t));
  const zeros = fields.map(([, t]) => zeroMaker(t));
  const lines = [
    'if (!isRecord(raw)) return NO;',
    'let keys = 0;',
    'for (const k in raw) { if (!hasOwn(raw, k)) return NO; keys++; }',
    'let seen = 0;',
    'let v;',
  ];
  fields.forEach(([k], i) => {
    const key = JSON.stringify(k);
    lines.push(
      `v = raw[${key}];`,
      `let f${i};`,
      `if (v === undefined) { if (hasOwn(raw, ${key})) return NO; f${i} = zeros[${i}](); }`,
      `else { seen++; f${i} = decoders[${i}](v); if (f${i} === NO) return NO; }`,
    );
  });
  lines.push('if (seen !== keys) return NO;');
  lines.push(`return { ${fields.map(([k], i) => `${JSON.stringify(k)}: f${i}`).join(', ')} };`);
  const make = new Function(
    'NO',
    'hasOwn',
    'isRecord',
    'decoders',
    'zeros',
    `return function quickStruct(raw) {\n${lines.join('\n')}\n};`,
  );
  return make(NO, Object.hasOwn, isRecord, decoders, zeros) as QuickDecoder;
}

const COMPILED = new WeakMap<Schema, QuickDecoder>();

/** The compiled fast decoder of a schema's argument object, built on first use. */
export function quickDecoderOf(schema: Schema): QuickDecoder {
  let d = COMPILED.get(schema);
  if (!d) {
    d = compileStruct(schema);
    COMPILED.set(schema, d);
  }
  return d;
}
