/**
 * Line 1 of a log, the header (docs/log-format.md, "The header (line 1)"):
 *
 *   {"gpucr":1,"topology":{…},"processes":[…],"variants":{…},"seed":…,"snapshot":"sha256:…"}
 *
 * checked key by key: the format version, the topology with its processes (parseTopology),
 * the design variants, the seed and the hash of the snapshot the log continues from.
 */
import { parseTopology } from '../world/topology.js';
import type { Topology, Variants } from '../world/types.js';
import { lineError, rethrowInLine } from './line-error.js';
import type { TreeScanner } from './tree-scan.js';
import { isRecord } from './values.js';

/** Line 1 of a log. */
export interface LogHeader {
  gpucr: 1;
  /** The validated topology with defaults filled in, including the header's `processes`. */
  topology: Topology;
  /** The variants the header names; the others take DEFAULT_VARIANTS. */
  variants: Partial<Variants>;
  seed?: number;
  /** The hash of the world snapshot this log continues from (replay needs it with --from). */
  snapshot?: string;
}

/** Values each design variant accepts (src/world/variants.ts Variants). */
export const VARIANT_VALUES: { readonly [K in keyof Variants]: readonly Variants[K][] } = {
  kernel: ['6.18', '6.17'],
  'kfd-restore-devices': ['fixed', 'fget-leak'],
  max_gpu_instance: [64, 16],
  ttm: ['fixed', 'unfixed-restore-drop'],
  i915: ['final', 'v2-restore-put'],
  'amdgpu-criu': ['upstream', 'criu-ioctl-v3'],
  'gem-change-handle': ['enabled', 'disabled'],
  resume: ['at-resume-devices-late', 'at-restore-file'],
  'kfd-process-info': ['evict-again', 'evict-once'],
  'kfd-map-failure': ['keep-mapped', 'unwind'],
  'kfd-restore-aql': ['halved-again', 'checkpointed-size'],
  'kfd-restore-mqd-size': ['one-xcc', 'num-xcc'],
  'dump-abort': ['leave-paused', 'unpause'],
  'plugin-shared-bos': ['by-object', 'by-number'],
  'plugin-kfd-handles': ['application', 'dumper'],
};

const HEADER_KEYS = ['gpucr', 'topology', 'processes', 'variants', 'seed', 'snapshot'] as const;
const HEADER_KEY_SET: ReadonlySet<string> = new Set(HEADER_KEYS);

/** The header line's value; `trees` walks its topology, processes and variants (no references there). */
export function parseHeader(v: unknown, text: string, trees: TreeScanner): LogHeader {
  const file = trees.file;
  checkHeaderShape(v, text, file);
  for (const k of ['topology', 'processes', 'variants'] as const) {
    if (Object.hasOwn(v, k)) trees.scan(v[k], [k], 1, 1, text, null);
  }
  let topology: Topology;
  try {
    topology = parseTopology(v.topology, v.processes);
  } catch (e) {
    rethrowInLine(e, file, 1, text);
  }
  const variants = headerVariants(v.variants, text, file);
  const header: LogHeader = { gpucr: 1, topology, variants };
  if (v.seed !== undefined) header.seed = headerSeed(v.seed, text, file);
  if (v.snapshot !== undefined) header.snapshot = headerSnapshot(v.snapshot, text, file);
  return header;
}

/** An object with `gpucr`, only header keys, and the format version 1. */
function checkHeaderShape(v: unknown, text: string, file: string): asserts v is Record<string, unknown> {
  if (!isRecord(v) || !Object.hasOwn(v, 'gpucr'))
    lineError(file, 1, text, [], 'a header line {"gpucr":1,"topology":…} on line 1', v);
  for (const k of Object.keys(v)) {
    if (!HEADER_KEY_SET.has(k)) lineError(file, 1, text, [k], `one of ${HEADER_KEYS.join(', ')}`, k, 'key');
  }
  if (v.gpucr !== 1) lineError(file, 1, text, ['gpucr'], 'the log format version 1', v.gpucr);
}

/**
 * What is wrong with design variant `k` set to `value` in a JSON object of variants (a log
 * header's, gpucr-core.json's): its name (`key`) or its value, with what was expected; null
 * when VARIANT_VALUES allows it. Own keys only, so `__proto__` is no variant.
 */
export function variantProblem(k: string, value: unknown): { key: boolean; expected: string } | null {
  if (!Object.hasOwn(VARIANT_VALUES, k))
    return { key: true, expected: `one of ${Object.keys(VARIANT_VALUES).join(', ')}` };
  const allowed = VARIANT_VALUES[k as keyof Variants] as readonly unknown[];
  if (allowed.includes(value)) return null;
  return { key: false, expected: `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}` };
}

/** The variants the header names, each one of the values VARIANT_VALUES allows. */
function headerVariants(v: unknown, text: string, file: string): Partial<Variants> {
  const variants: Partial<Variants> = {};
  if (v === undefined) return variants;
  if (!isRecord(v)) lineError(file, 1, text, ['variants'], 'an object of design variants', v);
  for (const k of Object.keys(v)) {
    const bad = variantProblem(k, v[k]);
    if (bad) lineError(file, 1, text, ['variants', k], bad.expected, bad.key ? k : v[k], bad.key ? 'key' : undefined);
    (variants as Record<string, unknown>)[k] = v[k];
  }
  return variants;
}

function headerSeed(v: unknown, text: string, file: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    lineError(file, 1, text, ['seed'], 'a non-negative integer up to 2^53-1', v);
  return v;
}

function headerSnapshot(v: unknown, text: string, file: string): string {
  if (typeof v !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(v))
    lineError(file, 1, text, ['snapshot'], 'the hash of a world snapshot, sha256:<64 hex digits>', v);
  return v;
}
