/**
 * The structure of a world decoded from a snapshot (restoreSnapshot, snapshot.ts). What
 * other drivers add to the world (new members, new fields of tasks, files and GEM objects,
 * new object kinds) passes as data; what is checked is what replay relies on: the
 * World's members, the topology and variants, the `next` counters, and the stores
 * (snapshot-stores.ts): every machine object's kind and state, ids that the counters will
 * not hand out again; then every member of every store against its schema, every
 * reference between tasks, files, GEM objects and machine objects, and the images a dump
 * keeps for a later restore (checkSchemas).
 */
import { parseTopology } from '../world/topology.js';
import { DEFAULT_VARIANTS, type Topology, type Variants, type World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import { canonicalJson } from './canonical.js';
import { VARIANT_VALUES } from './header.js';
import { fail, int, record } from './snapshot-fields.js';
import { checkContexts, type Stores, WorldRefs } from './snapshot-contexts.js';
import { checkIndexes } from './snapshot-indexes.js';
import { checkSaved } from './snapshot-saved.js';
import { checkObjects, checkOwnIds, checkTasks } from './snapshot-stores.js';
import { isRecord } from './values.js';

/** The decoded world `v` (at `where` in the snapshot) as a World; any problem is an InputError. */
export function checkWorld(v: unknown, where: string): World {
  const raw = record(v, where);
  checkMembers(raw, where);
  const topology = checkTopology(raw.topology, `${where}.topology`);
  checkVariants(raw.variants, `${where}.variants`);
  const next = checkCounters(raw.next, topology, `${where}.next`);
  const objects = checkObjects(raw.objects, where, next);
  const gems = record(raw.gems, `${where}.gems`);
  const files = record(raw.files, `${where}.files`);
  checkOwnIds(files, `${where}.files`, next, 'file', 'file');
  checkOwnIds(gems, `${where}.gems`, next, 'gem', 'GEM object');
  const tasks = checkTasks(raw.tasks, where);
  checkSchemas(raw, { objects, files, gems, tasks, topology }, where);
  return raw as unknown as World;
}

/**
 * Every member of every store against its schema, and the ids each holds (contexts:
 * snapshot-contexts.ts; the other stores: snapshot-indexes.ts; saved dumps:
 * snapshot-saved.ts). `raw` is the decoded world.
 */
export function checkSchemas(raw: Record<string, unknown>, stores: Stores, where: string): void {
  const refs = new WorldRefs(stores);
  checkContexts(stores, refs, where);
  checkIndexes(raw, stores, refs, where);
  checkSaved(raw.saved, refs, `${where}.saved`);
}

/** The World's own members, from the world factory (so that one added there is required here). */
function checkMembers(raw: Record<string, unknown>, where: string): void {
  const template = createWorld({ page_size: 4096, gpus: [], processes: [] }) as unknown as Record<string, unknown>;
  for (const k of Object.keys(template)) if (!Object.hasOwn(raw, k)) fail(`${where}.${k}`, `a ${k} member`, undefined);
}

/** The topology: exactly what parseTopology makes of it. */
function checkTopology(v: unknown, where: string): Topology {
  const traw = record(v, where);
  const lf = topologyLogForm(traw);
  const topology: Topology = parseTopology(lf.topology, lf.processes ?? [], where);
  if (canonicalJson(topology) !== canonicalJson(traw))
    fail(where, 'a topology with every field given, as a log header gives it', traw);
  return topology;
}

/** The topology as the log writes it (bigints as 0x strings), for re-validation by parseTopology. */
function topologyLogForm(t: Record<string, unknown>): { topology: unknown; processes: unknown } {
  const enc = (v: unknown): unknown =>
    typeof v === 'bigint'
      ? `0x${v.toString(16)}`
      : Array.isArray(v)
        ? v.map(enc)
        : isRecord(v)
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]))
          : v;
  const { processes, ...rest } = t;
  return { topology: enc(rest), processes: enc(processes) };
}

/** Every design variant, each with a value VARIANT_VALUES allows, and no other. */
function checkVariants(v: unknown, where: string): void {
  const variants = record(v, where);
  for (const k of Object.keys(DEFAULT_VARIANTS)) {
    const allowed = VARIANT_VALUES[k as keyof Variants] as readonly unknown[];
    if (!allowed.includes(variants[k]))
      fail(`${where}.${k}`, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, variants[k]);
  }
  for (const k of Object.keys(variants))
    if (!Object.hasOwn(DEFAULT_VARIANTS, k))
      fail(`${where}.${k}`, `one of ${Object.keys(DEFAULT_VARIANTS).join(', ')}`, k);
}

/** The id serials of `next`, and all its members. */
const SERIALS = ['object', 'file', 'gem'];
const COUNTERS = [...SERIALS, 'mmap'];
const U32_MAX = 2 ** 32 - 1;

/**
 * The `next` counters, checked once and whole here, before the stores that they number: the
 * object, file and GEM serials from 1 (u32), and a mmap offset (u64) for each GPU of the
 * topology and no other.
 */
function checkCounters(v: unknown, topology: Topology, where: string): Record<string, unknown> {
  const next = record(v, where);
  for (const k of Object.keys(next))
    if (!COUNTERS.includes(k)) fail(`${where}.${k}`, `one of ${COUNTERS.join(', ')}`, k);
  for (const k of SERIALS)
    if (int(next[k], `${where}.${k}`, 1) > U32_MAX) fail(`${where}.${k}`, `an integer ≤ ${U32_MAX}`, next[k]);
  const mmap = record(next.mmap, `${where}.mmap`);
  const gpus = new Set(topology.gpus.map((g) => String(g.gpu_id)));
  for (const k of Object.keys(mmap))
    if (!gpus.has(k)) fail(`${where}.mmap.${k}`, 'the gpu_id of a GPU of the topology', k);
  for (const g of topology.gpus) {
    const offset = mmap[g.gpu_id];
    if (typeof offset !== 'bigint' || offset < 0n || offset >= 1n << 64n)
      fail(`${where}.mmap.${g.gpu_id}`, 'a "0x…" offset below 2^64', offset);
  }
  return next;
}
