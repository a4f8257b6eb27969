/**
 * The reader thread's batch encoding (src/log/event-codec.ts): decodeBatch of a
 * structured clone of encodeBatch(items) gives `items` back exactly — every field, key
 * order, bigints, -0, byte buffers — on random events of every registered call, and on
 * every line of every example log. A replay must not be able to tell which thread read
 * its log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../src/ioctls/all.js';
import { allCalls } from '../../src/ioctls/registry.js';
import type { FieldType, Schema } from '../../src/ioctls/schema.js';
import { type EncodedBatch, encodeBatch } from '../../src/log/event-codec.js';
import { decodeBatch } from '../../src/log/event-decode.js';
import type { LogLine } from '../../src/log/event-fields.js';
import { type LogItem, readLog } from '../../src/log/reader.js';
import { ROOT } from '../cli/helpers.js';
import { exact } from './exact.js';

/** Through the thread boundary: the batch as the replay receives it. */
function roundTrip(items: LogItem[]): LogItem[] {
  const batch: EncodedBatch = structuredClone(encodeBatch(items, 0));
  return decodeBatch(batch);
}

/** A decoded value of a field type, as the reader's decoders make them. */
function decoded(t: FieldType, depth = 0): fc.Arbitrary<unknown> {
  switch (t.t) {
    case 'u32':
    case 'flags':
    case 'enum':
      return fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
    case 's32':
      return fc.oneof(fc.constantFrom(-0, -(2 ** 31), 2 ** 31 - 1), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    case 'u64':
      return fc.oneof(fc.constantFrom(0n, (1n << 64n) - 1n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 8 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 8 });
    case 'nullable':
      return fc.oneof(fc.constant(null), decoded(t.of, depth));
    case 'array':
      return fc.array(decoded(t.of, depth + 1), { maxLength: depth > 1 ? 1 : 3 });
    case 'struct':
      return decodedArgs(t.fields, depth + 1);
  }
}

/** Decoded arguments: every field of the schema, in its order (zero-filled, as the reader gives them). */
function decodedArgs(schema: Schema, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(schema);
  return fc
    .tuple(...keys.map((k) => decoded(schema[k]!, depth)))
    .map((vs) => Object.fromEntries(keys.map((k, i) => [k, vs[i]])));
}

/** An event of `call` in the reader's key order: line, call, refs, pid, fd, ret, by, out, args. */
function eventOf(call: string, schema: Schema): fc.Arbitrary<LogItem> {
  return fc
    .record(
      {
        line: fc.integer({ min: 2, max: 2 ** 31 - 1 }),
        pid: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fd: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constant({ pid: 7, fd: 3 })),
        ret: fc.integer({ min: -4095, max: 2 ** 31 - 1 }),
        by: fc.integer({ min: 2, max: 100 }),
        out: fc.constant({ handle: 5n }),
        args: decodedArgs(schema),
      },
      { requiredKeys: ['line', 'args'] },
    )
    .map((r) => {
      const ev: LogLine = { line: r.line, call, refs: [] };
      for (const k of ['pid', 'fd', 'ret', 'by', 'out', 'args'] as const)
        if (r[k] !== undefined) (ev as unknown as Record<string, unknown>)[k] = r[k];
      return { event: ev };
    });
}

describe('event-codec: decodeBatch(encodeBatch(items)) is items', () => {
  for (const def of allCalls()) {
    it(`${def.name}: random events, alone and in a batch with others`, () => {
      const other = eventOf('AMDKFD_IOC_SET_EVENT', allCalls().find((d) => d.name === 'AMDKFD_IOC_SET_EVENT')!.args);
      fc.assert(
        fc.property(fc.array(fc.oneof(eventOf(def.name, def.args), other), { minLength: 1, maxLength: 6 }), (items) => {
          expect(exact(roundTrip(items))).toBe(exact(items));
        }),
        { numRuns: 40 },
      );
    });
  }

  it('every line of every example log (header, references, <pid>:<fd> fds, out assertions, byte buffers)', () => {
    const dir = join(ROOT, 'docs/examples');
    const kinds = { refs: 0, side: 0, header: 0 };
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl'))) {
      const { header, events } = readLog(readFileSync(join(dir, f), 'utf8'), f);
      const items: LogItem[] = [{ header }, ...events.map((event) => ({ event }))];
      expect(exact(roundTrip(items)), f).toBe(exact(items));
      kinds.header += 1;
      kinds.refs += events.filter((e) => e.refs.length > 0).length;
      kinds.side += events.filter((e) => typeof e.fd === 'object' || e.out !== undefined).length;
    }
    // The examples exercise what travels outside the typed arrays.
    expect(kinds.refs).toBeGreaterThan(0);
    expect(kinds.side).toBeGreaterThan(0);
  });

  it('an event whose arguments are not what its schema decodes to travels whole, unchanged', () => {
    const ev: LogLine = { line: 2, call: 'AMDKFD_IOC_SET_EVENT', refs: [], pid: 1, args: { event_id: 'x' } };
    const items: LogItem[] = [{ event: ev }];
    const batch = encodeBatch(items, 0);
    expect(batch.side).toEqual([{ event: ev }]);
    expect(exact(decodeBatch(structuredClone(batch)))).toBe(exact(items));
  });
});
