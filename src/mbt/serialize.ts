/**
 * Canonical serialization of machine snapshots, contexts and events (design "XState traps").
 *
 * `xstate/graph` keys states with `JSON.stringify({ value, context })`: object key order
 * splits one state in two, a `Map`/`Set` collapses distinct states and a `bigint` aborts
 * the traversal. The encoding here is canonical instead:
 *  - object keys are sorted, keys whose value is `undefined` are left out (as JSON does);
 *  - a bigint is written as a bare `123n` token (never confused with the string "123n",
 *    which is written quoted), a negative one as `-5n`;
 *  - a byte buffer (Uint8Array) is written as `<hex>`;
 *  - `Map`, `Set`, functions, symbols and non-finite numbers are refused with an error
 *    naming where they were found (contexts must be plain data, design "Layers" 3).
 */
import type { StateValue } from 'xstate';

/** A value that cannot be encoded canonically (a Map in a context, a NaN…). */
export class NotCanonicalError extends Error {
  constructor(
    readonly where: string,
    readonly what: string,
  ) {
    super(`${where}: ${what} cannot be serialized canonically`);
  }
}

function encode(v: unknown, where: string): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new NotCanonicalError(where, `the number ${v}`);
      return Object.is(v, -0) ? '0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'function':
    case 'symbol':
      throw new NotCanonicalError(where, `a ${typeof v}`);
  }
  if (v === null) return 'null';
  if (v instanceof Map) throw new NotCanonicalError(where, 'a Map');
  if (v instanceof Set) throw new NotCanonicalError(where, 'a Set');
  if (v instanceof Uint8Array) return `<${Buffer.from(v).toString('hex')}>`;
  if (Array.isArray(v)) return `[${v.map((x, i) => encode(x, `${where}[${i}]`)).join(',')}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null)
    throw new NotCanonicalError(where, `an instance of ${proto?.constructor?.name ?? '?'}`);
  const rec = v as Record<string, unknown>;
  const keys = Object.keys(rec)
    .filter((k) => rec[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(rec[k], `${where}.${k}`)}`).join(',')}}`;
}

/** The canonical text of any plain value (see the module comment for the encoding). */
export function canonicalize(value: unknown, where = 'value'): string {
  return encode(value, where);
}

/** The canonical key of a machine state: its state value and (abstracted) context. */
export function canonicalKey(value: StateValue | unknown, context: unknown): string {
  return encode({ context, value }, 'state');
}

/** What a snapshot serializer needs from a snapshot (an XState MachineSnapshot has both). */
export interface SnapshotLike {
  value: unknown;
  context: unknown;
}

/**
 * A `serializeState` for `createTestModel` / `getShortestPaths`: the canonical key of the
 * snapshot's value and `abstract(context)`. The abstraction is per machine (for example a
 * ref-count capped at 2, a list reduced to its length) and must keep everything the
 * machine's guards read, so that states with one key behave alike.
 */
export function snapshotSerializer<C>(
  abstract: (context: C) => unknown = (c) => c,
): (snapshot: SnapshotLike) => string {
  return (snapshot) => canonicalKey(snapshot.value, abstract(snapshot.context as C));
}

/** A `serializeEvent` for `createTestModel`: the canonical text of the event object. */
export function serializeEvent(event: { type: string }): string {
  return encode(event, `event ${event.type}`);
}

/**
 * Run `fn` with `BigInt.prototype.toJSON` defined (as the canonical "123n" text), then
 * restore the previous state. `xstate/graph` builds human-readable path descriptions with
 * `JSON.stringify` of events and contexts, which throws on a bigint; the state keys
 * themselves never go through JSON (they use the serializers above).
 */
export function withBigIntJson<T>(fn: () => T): T {
  const proto = BigInt.prototype as unknown as { toJSON?: () => string };
  const had = Object.hasOwn(proto, 'toJSON');
  const previous = proto.toJSON;
  proto.toJSON = function (this: bigint) {
    return `${this.toString()}n`;
  };
  try {
    return fn();
  } finally {
    if (had) proto.toJSON = previous;
    else delete proto.toJSON;
  }
}
