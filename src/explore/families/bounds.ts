/**
 * Bounds on a family's configuration (issue 7 item 1; `gpucr check --bounds k=v,…`,
 * docs/explorer.md "Bounds"): how many processes, GPUs, BOs per process, mappings per BO,
 * queues, events and pages a family's setup builds or its actions may create. Each family
 * reads the bounds that apply to it; the defaults are the configurations the known-bug
 * benchmark was measured on, so that an exploration without bounds is unchanged.
 */
import { InputError } from '../../errors.js';

export const BOUND_NAMES = [
  'processes',
  'gpus',
  'bos',
  'mappings',
  'queues',
  'events',
  'pages',
  'xccs',
  'regions',
] as const;
export type BoundName = (typeof BOUND_NAMES)[number];
export type Bounds = Partial<Record<BoundName, number>>;

export interface BoundDef {
  /** The family's value when no bound is given; null: no bound (the depth bound alone limits it). */
  default: number | null;
  min: number;
  max: number;
  /** What the bound counts in this family (docs, messages). */
  what: string;
}

const b = (def: number | null, min: number, max: number, what: string): BoundDef => ({ default: def, min, max, what });

/** The bounds each family reads, with their defaults and ranges. */
export const FAMILY_BOUNDS = {
  ttm: { pages: b(2, 1, 8, 'pages of the tt (each offered a write)') },
  i915: {
    bos: b(1, 1, 4, 'user objects besides the pinned kernel object'),
    pages: b(2, 1, 8, 'pages of each object'),
    regions: b(1, 1, 3, 'LMEM regions of the device (i915.probe); each region after the first gets one user object'),
  },
  kfd: {
    gpus: b(1, 1, 4, 'GPUs of the topology; the app acquires a VM on each, the restorer may on each'),
    bos: b(2, 2, 8, 'BOs of the app (the setup makes 2; a GTT BO allocation is offered below the bound)'),
    queues: b(1, 1, 8, 'queues of the app (the setup makes 1; a queue creation is offered below the bound)'),
    events: b(0, 0, 8, 'events of the app (a signal event creation is offered below the bound)'),
  },
  amdgpu: {
    bos: b(null, 1, 16, 'render-node BOs of the app (GEM_CREATE is offered below the bound)'),
    mappings: b(1, 1, 8, 'GEM_VA MAPs of handle 1, each at its own address'),
  },
  criu: {
    processes: b(1, 1, 3, 'applications (pid 100, 101, …), each with a GPU, a BO and a queue, each dumped'),
    xccs: b(1, 1, 16, 'XCCs of the GPU (NUM_XCC; an MI300X in SPX mode has 8): a queue has one MQD per XCC'),
    bos: b(0, 0, 1, "AQL queue BOs of each app at its ring's VA, whose MAP is offered (its entry at va conflicts)"),
  },
} satisfies Record<string, Partial<Record<BoundName, BoundDef>>>;

type FamilyName = keyof typeof FAMILY_BOUNDS;

/** The value of a bound for a family: the given one, or the family's default (null: unbounded). */
export function boundOf(family: FamilyName, bounds: Bounds, name: BoundName): number | null {
  const def = (FAMILY_BOUNDS[family] as Partial<Record<BoundName, BoundDef>>)[name];
  if (!def) throw new Error(`bound ${name} does not apply to family ${family}`);
  return bounds[name] ?? def.default;
}

/** Every bound of a family with its effective value (reports: `bounds` of --json). */
export function effectiveBounds(family: FamilyName, bounds: Bounds): Record<string, number | null> {
  const defs = FAMILY_BOUNDS[family] as Partial<Record<BoundName, BoundDef>>;
  return Object.fromEntries(Object.keys(defs).map((k) => [k, bounds[k as BoundName] ?? defs[k as BoundName]!.default]));
}

/**
 * Check bounds against a family (or the toy model, `family` null, to which none apply):
 * an unknown name, a bound of another family or a value out of range is an InputError
 * naming `where` (the option or the file's path).
 */
export function checkBounds(family: FamilyName | null, bounds: Record<string, unknown>, where: string): Bounds {
  const defs = (family ? FAMILY_BOUNDS[family] : {}) as Partial<Record<BoundName, BoundDef>>;
  const applicable = Object.keys(defs);
  const out: Bounds = {};
  for (const [name, value] of Object.entries(bounds)) {
    if (!(BOUND_NAMES as readonly string[]).includes(name))
      throw new InputError(where, `a bound among ${[...BOUND_NAMES, 'depth', 'states'].join(', ')}`, name);
    const def = defs[name as BoundName];
    if (!def)
      throw new InputError(
        where,
        `a bound of the ${family ? `${family} family` : 'toy model'} (${[...applicable, 'depth', 'states'].join(', ')})`,
        name,
      );
    if (typeof value !== 'number' || !Number.isInteger(value) || value < def.min || value > def.max)
      throw new InputError(`${where} ${name}`, `an integer from ${def.min} to ${def.max}`, value);
    out[name as BoundName] = value;
  }
  return out;
}

/** `--bounds k=v,…` split into the family bounds (unchecked) and the search's depth and states. */
export function parseBoundsOption(text: string): {
  bounds: Record<string, number>;
  depth?: number;
  states?: number;
} {
  const out: { bounds: Record<string, number>; depth?: number; states?: number } = { bounds: {} };
  for (const pair of text.split(',')) {
    const m = /^([a-z][a-z-]*)=(.*)$/.exec(pair.trim());
    if (!m) throw new InputError('--bounds', 'name=value pairs separated by commas, e.g. gpus=2,depth=4', pair);
    const [, name, raw] = m as unknown as [string, string, string];
    if (!/^[0-9]+$/.test(raw)) throw new InputError(`--bounds ${name}`, 'a non-negative integer', raw);
    if (
      name in out.bounds ||
      (name === 'depth' && out.depth !== undefined) ||
      (name === 'states' && out.states !== undefined)
    )
      throw new InputError(`--bounds ${name}`, 'each bound once', `${name} again`);
    if (name === 'depth') out.depth = Number(raw);
    else if (name === 'states') out.states = Number(raw);
    else out.bounds[name] = Number(raw);
  }
  return out;
}
