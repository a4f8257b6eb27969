/**
 * Fuzzing the log reader and replay (design "Bad input": "Fuzz tests feed random
 * mutations of valid inputs and require zero uncaught exceptions").
 *
 * Valid example logs are mutated — truncated, bytes flipped, keys dropped, duplicated
 * or renamed to __proto__ / constructor / prototype, numbers pushed out of range,
 * values nested thousands deep, counts made huge, lines deleted, duplicated or
 * swapped — and each result goes through readLog and replay in this process. The
 * only outcomes allowed: a replay report (ok, divergence or invariant violation), or
 * an InputError (a LogError for log lines) whose message starts with the file name.
 * Anything else (a TypeError from a handler, a RangeError, a stack overflow) fails.
 *
 * 10,000 cases in all, split between the mutation kinds below.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { allInvariants } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';

const FILE = 'fuzz.jsonl';
const example = (name: string) => readFileSync(new URL(`../../docs/examples/${name}.jsonl`, import.meta.url), 'utf8');
const BASES = {
  design: example('design-example'),
  ioctl: example('kfd-ioctl-errors'),
  criu: example('kfd-criu-errors'),
  restore: example('kfd-restore-resume'),
};
type Base = keyof typeof BASES;
const INVARIANTS = allInvariants();

let reports = 0;
let inputErrors = 0;

/** Read and replay a text; throw (failing the property) on anything but a report or an InputError. */
function outcome(text: string, checkInvariants: boolean): void {
  try {
    const { header, events } = readLog(text, FILE, { requireNewline: text.endsWith('\n') });
    const rep = replay(header, events, { file: FILE, invariants: checkInvariants ? INVARIANTS : [] });
    if (typeof rep.ok !== 'boolean' || rep.events < 0) throw new Error('replay gave no report');
    reports++;
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    if (!e.message.startsWith(`${FILE}:`)) throw new Error(`an InputError that does not name the place: ${e.message}`);
    if (e.message.length > 4000) throw new Error(`a message of ${e.message.length} characters`);
    inputErrors++;
  }
}

// ---- mutations -------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every place in a JSON tree (containers and leaves), up to a depth. */
function places(v: Json, path: Path = [], out: [Path, Json][] = []): [Path, Json][] {
  out.push([path, v]);
  if (path.length > 6) return out;
  if (Array.isArray(v)) v.forEach((x, i) => places(x, [...path, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) places(v[k]!, [...path, k], out);
  return out;
}

function setIn(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value;
  let v = root as Record<string | number, Json>;
  for (const seg of path.slice(0, -1)) v = v[seg] as Record<string | number, Json>;
  Object.defineProperty(v, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

function deleteIn(root: Json, path: Path): Json {
  if (path.length === 0) return root;
  let v = root as Record<string | number, Json>;
  for (const seg of path.slice(0, -1)) v = v[seg] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (Array.isArray(v)) v.splice(last as number, 1);
  else delete v[last];
  return root;
}

const lines = (text: string) => text.trimEnd().split('\n');
const join = (ls: string[], newline: boolean) => `${ls.join('\n')}${newline ? '\n' : ''}`;

/** Edit line `i % n` of a text as JSON. */
function editLine(text: string, i: number, f: (v: Json) => Json, newline = true): string {
  const ls = lines(text);
  const n = i % ls.length;
  ls[n] = JSON.stringify(f(JSON.parse(ls[n]!) as Json));
  return join(ls, newline);
}

/** A value nested `depth` levels deep, as text (JSON.stringify of it could overflow the stack). */
function nestedText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const DEEP = '\u0000deep\u0000';

const OUT_OF_RANGE: Json[] = [
  -1,
  -0,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  1e308,
  9007199254740993,
  '0x',
  '0x1ffffffffffffffff',
  '18446744073709551616',
  '-1',
  'NaN',
  '0xZZ',
  '',
  null,
  true,
  [],
  {},
];

const HUGE: Json[] = [4294967295, 2147483647, '0xffffffffffffffff', 9007199254740991, 1048577];
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

const index = fc.nat({ max: 1 << 20 });

function mutations(base: Base): Record<string, fc.Arbitrary<string>> {
  const text = BASES[base];
  const bytes = Buffer.from(text, 'utf8');
  return {
    truncate: fc
      .tuple(fc.integer({ min: 0, max: text.length }), fc.boolean())
      .map(([n, nl]) => text.slice(0, n) + (nl ? '\n' : '')),
    flip: fc
      .array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((flips) => {
        const b = Buffer.from(bytes);
        for (const [pos, v] of flips) b[pos] = v;
        return b.toString('utf8');
      }),
    dropKey: fc.tuple(index, index).map(([l, p]) =>
      editLine(text, l, (v) => {
        const ps = places(v).filter(([path]) => path.length > 0);
        return ps.length ? deleteIn(v, ps[p % ps.length]![0]) : v;
      }),
    ),
    duplicateKey: fc.tuple(index, index, fc.jsonValue({ maxDepth: 2 })).map(([l, p, value]) => {
      const ls = lines(text);
      const n = l % ls.length;
      const v = JSON.parse(ls[n]!) as Json;
      const keys = places(v).filter(([path]) => typeof path[path.length - 1] === 'string');
      if (!keys.length) return text;
      const key = keys[p % keys.length]![0].at(-1) as string;
      // A second occurrence of the key, textually: JSON.parse keeps the last one.
      ls[n] = ls[n]!.replace(`"${key}":`, `"${key}":${JSON.stringify(value)},"${key}":`);
      return join(ls, true);
    }),
    forbiddenKey: fc
      .tuple(index, index, fc.constantFrom(...FORBIDDEN), fc.jsonValue({ maxDepth: 2 }))
      .map(([l, p, key, value]) => {
        const ls = lines(text);
        const n = l % ls.length;
        // Insert `"__proto__":value` textually right after the opening brace of some object.
        const opens = [...ls[n]!.matchAll(/\{/g)].map((m) => m.index);
        const at = opens[p % opens.length]! + 1;
        const close = ls[n]![at] === '}' ? '' : ',';
        ls[n] = `${ls[n]!.slice(0, at)}"${key}":${JSON.stringify(value)}${close}${ls[n]!.slice(at)}`;
        return join(ls, true);
      }),
    outOfRange: fc.tuple(index, index, fc.constantFrom(...OUT_OF_RANGE)).map(([l, p, value]) =>
      editLine(text, l, (v) => {
        const ps = places(v).filter(([path, x]) => path.length > 0 && (typeof x === 'number' || typeof x === 'string'));
        return ps.length ? setIn(v, ps[p % ps.length]![0], value) : v;
      }),
    ),
    deep: fc
      .tuple(index, index, fc.integer({ min: 1, max: 5000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
      .map(([l, p, depth, kind]) =>
        editLine(text, l, (v) => {
          const ps = places(v).filter(([path]) => path.length > 0);
          return ps.length ? setIn(v, ps[p % ps.length]![0], DEEP) : v;
        }).replace(JSON.stringify(DEEP), nestedText(depth, kind)),
      ),
    huge: fc.tuple(index, index, fc.constantFrom(...HUGE), fc.integer({ min: 0, max: 3000 })).map(([l, p, value, n]) =>
      editLine(text, l, (v) => {
        const ps = places(v).filter(([path]) => path.length > 0);
        if (!ps.length) return v;
        const [path, old] = ps[p % ps.length]!;
        // A huge count, or an array of many copies of what was there.
        return setIn(v, path, Array.isArray(old) ? Array.from({ length: n }, () => old[0] ?? 0) : value);
      }),
    ),
    lines: fc.tuple(index, index, fc.constantFrom('delete', 'duplicate', 'swap', 'json')).chain(([a, b, op]) =>
      fc.jsonValue({ maxDepth: 3 }).map((value) => {
        const ls = lines(text);
        const i = a % ls.length;
        const j = b % ls.length;
        if (op === 'delete') ls.splice(i, 1);
        else if (op === 'duplicate') ls.splice(j, 0, ls[i]!);
        else if (op === 'swap') [ls[i], ls[j]] = [ls[j]!, ls[i]!];
        else ls[i] = JSON.stringify(value) ?? 'null';
        return join(ls, true);
      }),
    ),
  };
}

/** Cases per mutation kind and base log: 10,000 in all. */
const PLAN: [string, Base, number][] = [
  ['truncate', 'design', 800],
  ['truncate', 'criu', 500],
  ['flip', 'design', 900],
  ['flip', 'ioctl', 600],
  ['flip', 'restore', 300],
  ['dropKey', 'ioctl', 700],
  ['dropKey', 'criu', 500],
  ['dropKey', 'restore', 300],
  ['duplicateKey', 'design', 400],
  ['duplicateKey', 'criu', 400],
  ['forbiddenKey', 'design', 400],
  ['forbiddenKey', 'ioctl', 400],
  ['outOfRange', 'ioctl', 800],
  ['outOfRange', 'criu', 600],
  ['outOfRange', 'restore', 300],
  ['deep', 'design', 300],
  ['deep', 'criu', 200],
  ['huge', 'criu', 500],
  ['huge', 'restore', 200],
  ['lines', 'ioctl', 600],
  ['lines', 'restore', 300],
];

describe('fuzzing readLog + replay with mutations of valid logs', () => {
  it('plans 10,000 cases', () => {
    expect(PLAN.reduce((n, [, , runs]) => n + runs, 0)).toBe(10_000);
  });

  for (const [kind, base, numRuns] of PLAN) {
    it(`${kind} of ${base} (${numRuns} cases): a report or an InputError, nothing else`, () => {
      const arb = mutations(base)[kind]!;
      fc.assert(
        fc.property(arb, fc.boolean(), (text, inv) => {
          outcome(text, inv);
        }),
        { numRuns },
      );
    });
  }

  afterAll(() => {
    // Nothing reached Object.prototype, and both outcomes were seen.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(reports).toBeGreaterThan(0);
    expect(inputErrors).toBeGreaterThan(0);
  });
});
