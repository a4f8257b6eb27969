/**
 * Argument schemas: the C struct fields of each call, in the log's terms
 * (design "Event log format"). One schema serves the reader (validate and decode
 * a log line's `args`), the handlers (typed kdata) and the writer (encode `out`).
 */
import { InputError } from '../errors.js';
import { NO, quickDecoderOf } from './schema-quick.js';

export type FieldType =
  | { t: 'u32' }
  | { t: 'u64' }
  | { t: 's32' }
  | { t: 'bool' }
  | { t: 'string' }
  /** Byte buffer: hex digits, two per byte, no prefix. */
  | { t: 'bytes' }
  /**
   * A flag word: a number, or a list of names without the common prefix. `exclusive`: a
   * mask of bits that hold one enumerated value (GEM_VA's MTYPE): the names whose value lies
   * inside it name values of that field, so a list may hold at most one of them.
   */
  | { t: 'flags'; family: Readonly<Record<string, number>>; prefix: string; exclusive?: number }
  /** An enumeration: a number, or a name (with or without the prefix). */
  | { t: 'enum'; values: Readonly<Record<string, number>>; prefix: string }
  | { t: 'array'; of: FieldType }
  /** A user pointer or count the log may omit: absent (or null) decodes to null (a NULL pointer). */
  | { t: 'nullable'; of: FieldType }
  | { t: 'struct'; fields: Schema };

export type Schema = Readonly<Record<string, FieldType>>;

export const u32: FieldType = { t: 'u32' };
export const u64: FieldType = { t: 'u64' };
export const s32: FieldType = { t: 's32' };
export const bool: FieldType = { t: 'bool' };
export const str: FieldType = { t: 'string' };
export const bytes: FieldType = { t: 'bytes' };
export const flags = (family: Readonly<Record<string, number>>, prefix: string, exclusive?: number): FieldType =>
  exclusive === undefined ? { t: 'flags', family, prefix } : { t: 'flags', family, prefix, exclusive };

/** Whether a flag name's value is one value of the word's enumerated field (see FieldType flags). */
export function inExclusive(type: { exclusive?: number }, bit: number): boolean {
  return type.exclusive !== undefined && (bit & ~type.exclusive) === 0;
}
export const enumOf = (values: Readonly<Record<string, number>>, prefix: string): FieldType => ({
  t: 'enum',
  values,
  prefix,
});
export const arrayOf = (of: FieldType): FieldType => ({ t: 'array', of });
export const struct = (fields: Schema): FieldType => ({ t: 'struct', fields });
export const nullable = (of: FieldType): FieldType => ({ t: 'nullable', of });

/** Largest inline array a log may carry; larger counts are refused before allocating. */
export const MAX_INLINE_ARRAY = 1 << 20;

/** An exact integer from a safe number, a bigint, a 0x string of 1-16 hex digits or 1-20 decimal digits. */
export function intOf(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(v)) return BigInt(v);
  return undefined;
}

/** A plain object (not null, a list or a byte buffer). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

type FlagsType = Extract<FieldType, { t: 'flags' }>;
type EnumType = Extract<FieldType, { t: 'enum' }>;

/** A flag word: a list of names of the family (with or without its prefix, one value per exclusive field) or a number. */
function decodeFlags(type: FlagsType, v: unknown, where: string): number {
  if (Array.isArray(v)) {
    let word = 0;
    let field: string | undefined;
    for (const [i, name] of v.entries()) {
      const bare = typeof name === 'string' && name.startsWith(type.prefix) ? name.slice(type.prefix.length) : name;
      const bit = typeof bare === 'string' && Object.hasOwn(type.family, bare) ? type.family[bare] : undefined;
      if (bit === undefined) throw new InputError(`${where}[${i}]`, `a flag name of ${type.prefix}*`, name);
      if (inExclusive(type, bit)) {
        if (field !== undefined)
          throw new InputError(
            `${where}[${i}]`,
            `no second value of the field in bits 0x${type.exclusive!.toString(16)} (${field} is already given)`,
            name,
          );
        field = bare as string;
      }
      word = (word | bit) >>> 0;
    }
    return word;
  }
  const n = intOf(v);
  if (n === undefined || n < 0n || n >= 1n << 32n)
    throw new InputError(where, `a 32-bit flag word or a list of ${type.prefix}* names`, v);
  return Number(n);
}

/** An enumeration: a name of its values (with or without the prefix) or a number. */
function decodeEnum(type: EnumType, v: unknown, where: string): number {
  if (typeof v === 'string' && !/^[0-9]/.test(v)) {
    const bare = v.startsWith(type.prefix) ? v.slice(type.prefix.length) : v;
    const n = Object.hasOwn(type.values, bare) ? type.values[bare] : undefined;
    if (n === undefined) throw new InputError(where, `one of ${Object.keys(type.values).join(', ')} or a number`, v);
    return n;
  }
  const n = intOf(v);
  if (n === undefined || n < 0n || n >= 1n << 32n) throw new InputError(where, 'an enumeration name or number', v);
  return Number(n);
}

/** Decode one value of a field; `where` is the path used in error messages. */
export function decodeField(type: FieldType, v: unknown, where: string): unknown {
  switch (type.t) {
    case 'u32':
    case 'u64': {
      const bits = type.t === 'u32' ? 32n : 64n;
      const n = intOf(v);
      if (n === undefined || n < 0n || n >= 1n << bits)
        throw new InputError(where, `an unsigned ${bits}-bit integer`, v);
      return type.t === 'u32' ? Number(n) : n;
    }
    case 's32': {
      const n = typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
      if (n === undefined || n < -(2 ** 31) || n >= 2 ** 31) throw new InputError(where, 'a signed 32-bit integer', v);
      return n;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new InputError(where, 'true or false', v);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new InputError(where, 'a string', v);
      return v;
    case 'bytes': {
      if (typeof v !== 'string' || v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v))
        throw new InputError(where, 'hex digits, two per byte', v);
      return Uint8Array.from(Buffer.from(v, 'hex'));
    }
    case 'flags':
      return decodeFlags(type, v, where);
    case 'enum':
      return decodeEnum(type, v, where);
    case 'array': {
      if (!Array.isArray(v)) throw new InputError(where, 'a list', v);
      if (v.length > MAX_INLINE_ARRAY) throw new InputError(where, `at most ${MAX_INLINE_ARRAY} entries`, v.length);
      return v.map((x, i) => decodeField(type.of, x, `${where}[${i}]`));
    }
    case 'struct':
      if (!isRecord(v)) throw new InputError(where, 'an object', v);
      return decodeArgs(type.fields, v, where);
    case 'nullable':
      return v === null || v === undefined ? null : decodeField(type.of, v, where);
  }
}

/** The zero value of a field (a C struct's field that the caller left 0). */
export function zeroOf(type: FieldType): unknown {
  switch (type.t) {
    case 'u64':
      return 0n;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'array':
      return [];
    case 'struct':
      return Object.fromEntries(Object.entries(type.fields).map(([k, f]) => [k, zeroOf(f)]));
    case 'nullable':
      return null;
    default:
      return 0;
  }
}

/** A schema's fields in declaration order, computed once per schema. */
const FIELDS = new WeakMap<Schema, [string, FieldType][]>();
function fieldsOf(schema: Schema): [string, FieldType][] {
  let f = FIELDS.get(schema);
  if (!f) FIELDS.set(schema, (f = Object.entries(schema)));
  return f;
}

/** A schema's field names in declaration order (C struct order), listed once per schema: hot paths walk them per event. */
const NAMES = new WeakMap<Schema, readonly string[]>();
export function fieldNames(schema: Schema): readonly string[] {
  let f = NAMES.get(schema);
  if (!f) NAMES.set(schema, (f = Object.keys(schema)));
  return f;
}

/** Decode `args` of a call: unknown keys are errors, missing fields are 0 (as in a zeroed struct). */
export function decodeArgs(schema: Schema, raw: Record<string, unknown>, where: string): Record<string, unknown> {
  // The compiled fast path (schema-quick.ts); on anything it does not accept, the
  // field-by-field decoder below decodes again and throws the precise error.
  const fast = quickDecoderOf(schema)(raw);
  if (fast !== NO) return fast as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(raw)) {
    if (!Object.hasOwn(schema, k)) {
      const known = Object.keys(schema);
      throw new InputError(`${where}.${k}`, known.length ? `one of ${known.join(', ')}` : 'no arguments', k);
    }
  }
  for (const [k, type] of fieldsOf(schema)) {
    out[k] = Object.hasOwn(raw, k) ? decodeField(type, raw[k], `${where}.${k}`) : zeroOf(type);
  }
  return out;
}

/** Encode a decoded value back to its log form (u64 beyond 2^53−1 as a 0x string, bytes as hex). */
export function encodeField(type: FieldType | undefined, v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (type?.t === 'nullable') return v === null ? null : encodeField(type.of, v);
  if (Array.isArray(v)) return v.map((x) => encodeField(type?.t === 'array' ? type.of : undefined, x));
  if (isRecord(v)) {
    const fields = type?.t === 'struct' ? type.fields : undefined;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeField(fields?.[k], x)]));
  }
  return v;
}
