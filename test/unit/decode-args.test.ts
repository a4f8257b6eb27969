/**
 * decodeArgs' fast path (src/ioctls/schema.ts) against the field-by-field decoder it
 * falls back to: on random argument objects for every registered call, both give the
 * same value, or both refuse with the same error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import '../../src/ioctls/all.js';
import { allCalls } from '../../src/ioctls/registry.js';
import { decodeArgs, decodeField, type FieldType, type Schema, zeroOf } from '../../src/ioctls/schema.js';

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
