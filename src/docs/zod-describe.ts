/**
 * A zod v4 schema read into words, in those of the snapshot checks — `u32`, `u64 (snapshot:
 * "0x…")`, `world id`, `true or false`, an enum's values, `… or null` — for the context table
 * of a machine page (context-table.ts). Kept apart from the table because it is the part that
 * knows zod's internals: what a definition holds, how checks fold into bounds and formats.
 *
 * zod v4 keeps a schema's structure in `schema._zod.def` (`type`, `shape`, `element`,
 * `innerType`, `keyType`/`valueType`, `entries`, `values`, `options`, `checks`); the
 * checks are folded here (earlier v4 releases also mirrored them in `schema._zod.bag`,
 * which is merged in when present).
 */
import { schemaKit, type z } from '../../machines/context-schema.js';

/** The parts of a zod v4 definition read here (the rest is left alone). */
interface Def {
  type: string;
  checks?: Check[];
  shape?: Record<string, Schema>;
  element?: Schema;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  getter?: () => Schema;
  keyType?: Schema;
  valueType?: Schema;
  entries?: Record<string, string | number>;
  values?: unknown[];
  options?: Schema[];
  discriminator?: string;
}

export interface CheckDef {
  check: string;
  value?: number | bigint;
  inclusive?: boolean;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  length?: number;
  path?: PropertyKey[];
  error?: (issue?: unknown) => unknown;
}

interface Check {
  _zod: { def: CheckDef };
}

interface Bag {
  minimum?: number | bigint;
  maximum?: number | bigint;
  format?: string;
  patterns?: Set<RegExp>;
}

export interface Schema {
  _zod: { def: Def; bag?: Bag };
}

const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2n ** 64n - 1n;

export const asSchema = (s: z.ZodType): Schema => s as unknown as Schema;
export const defOf = (s: Schema): Def => s._zod.def;
const checksOf = (s: Schema): CheckDef[] => (defOf(s).checks ?? []).map((c) => c._zod.def);

/** The regex of `worldId`, recognised by identity. */
const worldIdPattern = () => checksOf(asSchema(schemaKit().worldId)).find((c) => c.pattern)?.pattern?.source;

/** The bounds a number format implies (`z.int32()`, `z.uint32()`, …). */
const FORMAT_BOUNDS: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, U32_MAX],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
};

/** The message of a refinement, when it has a fixed one. */
export function refinementMessage(c: CheckDef): string | undefined {
  try {
    const m = c.error?.();
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The refinements (`.refine`, `.superRefine`) among a schema's checks. */
export function refinements(s: Schema): CheckDef[] {
  return checksOf(s).filter((c) => c.check === 'custom');
}

/** `checked: <message>` of a schema's own refinements (those on its value, not placed on a field). */
function inlineChecks(s: Schema, withPath: boolean): string[] {
  return refinements(s)
    .filter((c) => withPath || !(c.path && c.path.length > 0))
    .map((c) => refinementMessage(c) ?? 'further rules');
}

/** Lower and upper bounds of a number or bigint schema, with whether it is an integer. */
function bounds<T extends number | bigint>(
  s: Schema,
): { int: boolean; min?: T; max?: T; minOpen: boolean; maxOpen: boolean } {
  let int = false;
  let min: T | undefined;
  let max: T | undefined;
  let minOpen = false;
  let maxOpen = false;
  const lower = (v: T, open: boolean) => {
    if (min === undefined || v > min || (v === min && open)) [min, minOpen] = [v, open];
  };
  const upper = (v: T, open: boolean) => {
    if (max === undefined || v < max || (v === max && open)) [max, maxOpen] = [v, open];
  };
  for (const c of checksOf(s)) {
    if (c.check === 'number_format' && c.format !== undefined) {
      if (c.format.includes('int')) int = true;
      const b = FORMAT_BOUNDS[c.format];
      if (b) {
        lower(b[0] as T, false);
        upper(b[1] as T, false);
      }
    } else if (c.check === 'greater_than' && c.value !== undefined) lower(c.value as T, c.inclusive === false);
    else if (c.check === 'less_than' && c.value !== undefined) upper(c.value as T, c.inclusive === false);
  }
  const bag = s._zod.bag ?? {};
  if (bag.format?.includes('int')) int = true;
  if (bag.minimum !== undefined) lower(bag.minimum as T, false);
  if (bag.maximum !== undefined) upper(bag.maximum as T, false);
  return { int, min, max, minOpen, maxOpen };
}

/** An integer's range: open bounds made closed (`gt(3)` is `≥ 4`). */
function closeInt(b: ReturnType<typeof bounds<number>>): { min?: number; max?: number } {
  const min = b.min === undefined ? undefined : b.minOpen ? Math.floor(b.min) + 1 : b.min;
  const max = b.max === undefined ? undefined : b.maxOpen ? Math.ceil(b.max) - 1 : b.max;
  return { min, max };
}

function rangeText(kind: string, min: number | bigint | undefined, max: number | bigint | undefined): string {
  if (min !== undefined && max !== undefined) return `${kind} ${min} … ${max}`;
  if (min !== undefined) return `${kind} ≥ ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

function numberText(s: Schema): string {
  const b = bounds<number>(s);
  if (b.int) {
    const { min, max } = closeInt(b);
    if (min === 0 && max === U32_MAX) return 'u32';
    return rangeText('integer', min, max);
  }
  if (b.min === undefined && b.max === undefined) return 'any number';
  const lo = b.min === undefined ? [] : [`${b.minOpen ? '>' : '≥'} ${b.min}`];
  const hi = b.max === undefined ? [] : [`${b.maxOpen ? '<' : '≤'} ${b.max}`];
  return `number ${[...lo, ...hi].join(' and ')}`;
}

function bigintText(s: Schema): string {
  const b = bounds<bigint>(s);
  const min = b.min === undefined ? undefined : b.minOpen ? b.min + 1n : b.min;
  const max = b.max === undefined ? undefined : b.maxOpen ? b.max - 1n : b.max;
  const base = min === 0n && max === U64_MAX ? 'u64' : rangeText('integer', min, max);
  return `${base} (snapshot: "0x…")`;
}

function lengthText(s: Schema, unit: string): string {
  let min: number | undefined;
  let max: number | undefined;
  for (const c of checksOf(s)) {
    if (c.check === 'min_length' && c.minimum !== undefined) min = Math.max(min ?? 0, c.minimum);
    else if (c.check === 'max_length' && c.maximum !== undefined) max = Math.min(max ?? Infinity, c.maximum);
    else if (c.check === 'length_equals' && c.length !== undefined) [min, max] = [c.length, c.length];
  }
  if (min === undefined && max === undefined) return '';
  if (min === max) return ` (${min} ${unit})`;
  return ` (${rangeText('', min, max).trim()} ${unit})`;
}

function stringText(s: Schema): string {
  const patterns = new Set<string>();
  const formats: string[] = [];
  for (const c of checksOf(s)) {
    if (c.check !== 'string_format') continue;
    if (c.pattern) patterns.add(c.pattern.source);
    else if (c.format) formats.push(c.format);
  }
  for (const p of s._zod.bag?.patterns ?? []) patterns.add(p.source);
  const len = lengthText(s, 'characters');
  if (patterns.size === 1 && patterns.has(worldIdPattern() ?? '') && !formats.length) return `world id${len}`;
  const parts = [...[...patterns].map((p) => `matching \`/${p}/\``), ...formats.map((f) => `in the ${f} format`)];
  return `string${len}${parts.length ? ` ${parts.join(' and ')}` : ''}`;
}

export const literal = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v)));

/** An object's field names, with the value of a literal field (`{t: "page", id, v}`). */
function objectText(s: Schema): string {
  const shape = defOf(s).shape ?? {};
  const keys = Object.keys(shape).map((k) => {
    const d = defOf(shape[k]!);
    return d.type === 'literal' && d.values?.length === 1 ? `${k}: ${literal(d.values[0])}` : k;
  });
  return `{${keys.join(', ')}}`;
}

/** Whether a description reads as one term (so `list of …` stays unambiguous). */
const oneTerm = (text: string): boolean => !/ or |\|| of |;/.test(text);

/** What a value of the schema is, in one line. */
export function describeSchema(schema: z.ZodType): string {
  return describe(asSchema(schema));
}

/** What a value of the schema is, with its own refinements' messages (`checked: …`). */
export function describe(s: Schema): string {
  const d = defOf(s);
  const checked = inlineChecks(s, false);
  const base = describeBase(s, d);
  return checked.length ? `${base} (checked: ${checked.join('; ')})` : base;
}

/** The wrappers: what they wrap, with `or null` and `or absent` for nullable and optional; undefined for any other type. */
function describeWrapper(d: Def): string | undefined {
  switch (d.type) {
    case 'nullable': {
      // `list …, or null`: the null is the field's, not the last element's.
      const inner = describe(d.innerType!);
      return ['array', 'record', 'union'].includes(defOf(unwrap(d.innerType!)).type)
        ? `${inner}, or null`
        : `${inner} or null`;
    }
    case 'optional':
      return `${describe(d.innerType!)}, or absent`;
    case 'readonly':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'nonoptional':
      return describe(d.innerType!);
    case 'pipe':
      // What the value stands for is the pipe's end (intKey: a key string that is an integer).
      return describe(d.out ?? d.in!);
    case 'lazy':
      return describe(d.getter!());
    default:
      return undefined;
  }
}

/** What a value of the schema is, before its own refinements: a wrapper's inner value, else the value type's words. */
function describeBase(s: Schema, d: Def): string {
  const wrapped = describeWrapper(d);
  if (wrapped !== undefined) return wrapped;
  switch (d.type) {
    case 'number':
      return numberText(s);
    case 'bigint':
      return bigintText(s);
    case 'string':
      return stringText(s);
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'literal':
      return (d.values ?? []).map(literal).join(', ');
    case 'enum':
      return Object.values(d.entries ?? {})
        .map(literal)
        .join(', ');
    case 'object':
      return objectText(s);
    case 'array': {
      const el = describe(d.element!);
      const len = lengthText(s, 'elements');
      return oneTerm(el) ? `list${len} of ${el}` : `list${len}; each element: ${el}`;
    }
    case 'record':
      return `map keyed by ${describe(d.keyType!)}`;
    case 'union':
      return `one of: ${(d.options ?? []).map(describe).join(' | ')}`;
    default:
      return d.type;
  }
}

/** The schema under nullable, optional and the other wrappers that keep its fields. */
export function unwrap(s: Schema): Schema {
  for (;;) {
    const d = defOf(s);
    if (
      d.innerType &&
      ['nullable', 'optional', 'readonly', 'default', 'prefault', 'catch', 'nonoptional'].includes(d.type)
    )
      s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else return s;
  }
}
