/**
 * Validated log items as typed arrays, for the reader thread of a replay (read-thread.ts).
 *
 * Handing the items to the replaying thread as objects means a structured clone, whose
 * deserialisation costs more per event than JSON.parse of its line (issue 4,
 * docs/benchmarks.md). An event is instead written as numbers: its line, call, pid, fd,
 * ret and by, then its arguments field by field in the order of the call's schema
 * (numbers into a Float64Array, u64s into a BigUint64Array), and rebuilt on the other side
 * by code generated per schema, with the field names as literals, like the reader's own
 * decoders (src/ioctls/schema-quick.ts). What has no place in the arrays — the header, an
 * `out` assertion, arguments with references, a `"<pid>:<fd>"` fd, strings and byte buffers
 * — travels in `side`, a list the structured clone carries; most lines have none of them.
 *
 * This module is the format and its writing side (the reader thread); event-decode.ts is
 * the replay's side. decodeBatch(encodeBatch(items)) equals `items`, key order included
 * (test/log/event-codec.test.ts checks it on random arguments of every registered call).
 */
import '../ioctls/all.js';
import { callDef } from '../ioctls/registry.js';
import { fieldNames, type FieldType, type Schema } from '../ioctls/schema.js';
import { doubled } from '../typed-array.js';
import type { LogLine } from './event-fields.js';
import type { LogItem } from './reader.js';

/** A batch of items as the reader thread posts it. */
export interface EncodedBatch {
  /** The items' calls, by their index in the numbers. */
  calls: string[];
  /** Numbers: per item its tag (a call index, or -1: the item travels whole, as the next entry of `side`), then its fields. */
  num: Float64Array;
  /** The u64 argument values, in order. */
  big: BigUint64Array;
  /** What the arrays do not hold, in order. */
  side: unknown[];
  /** Characters read for these items, newlines included (progress). */
  chars: number;
}

/** Which optional fields of an event follow its line number (a bit mask). */
export const HAS_PID = 1;
export const HAS_FD = 2;
export const HAS_RET = 4;
export const HAS_BY = 8;
/** `side` holds the event's other fields: its out assertion, its rawArgs and refs. */
export const HAS_SIDE = 16;
export const HAS_ARGS = 32;

/** A growing pair of typed arrays and the side list, written in order. */
class Writer {
  num = new Float64Array(1 << 14);
  big = new BigUint64Array(1 << 12);
  n = 0;
  b = 0;
  side: unknown[] = [];

  number(x: number): void {
    if (this.n === this.num.length) this.num = doubled(this.num);
    this.num[this.n++] = x;
  }

  u64(x: bigint): void {
    if (this.b === this.big.length) this.big = doubled(this.big);
    this.big[this.b++] = x;
  }
}

const U64_LIMIT = 1n << 64n;

/**
 * Write a decoded value of `type`; false (having written something) when the value is not
 * what the decoders make of that type, which only a bug would give: the caller then sends
 * the whole event in `side`.
 */
function writeValue(w: Writer, type: FieldType, v: unknown): boolean {
  switch (type.t) {
    case 'u32':
    case 's32':
    case 'flags':
    case 'enum':
      if (typeof v !== 'number') return false;
      w.number(v);
      return true;
    case 'u64':
      if (typeof v !== 'bigint' || v < 0n || v >= U64_LIMIT) return false;
      w.u64(v);
      return true;
    case 'bool':
      if (typeof v !== 'boolean') return false;
      w.number(v ? 1 : 0);
      return true;
    case 'string':
      if (typeof v !== 'string') return false;
      w.side.push(v);
      return true;
    case 'bytes':
      if (!(v instanceof Uint8Array)) return false;
      w.side.push(v);
      return true;
    case 'nullable':
      if (v === null) {
        w.number(0);
        return true;
      }
      w.number(1);
      return writeValue(w, type.of, v);
    case 'array':
      if (!Array.isArray(v)) return false;
      w.number(v.length);
      for (const x of v) if (!writeValue(w, type.of, x)) return false;
      return true;
    case 'struct':
      return writeStruct(w, type.fields, v);
  }
}

function writeStruct(w: Writer, schema: Schema, v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  // Exactly the schema's keys, in its order: the decoder rebuilds that object.
  let i = 0;
  const names = fieldNames(schema);
  for (const k in o) if (k !== names[i++]) return false;
  if (i !== names.length) return false;
  for (const k of names) if (!writeValue(w, schema[k]!, o[k])) return false;
  return true;
}

/** The fields of an event that travel in `side`, in the reader's key order (undefined when it has none). */
function sideOf(ev: LogLine): Partial<LogLine> | undefined {
  let s: Partial<LogLine> | undefined;
  if (ev.out !== undefined) (s ??= {}).out = ev.out;
  if (ev.rawArgs !== undefined) (s ??= {}).rawArgs = ev.rawArgs;
  if (ev.refs.length > 0) (s ??= {}).refs = ev.refs;
  return s;
}

/**
 * Write one event; false when it must travel whole in `side` (the caller then rolls the
 * writer back): an fd of another process ("<pid>:<fd>"), or arguments that are not what
 * the call's schema decodes to.
 */
function writeEvent(w: Writer, ev: LogLine, callIndex: number): boolean {
  const def = callDef(ev.call);
  if (!def || (ev.fd !== undefined && typeof ev.fd !== 'number')) return false;
  const side = sideOf(ev);
  let mask = 0;
  if (ev.pid !== undefined) mask |= HAS_PID;
  if (typeof ev.fd === 'number') mask |= HAS_FD;
  if (ev.ret !== undefined) mask |= HAS_RET;
  if (ev.by !== undefined) mask |= HAS_BY;
  if (side) mask |= HAS_SIDE;
  if (ev.args !== undefined) mask |= HAS_ARGS;
  w.number(callIndex);
  w.number(ev.line);
  w.number(mask);
  if (mask & HAS_PID) w.number(ev.pid!);
  if (mask & HAS_FD) w.number(ev.fd as number);
  if (mask & HAS_RET) w.number(ev.ret!);
  if (mask & HAS_BY) w.number(ev.by!);
  if (side) w.side.push(side);
  return ev.args === undefined || writeStruct(w, def.args, ev.args);
}

/** Encode a batch of validated items (the reader thread's side). */
export function encodeBatch(items: readonly LogItem[], chars: number): EncodedBatch {
  const w = new Writer();
  const calls: string[] = [];
  const index = new Map<string, number>();
  for (const item of items) {
    const ev = item.event;
    if (ev) {
      let c = index.get(ev.call);
      if (c === undefined) {
        c = calls.length;
        calls.push(ev.call);
        index.set(ev.call, c);
      }
      const [n, b, s] = [w.n, w.b, w.side.length];
      if (writeEvent(w, ev, c)) continue;
      w.n = n;
      w.b = b;
      w.side.length = s;
    }
    w.number(-1);
    w.side.push(item);
  }
  return { calls, num: w.num.subarray(0, w.n), big: w.big.subarray(0, w.b), side: w.side, chars };
}
