/**
 * `gpucr check --config <file>` (issue 7 item 6): an exploration described in a JSON
 * file — what to explore (a family with its variants, or the toy model), the
 * invariants, the bounds, symmetry reduction and workers — validated against a JSON
 * Schema (draft 2020-12, with ajv) built from the registries, so that the allowed
 * families, variants and invariants are always the current ones. A bad file is
 * reported as an InputError naming the file, the JSON path, what was expected and
 * what was found (exit 2). Options given on the command line override the file.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { describe, InputError } from '../errors.js';
import { allInvariants } from '../invariants/index.js';
import { VARIANT_VALUES } from '../log/reader.js';
import { FAMILIES } from './families.js';
import { BOUND_NAMES, type BoundName, FAMILY_BOUNDS } from './families/bounds.js';

export interface CheckConfig {
  family?: string;
  model?: 'toy';
  k?: number;
  variants?: Record<string, string | number>;
  invariants?: string[];
  bounds?: { 'max-states'?: number; 'max-depth'?: number } & Partial<Record<BoundName, number>>;
  symmetry?: boolean;
  workers?: number;
  out?: string;
  coverage?: boolean;
  'fixed-baseline'?: boolean;
}

const INT32 = 2 ** 31 - 1;

/** The largest value any family allows for a bound. */
function boundMax(name: BoundName): number {
  const defs = Object.values(FAMILY_BOUNDS) as Partial<Record<BoundName, { max: number }>>[];
  return Math.max(...defs.map((d) => d[name]?.max ?? 0));
}

/** The JSON Schema of a check configuration file (docs/explorer.md documents each key). */
export function checkConfigSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://gpucr.invalid/check-config.schema.json',
    title: 'gpucr check configuration',
    type: 'object',
    additionalProperties: false,
    properties: {
      family: { enum: [...FAMILIES] },
      model: { const: 'toy' },
      k: { type: 'integer', minimum: 1, maximum: 26 },
      variants: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(
          Object.entries(VARIANT_VALUES).map(([k, values]) => [k, { enum: [...(values as readonly unknown[])] }]),
        ),
      },
      invariants: {
        type: 'array',
        uniqueItems: true,
        items: { enum: allInvariants().map((i) => i.name) },
      },
      bounds: {
        type: 'object',
        additionalProperties: false,
        properties: {
          'max-states': { type: 'integer', minimum: 1, maximum: INT32 },
          'max-depth': { type: 'integer', minimum: 1, maximum: INT32 },
          // The family bounds; which apply to the chosen family, and their ranges, are checked with it.
          ...Object.fromEntries(
            BOUND_NAMES.map((name) => [name, { type: 'integer', minimum: 0, maximum: boundMax(name) }]),
          ),
        },
      },
      symmetry: { type: 'boolean' },
      workers: { type: 'integer', minimum: 1, maximum: 64 },
      out: { type: 'string', minLength: 1 },
      coverage: { type: 'boolean' },
      'fixed-baseline': { type: 'boolean' },
    },
  };
}

/** The value at a JSON pointer ("/bounds/max-depth") of a parsed document. */
function at(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** The first schema error as where / expected / found. */
function inputError(file: string, doc: unknown, e: ErrorObject): InputError {
  const path = e.instancePath || '/';
  const found = at(doc, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema?.properties ?? {}) as object);
      return new InputError(
        `${file}: ${e.instancePath}/${String(p.additionalProperty)}`,
        `no such key (allowed: ${allowed.join(', ')})`,
        String(p.additionalProperty),
      );
    }
    case 'enum':
      return new InputError(
        `${file}: ${path}`,
        `one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        found,
      );
    case 'const':
      return new InputError(`${file}: ${path}`, JSON.stringify(p.allowedValue), found);
    case 'type':
      return new InputError(`${file}: ${path}`, `a value of type ${String(p.type)}`, found);
    case 'minimum':
    case 'maximum':
      return new InputError(`${file}: ${path}`, `a number ${String(p.comparison)} ${String(p.limit)}`, found);
    default:
      return new InputError(`${file}: ${path}`, `a value that ${e.message ?? 'matches the schema'}`, found);
  }
}

let validator: ReturnType<Ajv2020['compile']> | null = null;

/** Parse and validate a configuration (the text of `file`). */
export function parseCheckConfig(text: string, file: string): CheckConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, 'a JSON document', `invalid JSON (${(e as Error).message})`);
  }
  validator ??= new Ajv2020({ allErrors: false, strict: true, verbose: true }).compile(checkConfigSchema());
  if (!validator(doc)) throw inputError(file, doc, validator.errors![0]!);
  const cfg = doc as CheckConfig;
  if (cfg.family !== undefined && cfg.model !== undefined)
    throw new InputError(`${file}: /model`, 'either "family" or "model", not both', cfg.model);
  return cfg;
}

export function loadCheckConfig(file: string): CheckConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError('--config', 'a readable file', `${describe(file)} (${(e as NodeJS.ErrnoException).code})`);
  }
  return parseCheckConfig(text, file);
}

/** The command line's options as `gpucr check` receives them (strings, as commander gives them). */
export interface CheckCliOptions {
  model?: string;
  family?: string;
  variant?: string[];
  invariant?: string[];
  out?: string;
  k?: string;
  maxStates?: string;
  maxDepth?: string;
  /** --no-symmetry sets it false (commander). */
  symmetry?: boolean;
  workers?: string;
  coverage?: boolean;
  fixedBaseline?: boolean;
  json?: boolean;
  config?: string;
  /** `--bounds k=v,…` (src/explore/families/bounds.ts: parseBoundsOption). */
  bounds?: string;
  /** The file's family bounds, checked against the family where `where` says (the file and /bounds). */
  configBounds?: { where: string; values: Record<string, number> };
}

/**
 * The options with the file's values filled in where the command line gave none
 * (`given(key)`: the key was on the command line). Variants merge per name, the
 * command line's winning; a command-line `--invariant` list replaces the file's.
 */
export function mergeCheckConfig<T extends CheckCliOptions>(
  opts: T,
  cfg: CheckConfig,
  given: (key: string) => boolean,
  file = 'config',
): T {
  const out: T = { ...opts };
  const fill = <K extends keyof CheckCliOptions>(key: K, value: CheckCliOptions[K] | undefined) => {
    if (value !== undefined && !given(key)) out[key] = value as T[K];
  };
  // What to explore comes whole from one place: a command-line --family or --model replaces the file's choice.
  if (!given('family') && !given('model')) {
    fill('family', cfg.family);
    fill('model', cfg.model);
    // the file's family bounds go with its family
    const { 'max-states': _s, 'max-depth': _d, ...values } = cfg.bounds ?? {};
    if (Object.keys(values).length) out.configBounds = { where: `${file}: /bounds`, values };
  }
  fill('k', cfg.k?.toString());
  fill('maxStates', cfg.bounds?.['max-states']?.toString());
  fill('maxDepth', cfg.bounds?.['max-depth']?.toString());
  fill('symmetry', cfg.symmetry);
  fill('workers', cfg.workers?.toString());
  fill('out', cfg.out);
  fill('coverage', cfg.coverage);
  fill('fixedBaseline', cfg['fixed-baseline']);
  const filePairs = Object.entries(cfg.variants ?? {}).map(([k, v]) => `${k}=${v}`);
  out.variant = [...filePairs, ...(opts.variant ?? [])];
  if (!opts.invariant?.length && cfg.invariants) out.invariant = [...cfg.invariants];
  return out;
}
