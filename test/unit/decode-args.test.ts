/**
 * decodeArgs' fast path (src/ioctls/schema-quick.ts) against the field-by-field decoder it
 * falls back to: on random argument objects for every registered call, both give the
 * same value, or both refuse with the same error. And the reader's line-level shortcut
 * (src/log/event-fields.ts eventArgs: no walk of the arguments when the line has no `$` or
 * `\` and the fast path accepts them) against the same line forced through the walk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import '../../src/ioctls/all.js';
import { allCalls } from '../../src/ioctls/registry.js';
import { decodeArgs, decodeField, type FieldType, type Schema, zeroOf } from '../../src/ioctls/schema.js';
import { LogError } from '../../src/log/errors.js';
import { LogParser } from '../../src/log/reader.js';

/** The reference: unknown keys first, then every field through decodeField. */
function reference(schema: Schema, raw: Record<string, unknown>, where: string): Record<string, unknown> {
  for (const k of Object.keys(raw))
    if (!Object.hasOwn(schema, k)) {
      const known = Object.keys(schema);
      throw new InputError(`${where}.${k}`, known.length ? `one of ${known.join(', ')}` : 'no arguments', k);
    }
  const out: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(schema))
    out[k] = Object.hasOwn(raw, k) ? decodeField(t, raw[k], `${where}.${k}`) : zeroOf(t);
  return out;
}

function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (e) {
    if (e instanceof InputError) return { error: e.message };
    throw e;
  }
}

const scalar = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 32 + 5 }),
  fc.constantFrom(0, -0, 1.5, 2 ** 53, 2 ** 64, Number.NaN, 0xffffffff, 0x100000000),
  fc.constantFrom('0x10', '0xZZ', '16', '-1', '0x' + 'f'.repeat(16), '0x1' + '0'.repeat(16), '', 'abc', '$5.handle'),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -1n, max: 1n << 65n }),
);

/** A value for a field: often a valid one (names of flags and enums), sometimes anything. */
function valueFor(t: FieldType, depth: number): fc.Arbitrary<unknown> {
  const any = depth > 2 ? scalar : fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.constant({}));
  switch (t.t) {
    case 'flags':
      return fc.oneof(fc.subarray([...Object.keys(t.family), 'NOPE']), any);
    case 'enum':
      return fc.oneof(fc.constantFrom(...Object.keys(t.values), 'NOPE', `${t.prefix}${Object.keys(t.values)[0]}`), any);
    case 'array':
      return fc.oneof(fc.array(valueFor(t.of, depth + 1), { maxLength: 3 }), any);
    case 'nullable':
      return fc.oneof(fc.constant(null), valueFor(t.of, depth + 1));
    case 'struct':
      return depth > 2 ? any : fc.oneof(argsFor(t.fields, depth + 1), any);
    default:
      return any;
  }
}

function argsFor(schema: Schema, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(Object.entries(schema).map(([k, t]) => [k, valueFor(t, depth)]));
  return fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.boolean())
    .map(([r, extra]) => (extra ? { ...r, bogus: 1 } : r));
}

describe('decodeArgs: the fast path equals the field-by-field decoder', () => {
  for (const def of allCalls()) {
    if (Object.keys(def.args).length === 0) continue;
    it(`${def.name}: same value or same error on random arguments`, () => {
      fc.assert(
        fc.property(argsFor(def.args), (raw) => {
          expect(outcome(() => decodeArgs(def.args, raw, 'args'))).toEqual(
            outcome(() => reference(def.args, raw, 'args')),
          );
        }),
        { numRuns: 60, seed: 0x5c4 },
      );
    });
  }
});

/** A log line's JSON text for random arguments (bigints written as the log writes u64s). */
function lineText(call: string, raw: Record<string, unknown>): string {
  const args = JSON.stringify(raw, (_k, v: unknown) =>
    typeof v === 'bigint' ? (v < 0n ? v.toString() : `0x${v.toString(16)}`) : v,
  );
  return `{"pid":100,"call":${JSON.stringify(call)},"fd":3,"args":${args}}`;
}

/** The same line with the call name's first letter written as a \u escape: the same JSON value. */
function escapedText(call: string, text: string): string {
  const esc = `\\u${call.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return text.replace(`"call":"${call}"`, `"call":"${esc}${call.slice(1)}"`);
}

/** The line read, or its error; `shifted`: columns after `at` are that much further right in this text. */
function lineOutcome(text: string, at = 0, shifted = 0): unknown {
  const parser = new LogParser('t.jsonl');
  parser.next(HEADER);
  try {
    return { value: parser.next(text) };
  } catch (e) {
    if (!(e instanceof LogError)) throw e;
    const column = e.column > at ? e.column - shifted : e.column;
    return { error: { line: e.line, column, path: e.path, expected: e.expected, found: e.found } };
  }
}

const HEADER = '{"gpucr":1,"topology":{"gpus":[{"gpu_id":4098,"render_minor":128,"vram_size":"0x100000000000"}]}}';

describe('the reader: a line without `$` or `\\` skips the walk of its arguments', () => {
  for (const def of allCalls()) {
    if (Object.keys(def.args).length === 0) continue;
    it(`${def.name}: the same line, or the same error, as when the line takes the walk`, () => {
      fc.assert(
        fc.property(argsFor(def.args), (raw) => {
          const text = lineText(def.name, raw);
          const slow = escapedText(def.name, text);
          expect(slow).not.toBe(text);
          // The escape is 6 characters where the letter was 1: later columns move by 5.
          const at = text.indexOf('"call":"') + '"call":"'.length;
          expect(lineOutcome(text)).toEqual(lineOutcome(slow, at, 5));
        }),
        { numRuns: 40, seed: 0x5c5 },
      );
    });
  }
});

describe('the reader: a reference in a string field is a reference however it is written', () => {
  // open's path is a string: without the walk, "$2.fd" would be read as a file name.
  const lines = [HEADER, '{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"ret":0,"out":{"fd":3}}'];
  for (const [how, path] of [
    ['plainly', '"$2.fd"'],
    ['with a \\u escape for $', '"\\u00242.fd"'],
  ] as const) {
    it(`written ${how}`, () => {
      const parser = new LogParser('t.jsonl');
      for (const l of lines) parser.next(l);
      const item = parser.next(`{"pid":100,"call":"open","args":{"path":${path}}}`);
      expect(item.event?.refs.map((r) => r.text)).toEqual(['$2.fd']);
      expect(item.event?.args).toBeUndefined();
    });
  }
});
