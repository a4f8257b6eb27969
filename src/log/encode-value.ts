/**
 * Decoded values in the log encoding (docs/log-format.md): keys in schema order (C struct
 * order) and any others sorted after them, integers beyond 2^53−1 as "0x…" strings, byte
 * buffers as hex (`encodeField`), and, for arguments, flag words and enumerations by name
 * when every bit has one. The writer (writer.ts) and the log splitter (split.ts) use it.
 */
import { encodeField, fieldNames, type FieldType, isRecord, type Schema } from '../ioctls/schema.js';
import { splitFlagWord } from '../uapi/flag-word.js';

/**
 * The log form of each value met so far, per flag family or enumeration: a recording writes
 * the same few words on every line, and naming one walks its whole family.
 */
const NAMED = new WeakMap<object, Map<number, unknown>>();

function namedOnce(table: object, v: number, name: () => unknown): unknown {
  let m = NAMED.get(table);
  if (!m) NAMED.set(table, (m = new Map()));
  let named = m.get(v);
  if (named === undefined) m.set(v, (named = name()));
  // A list of names is the caller's to keep: a copy each time.
  return Array.isArray(named) ? named.slice() : named;
}

/** A flag word as the list of its names when every set bit has a one-bit name; else the number. */
function flagWord(type: Extract<FieldType, { t: 'flags' }>, v: number): unknown {
  return namedOnce(type, v, () => {
    const { names, rest } = splitFlagWord(type.family, v, type.exclusive);
    return rest === 0 ? names : v;
  });
}

/** An enumeration value by its name when exactly one name has it and reads back as a name. */
function enumValue(values: Readonly<Record<string, number>>, v: number): unknown {
  return namedOnce(values, v, () => {
    const names = Object.entries(values).filter(([, x]) => x === v);
    return names.length === 1 && !/^[0-9]/.test(names[0]![0]) ? names[0]![0] : v;
  });
}

/** Fields in schema order, then any others sorted (stable key order whatever built the object). */
function ordered(fields: Schema | undefined, v: Record<string, unknown>): string[] {
  if (!fields) return Object.keys(v).sort();
  const known: string[] = [];
  for (const k of fieldNames(fields)) if (Object.hasOwn(v, k)) known.push(k);
  // Most objects (decoded arguments) hold schema fields only.
  let own = 0;
  for (const k in v) if (Object.hasOwn(v, k)) own += 1;
  if (own === known.length) return known;
  const rest = Object.keys(v)
    .filter((k) => !Object.hasOwn(fields, k))
    .sort();
  return [...known, ...rest];
}

/** `out[k] = value` as an own data property, `__proto__` included (an assignment would set the prototype). */
export function setOwn(out: Record<string, unknown>, k: string, value: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  else out[k] = value;
}

/**
 * A decoded value in the log encoding, keys in schema order. With `names`, flag
 * words and enumerations are written by name (arguments); without, as numbers.
 */
export function encodeValue(type: FieldType | undefined, v: unknown, names: boolean, depth = 0): unknown {
  if (depth > 64) throw new Error('writer: value nested too deeply');
  if (type?.t === 'nullable') return v === null || v === undefined ? null : encodeValue(type.of, v, names, depth);
  if (names && typeof v === 'number' && type?.t === 'flags') return flagWord(type, v);
  if (names && typeof v === 'number' && type?.t === 'enum') return enumValue(type.values, v);
  if (Array.isArray(v))
    return v.map((x) => encodeValue(type?.t === 'array' ? type.of : undefined, x, names, depth + 1));
  if (isRecord(v)) {
    const fields = type?.t === 'struct' ? type.fields : undefined;
    const out: Record<string, unknown> = {};
    for (const k of ordered(fields, v)) {
      if (v[k] === undefined) continue;
      setOwn(out, k, encodeValue(fields && Object.hasOwn(fields, k) ? fields[k] : undefined, v[k], names, depth + 1));
    }
    return out;
  }
  return encodeField(type, v);
}
