/**
 * The canonical encoding of world values (docs/log-format.md, "Snapshots"): one JSON
 * text per value, so that equal worlds give equal bytes and a content hash.
 *
 * - objects: keys sorted by UTF-16 code units (plain `<` order), `undefined` members
 *   left out; keys that start with `$` get one more `$` (`$$x` stands for `$x`);
 * - bigint: `"0x…"` lower-case hex (`"-0x…"` when negative), exact at any size;
 * - strings: as they are, except that a string that would read back as a bigint
 *   (`-?0x[0-9a-f]+`) or that starts with `'` gets a `'` in front;
 * - Uint8Array: `{"$bytes":"<hex>"}`;
 * - numbers: finite only (`-0` is written `0`); booleans and null as they are.
 *
 * Anything else (a function, a Map, a class instance, NaN, a cycle, nesting deeper
 * than MAX_CANONICAL_DEPTH) is a bug of the caller and throws a plain Error when
 * encoding; decoding (`fromCanonical`) turns every problem into an InputError that
 * names the place.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { FORBIDDEN_KEYS } from './values.js';

/** World values nest a few levels; this bounds the recursion on hostile input. */
export const MAX_CANONICAL_DEPTH = 256;

const BIGINT = /^-?0x[0-9a-f]+$/;

function encodeString(s: string): string {
  return JSON.stringify(s.charCodeAt(0) === 0x27 || BIGINT.test(s) ? `'${s}` : s);
}

function encodeKey(k: string): string {
  return JSON.stringify(k.charCodeAt(0) === 0x24 ? `$${k}` : k);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Append the canonical text of `v` to `out`: scalars here, arrays and objects by their own writers. */
function write(v: unknown, depth: number, out: string[]): void {
  switch (typeof v) {
    case 'string':
      out.push(encodeString(v));
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`canonical: a number that JSON cannot hold (${v})`);
      out.push(Object.is(v, -0) ? '0' : JSON.stringify(v));
      return;
    case 'bigint':
      out.push(v < 0n ? `"-0x${(-v).toString(16)}"` : `"0x${v.toString(16)}"`);
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new Error(`canonical: a ${typeof v} is not a world value`);
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (depth >= MAX_CANONICAL_DEPTH) throw new Error('canonical: value nested too deeply');
  if (v instanceof Uint8Array) {
    out.push(`{"$bytes":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"}`);
    return;
  }
  if (Array.isArray(v)) {
    writeArray(v, depth, out);
    return;
  }
  if (!isPlainObject(v))
    throw new Error(`canonical: a ${v.constructor?.name ?? 'non-plain'} object is not a world value`);
  writeObject(v as Record<string, unknown>, depth, out);
}

/** Append an array at `depth`; a hole or an undefined element is no world value. */
function writeArray(v: unknown[], depth: number, out: string[]): void {
  out.push('[');
  for (let i = 0; i < v.length; i++) {
    if (i > 0) out.push(',');
    if (!(i in v) || v[i] === undefined) throw new Error('canonical: an array with a hole or undefined');
    write(v[i], depth + 1, out);
  }
  out.push(']');
}

/** Append a plain object at `depth`: keys sorted, undefined members left out. */
function writeObject(rec: Record<string, unknown>, depth: number, out: string[]): void {
  const keys = Object.keys(rec).sort();
  out.push('{');
  let first = true;
  for (const k of keys) {
    const x = rec[k];
    if (x === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(encodeKey(k), ':');
    write(x, depth + 1, out);
  }
  out.push('}');
}

/** The canonical JSON text of a world value (no whitespace). */
export function canonicalJson(v: unknown): string {
  const out: string[] = [];
  write(v, 0, out);
  return out.join('');
}

/** The canonical value (a JSON tree), for embedding in larger JSON documents. */
export function toCanonical(v: unknown): unknown {
  return JSON.parse(canonicalJson(v));
}

/** `sha256:<hex>` of a text's UTF-8 bytes. */
export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** The content hash of a world value: sha256 of its canonical bytes. */
export function canonicalHash(v: unknown): string {
  return sha256(canonicalJson(v));
}

/**
 * Decode a canonical JSON tree back to world values. `where` names the place in
 * messages (`snapshot: world.tasks.100.fds`).
 */
export function fromCanonical(v: unknown, where: string, depth = 0): unknown {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) === 0x27) return v.slice(1);
    if (BIGINT.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (typeof v !== 'object') throw new InputError(where, 'a JSON value', v);
  if (depth >= MAX_CANONICAL_DEPTH) throw new InputError(where, `at most ${MAX_CANONICAL_DEPTH} levels of nesting`, v);
  if (Array.isArray(v)) return v.map((x, i) => fromCanonical(x, `${where}[${i}]`, depth + 1));
  const rec = v as Record<string, unknown>;
  const keys = Object.keys(rec);
  if (keys.length === 1 && keys[0] === '$bytes') {
    const hex = rec.$bytes;
    if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex))
      throw new InputError(`${where}.$bytes`, 'lower-case hex digits, two per byte', hex);
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k.charCodeAt(0) === 0x24 && k.charCodeAt(1) !== 0x24)
      throw new InputError(`${where}.${k}`, 'a key (keys starting with $ are written $$)', k);
    const key = k.charCodeAt(0) === 0x24 ? k.slice(1) : k;
    if (FORBIDDEN_KEYS.has(key))
      throw new InputError(`${where}.${key}`, 'a key other than __proto__, constructor, prototype', key);
    Object.defineProperty(out, key, {
      value: fromCanonical(rec[k], `${where}.${key}`, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * A JSON tree (already encoded: strings, numbers, booleans, null, arrays, plain
 * objects) as text with keys sorted at every level. Unlike canonicalJson it does not
 * encode anything again: use it for documents that embed canonical values.
 */
export function sortedJson(v: unknown, depth = 0): string {
  if (depth > MAX_CANONICAL_DEPTH) throw new Error('sortedJson: value nested too deeply');
  if (Array.isArray(v)) return `[${v.map((x) => sortedJson(x, depth + 1)).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const rec = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(rec).sort()) {
      if (rec[k] === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${sortedJson(rec[k], depth + 1)}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (typeof v === 'bigint') throw new Error('sortedJson: a bigint in an encoded tree');
  return JSON.stringify(v) ?? 'null';
}
