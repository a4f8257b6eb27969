/**
 * The replaying thread's side of the reader thread's batches (event-codec.ts has the format):
 * each call's arguments are rebuilt by code generated once per schema, an object literal with
 * the field names as literals, read in schema order, the way the reader's own decoders are
 * built (src/ioctls/schema-quick.ts); a batch is decoded a few events at a time.
 */
import { callDef } from '../ioctls/registry.js';
import { fieldNames, type FieldType, type Schema } from '../ioctls/schema.js';
import { type EncodedBatch, HAS_ARGS, HAS_BY, HAS_FD, HAS_PID, HAS_RET, HAS_SIDE } from './event-codec.js';
import { type LogLine, NO_REFS } from './event-fields.js';
import type { LogItem } from './reader.js';

/** The read position in a batch being decoded; the generated decoders advance it. */
interface Cursor {
  num: Float64Array;
  big: BigUint64Array;
  side: unknown[];
  n: number;
  b: number;
  s: number;
}

type Read = (r: Cursor) => unknown;

function readArray(of: Read): Read {
  return (r) => {
    const len = r.num[r.n++]!;
    const out = new Array<unknown>(len);
    for (let i = 0; i < len; i++) out[i] = of(r);
    return out;
  };
}

/** JavaScript that reads one value of `type` from cursor `r` (helpers in `h`). */
function readCode(type: FieldType, h: Read[]): string {
  switch (type.t) {
    case 'u32':
    case 's32':
    case 'flags':
    case 'enum':
      return 'r.num[r.n++]';
    case 'u64':
      return 'r.big[r.b++]';
    case 'bool':
      return 'r.num[r.n++] === 1';
    case 'string':
    case 'bytes':
      return 'r.side[r.s++]';
    case 'nullable':
      return `(r.num[r.n++] === 0 ? null : ${readCode(type.of, h)})`;
    case 'array':
      h.push(readArray(compileRead(type.of)));
      return `h[${h.length - 1}](r)`;
    case 'struct':
      h.push(structReader(type.fields));
      return `h[${h.length - 1}](r)`;
  }
}

function compileRead(type: FieldType): Read {
  const h: Read[] = [];
  return new Function('h', `return function read(r) { return ${readCode(type, h)}; };`)(h) as Read;
}

const READERS = new WeakMap<Schema, Read>();

/**
 * The decoder of a struct schema: an object literal with the field names as literals
 * (quoted by JSON.stringify; they are the schema's own C names), read in schema order.
 * `"__proto__": v` in a literal would set the prototype: no C struct has such a field.
 */
function structReader(schema: Schema): Read {
  let read = READERS.get(schema);
  if (!read) {
    const h: Read[] = [];
    if (Object.hasOwn(schema, '__proto__')) throw new Error('event-decode: a schema field named __proto__');
    const fields = fieldNames(schema).map((k) => `${JSON.stringify(k)}: ${readCode(schema[k]!, h)}`);
    read = new Function('h', `return function readStruct(r) { return { ${fields.join(', ')} }; };`)(h) as Read;
    READERS.set(schema, read);
  }
  return read;
}

/**
 * Decodes a batch a few items at a time (the replaying thread's side). The replay takes
 * each few before the next are built, so that its events die young: a whole megabyte
 * batch of events built at once outlives a young-generation collection and is copied.
 */
export class BatchDecoder {
  private readonly r: Cursor;
  private readonly readers: Read[];

  constructor(private readonly batch: EncodedBatch) {
    this.r = { num: batch.num, big: batch.big, side: batch.side, n: 0, b: 0, s: 0 };
    this.readers = batch.calls.map((c) => structReader(callDef(c)!.args));
  }

  /** Whether every item has been taken. */
  get done(): boolean {
    return this.r.n >= this.batch.num.length;
  }

  /** The next `max` items (fewer at the end). */
  take(max: number): LogItem[] {
    const { r, batch, readers } = this;
    const items: LogItem[] = [];
    const end = batch.num.length;
    while (r.n < end && items.length < max) {
      const tag = r.num[r.n++]!;
      if (tag < 0) {
        // A whole item: the next entry of `side`.
        items.push(batch.side[r.s++] as LogItem);
        continue;
      }
      const line = r.num[r.n++]!;
      const mask = r.num[r.n++]!;
      const ev: LogLine = { line, call: batch.calls[tag]!, refs: NO_REFS };
      if (mask & HAS_PID) ev.pid = r.num[r.n++]!;
      if (mask & HAS_FD) ev.fd = r.num[r.n++]!;
      if (mask & HAS_RET) ev.ret = r.num[r.n++]!;
      if (mask & HAS_BY) ev.by = r.num[r.n++]!;
      if (mask & HAS_SIDE) Object.assign(ev, r.side[r.s++]);
      if (mask & HAS_ARGS) ev.args = readers[tag]!(r) as Record<string, unknown>;
      items.push({ event: ev });
    }
    return items;
  }
}

/** Decode a whole batch: the items encodeBatch was given. */
export function decodeBatch(batch: EncodedBatch): LogItem[] {
  return new BatchDecoder(batch).take(Infinity);
}
