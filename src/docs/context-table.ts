/**
 * The context table of a machine page (docs/machines/<kind>.md, the `context` block): one
 * row per field of a kind's context schema (machines/context-schema.ts), in the words of
 * the snapshot checks — `u32`, `u64 (snapshot: "0x…")`, `world id`, `true or false`, an
 * enum's values, `… or null` — read from the zod v4 schema itself, so the table cannot
 * drift from what a snapshot is checked against.
 *
 * Paths: nested objects as `flags.populated`, list elements as `attachments[].vm`, a
 * record's values as `handles.<key>` (`content.<page>` for the page maps of
 * `pageValues`). A refinement with a message shows it (`checked: …`); one without (a
 * superRefine) is summed up in a last `(checked across fields)` row.
 *
 * zod v4 keeps a schema's structure in `schema._zod.def` (`type`, `shape`, `element`,
 * `innerType`, `keyType`/`valueType`, `entries`, `values`, `options`, `checks`); the
 * checks are folded here (earlier v4 releases also mirrored them in `schema._zod.bag`,
 * which is merged in when present).
 */
import { schemaKit, type z } from '../../machines/context-schema.js';

/** The parts of a zod v4 definition this table reads (the rest is left alone). */
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

interface CheckDef {
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

interface Schema {
  _zod: { def: Def; bag?: Bag };
}

/** One row: the field's path and what it holds, and the checks shown after it. */
interface Row {
  path: string;
  holds: string;
  checked: string[];
}

/** What a refinement without a message (a superRefine) of the context itself says. */
const ACROSS_FIELDS = 'rules between fields that the types above do not show (a refinement of the schema)';

const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2n ** 64n - 1n;

const asSchema = (s: z.ZodType): Schema => s as unknown as Schema;
const defOf = (s: Schema): Def => s._zod.def;
const checksOf = (s: Schema): CheckDef[] => (defOf(s).checks ?? []).map((c) => c._zod.def);

/** The regex of `worldId` and the key schema of `pageValues`, recognised by identity. */
const worldIdPattern = () => checksOf(asSchema(schemaKit().worldId)).find((c) => c.pattern)?.pattern?.source;
const pageKey = () => defOf(asSchema(schemaKit().pageValues)).keyType;

/** The bounds a number format implies (`z.int32()`, `z.uint32()`, …). */
const FORMAT_BOUNDS: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, U32_MAX],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
};

/** The message of a refinement, when it has a fixed one. */
function refinementMessage(c: CheckDef): string | undefined {
  try {
    const m = c.error?.();
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The refinements (`.refine`, `.superRefine`) among a schema's checks. */
function refinements(s: Schema): CheckDef[] {
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

const literal = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v)));

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

function describe(s: Schema): string {
  const d = defOf(s);
  const checked = inlineChecks(s, false);
  const base = describeBase(s, d);
  return checked.length ? `${base} (checked: ${checked.join('; ')})` : base;
}

function describeBase(s: Schema, d: Def): string {
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
function unwrap(s: Schema): Schema {
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

const join = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

/** Rows of every field below `path` (the field itself has its row already). */
function walkChildren(path: string, schema: Schema, rows: Row[], when: string): void {
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type === 'object') {
    const shape = d.shape ?? {};
    for (const key of Object.keys(shape)) walkField(join(path, key), shape[key]!, rows, when);
    // An object's refinements: on the field they name, else on the object's own row (which
    // describe() gave those without a path), else, for the context itself, a row of their own.
    for (const c of refinements(s)) {
      const message = refinementMessage(c);
      const at = c.path ?? [];
      if (at.length > 0) {
        const field = at.every((p) => typeof p === 'string') ? at.reduce<string>((a, p) => join(a, p), path) : '';
        const target = rows.find((r) => r.path === field) ?? rows.find((r) => path !== '' && r.path === path);
        if (target) {
          target.checked.push(message ?? 'further rules');
          continue;
        }
      } else if (path !== '') continue;
      rows.push({ path: '', holds: message ?? ACROSS_FIELDS, checked: [] });
    }
  } else if (d.type === 'array') {
    walkChildren(`${path}[]`, d.element!, rows, when);
  } else if (d.type === 'record') {
    const key = d.keyType === pageKey() ? '<page>' : '<key>';
    walkField(join(path, key), d.valueType!, rows, when);
  } else if (d.type === 'union' && d.discriminator !== undefined) {
    const disc = d.discriminator;
    for (const option of d.options ?? []) {
      const o = unwrap(option);
      const shape = defOf(o).shape;
      if (!shape) continue;
      const tag = defOf(shape[disc]!).values ?? [];
      const cond = `when ${disc} is ${tag.map(literal).join(' or ')}`;
      for (const key of Object.keys(shape)) {
        if (key !== disc) walkField(join(path, key), shape[key]!, rows, when ? `${when}, ${cond}` : cond);
      }
    }
  }
}

/** The row of one field, then those of its own fields. */
function walkField(path: string, schema: Schema, rows: Row[], when: string): void {
  const d = defOf(unwrap(schema));
  // A list of plain values has no element rows: its row says what the elements are.
  const scalarList = d.type === 'array' && !['object', 'record', 'union'].includes(defOf(unwrap(d.element!)).type);
  rows.push({ path, holds: when ? `${describe(schema)} (${when})` : describe(schema), checked: [] });
  if (!scalarList) walkChildren(path, schema, rows, when);
}

/** `|` would end a table cell. */
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The rows of a context schema: `[field path, what it holds]`, in the schema's order. */
export function contextRows(schema: z.ZodType): [string, string][] {
  const rows: Row[] = [];
  walkChildren('', asSchema(schema), rows, '');
  return rows.map((r) => [
    r.path === '' ? '(checked across fields)' : r.path,
    r.checked.length ? `${r.holds}; checked: ${r.checked.join('; ')}` : r.holds,
  ]);
}

/** The markdown table of a context schema (`| field | holds |`), or a line saying it has no field. */
export function contextTable(schema: z.ZodType): string {
  const rows = contextRows(schema);
  if (rows.length === 0) return 'The context has no fields (`{}`).\n';
  const lines = ['| field | holds |', '| --- | --- |'];
  for (const [path, holds] of rows) {
    const field = path.startsWith('(') ? path : `\`${path}\``;
    lines.push(`| ${cell(field)} | ${cell(holds)} |`);
  }
  return `${lines.join('\n')}\n`;
}
