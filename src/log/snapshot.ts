/**
 * World snapshots (docs/log-format.md, "Snapshots"): the whole world in the
 * canonical encoding (canonical.ts), versioned, with a content hash.
 *
 *   {"format":"gpucr-snapshot","hash":"sha256:…","version":1,"world":{…}}
 *
 * `hash` is the sha256 of the canonical text of `world`, so two worlds are equal
 * exactly when their hashes are. `restoreSnapshot` checks the version, the hash and
 * the structure (every reference between tasks, files, GEM objects and machine
 * objects resolves; every machine object is in a state its machine has) and gives a
 * fresh, mutable World that replay can continue from.
 */
import { InputError } from '../errors.js';
import { MACHINES } from '../world/objects.js';
import { parseTopology } from '../world/topology.js';
import { DEFAULT_VARIANTS, type Topology, type Variants, type World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import { canonicalHash, canonicalJson, fromCanonical } from './canonical.js';
import { LogError } from './errors.js';
import { type LogHeader, VARIANT_VALUES } from './reader.js';
import { isRecord } from './values.js';

export const SNAPSHOT_FORMAT = 'gpucr-snapshot';
export const SNAPSHOT_VERSION = 3;

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  /** `sha256:<hex>` of the canonical text of `world`. */
  hash: string;
  /** The world in the canonical encoding (a JSON tree). */
  world: unknown;
}

/** The content hash of a world: `sha256:<hex>` of its canonical text. */
export function worldHash(w: World): string {
  return canonicalHash(w);
}

/** A snapshot of the world (the world is not kept: the snapshot holds an encoded copy). */
export function snapshot(w: World): Snapshot {
  const text = canonicalJson(w);
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    hash: canonicalHash(w),
    world: JSON.parse(text) as unknown,
  };
}

/** The snapshot as the text a file holds: canonical JSON and a newline. */
export function snapshotText(w: World): string {
  const text = canonicalJson(w);
  return `{"format":"${SNAPSHOT_FORMAT}","hash":"${canonicalHash(w)}","version":${SNAPSHOT_VERSION},"world":${text}}\n`;
}

const SNAPSHOT_KEYS = ['format', 'hash', 'version', 'world'];

/** Rebuild a World from a snapshot (its text or its parsed JSON); any problem is an InputError. */
export function restoreSnapshot(input: string | unknown, where = 'snapshot'): World {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (e) {
      throw new InputError(where, 'a JSON snapshot', (e as Error).message);
    }
  }
  if (!isRecord(json)) throw new InputError(where, `a snapshot object {"format":"${SNAPSHOT_FORMAT}",…}`, json);
  for (const k of Object.keys(json))
    if (!SNAPSHOT_KEYS.includes(k)) throw new InputError(`${where}.${k}`, `one of ${SNAPSHOT_KEYS.join(', ')}`, k);
  if (json.format !== SNAPSHOT_FORMAT) throw new InputError(`${where}.format`, `"${SNAPSHOT_FORMAT}"`, json.format);
  if (json.version !== SNAPSHOT_VERSION)
    throw new InputError(`${where}.version`, `the snapshot version ${SNAPSHOT_VERSION}`, json.version);
  if (typeof json.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(json.hash))
    throw new InputError(`${where}.hash`, 'sha256:<64 hex digits>', json.hash);
  const decoded = fromCanonical(json.world, `${where}.world`);
  const w = checkWorld(decoded, `${where}.world`);
  const actual = canonicalHash(w);
  if (actual !== json.hash)
    throw new InputError(`${where}.hash`, `the hash of the world it holds (${actual})`, json.hash);
  return w;
}

// ---- structure -------------------------------------------------------------------

function fail(where: string, expected: string, found: unknown): never {
  throw new InputError(where, expected, found);
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (!isRecord(v)) fail(where, 'an object', v);
  return v;
}

function int(v: unknown, where: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(where, `an integer ≥ ${min}`, v);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'a string', v);
  return v;
}

function strOrNull(v: unknown, where: string): string | null {
  return v === null ? null : str(v, where);
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) fail(where, 'a list of ids', v);
  v.forEach((x, i) => str(x, `${where}[${i}]`));
  return v as string[];
}

function intKeyed(v: unknown, where: string): Record<string, string> {
  const r = record(v, where);
  for (const [k, x] of Object.entries(r)) {
    if (!/^(0|[1-9][0-9]*)$/.test(k)) fail(`${where}.${k}`, 'a non-negative integer key', k);
    str(x, `${where}.${k}`);
  }
  return r as Record<string, string>;
}

/** The serial number of an id `<prefix>#<n>`, or undefined for ids of another form. */
function serial(id: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix.replace(/[.]/g, '\\.')}#([0-9]+)$`).exec(id);
  return m ? Number(m[1]) : undefined;
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

/**
 * The structure of a decoded world. What other drivers add to the world (new members,
 * new fields of tasks, files and GEM objects, new object kinds) passes as data; what
 * is checked is what replay relies on: the topology and variants, every machine
 * object's kind and state, ids that the counters will not hand out again, and every
 * reference between tasks, files, GEM objects and machine objects.
 */
function checkWorld(v: unknown, where: string): World {
  const raw = record(v, where);
  // The World's own members, from the world factory (so that one added there is required here).
  const template = createWorld({ page_size: 4096, gpus: [], processes: [] }) as unknown as Record<string, unknown>;
  for (const k of Object.keys(template)) if (!Object.hasOwn(raw, k)) fail(`${where}.${k}`, `a ${k} member`, undefined);

  // topology: exactly what parseTopology makes of it.
  const traw = record(raw.topology, `${where}.topology`);
  const lf = topologyLogForm(traw);
  const topology: Topology = parseTopology(lf.topology, lf.processes ?? [], `${where}.topology`);
  if (canonicalJson(topology) !== canonicalJson(traw))
    fail(`${where}.topology`, 'a topology with every field given, as a log header gives it', traw);

  const variants = record(raw.variants, `${where}.variants`);
  for (const k of Object.keys(DEFAULT_VARIANTS)) {
    const allowed = VARIANT_VALUES[k as keyof Variants] as readonly unknown[];
    if (!allowed.includes(variants[k]))
      fail(`${where}.variants.${k}`, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, variants[k]);
  }
  for (const k of Object.keys(variants))
    if (!Object.hasOwn(DEFAULT_VARIANTS, k))
      fail(`${where}.variants.${k}`, `one of ${Object.keys(DEFAULT_VARIANTS).join(', ')}`, k);

  const next = record(raw.next, `${where}.next`);
  for (const [k, n] of Object.entries(next))
    if (typeof n === 'number') int(n, `${where}.next.${k}`, k === 'object' ? 1 : 0);
  const counter = (k: string) => (typeof next[k] === 'number' ? (next[k] as number) : undefined);
  const mmap = isRecord(next.mmap) ? next.mmap : undefined;
  if (mmap)
    for (const g of topology.gpus)
      if (typeof mmap[g.gpu_id] !== 'bigint' || (mmap[g.gpu_id] as bigint) < 0n)
        fail(`${where}.next.mmap.${g.gpu_id}`, 'a non-negative "0x…" offset', mmap[g.gpu_id]);
  /** An id `<prefix>#<n>` must have n below the counter that hands such ids out. */
  const fresh = (at: string, id: string, prefix: string, key: string) => {
    const n = serial(id, prefix);
    const c = counter(key);
    if (n !== undefined && c !== undefined && n >= c)
      fail(at, `an id ${prefix}#<n> with n below next.${key} (${c})`, id);
  };

  const objects = record(raw.objects, `${where}.objects`);
  for (const [id, o] of Object.entries(objects)) {
    const at = `${where}.objects.${id}`;
    const rec = record(o, at);
    const kind = str(rec.kind, `${at}.kind`);
    const machine = MACHINES[kind];
    if (!machine) fail(`${at}.kind`, `a registered object kind (${Object.keys(MACHINES).join(', ')})`, kind);
    if (serial(id, kind) === undefined) fail(at, `an id ${kind}#<n>`, id);
    fresh(at, id, kind, 'object');
    record(rec.context, `${at}.context`);
    if (typeof rec.value !== 'string' && !isRecord(rec.value)) fail(`${at}.value`, 'a state value', rec.value);
    let resolved: unknown;
    try {
      resolved = machine.resolveState({ value: rec.value as never, context: rec.context }).value;
    } catch (e) {
      fail(`${at}.value`, `a state of ${machine.id} (${(e as Error).message})`, rec.value);
    }
    if (canonicalJson(resolved) !== canonicalJson(rec.value))
      fail(`${at}.value`, `a full state of ${machine.id}`, rec.value);
    for (const k of Object.keys(rec))
      if (!['kind', 'value', 'context'].includes(k)) fail(`${at}.${k}`, 'one of kind, value, context', k);
  }
  const isObject = (id: string, kind: string) => (objects[id] as { kind?: string } | undefined)?.kind === kind;

  const gems = record(raw.gems, `${where}.gems`);
  const files = record(raw.files, `${where}.files`);
  for (const [id, f] of Object.entries(files)) {
    const at = `${where}.files.${id}`;
    const file = record(f, at);
    if (file.id !== id) fail(`${at}.id`, `the file's own id "${id}"`, file.id);
    fresh(at, id, 'file', 'file');
    int(file.refs, `${at}.refs`, 1);
    str(file.kind, `${at}.kind`);
    if (file.kind === 'dmabuf') {
      const gem = str(file.gem, `${at}.gem`);
      if (!Object.hasOwn(gems, gem)) fail(`${at}.gem`, 'a GEM object of the world', gem);
    }
  }

  for (const [id, g] of Object.entries(gems)) {
    const at = `${where}.gems.${id}`;
    const gem = record(g, at);
    if (gem.id !== id) fail(`${at}.id`, `the GEM object's own id "${id}"`, gem.id);
    fresh(at, id, 'gem', 'gem');
    if (typeof gem.size !== 'bigint') fail(`${at}.size`, 'a "0x…" size', gem.size);
    if (gem.dmabuf !== undefined) {
      const dmabuf = strOrNull(gem.dmabuf, `${at}.dmabuf`);
      if (dmabuf !== null && !Object.hasOwn(files, dmabuf)) fail(`${at}.dmabuf`, 'a file of the world', dmabuf);
    }
    if (gem.kgd_mems !== undefined)
      strings(gem.kgd_mems, `${at}.kgd_mems`).forEach((m, i) => {
        if (!Object.hasOwn(objects, m)) fail(`${at}.kgd_mems[${i}]`, 'an object of the world', m);
      });
  }

  const tasks = record(raw.tasks, `${where}.tasks`);
  for (const [pid, t] of Object.entries(tasks)) {
    const at = `${where}.tasks.${pid}`;
    const task = record(t, at);
    if (String(task.pid) !== pid) fail(`${at}.pid`, `the task's own pid ${pid}`, task.pid);
    int(task.pid, `${at}.pid`, 1);
    if (!Array.isArray(task.caps) || !task.caps.every((c) => typeof c === 'string'))
      fail(`${at}.caps`, 'a list of capability names', task.caps);
    if (task.ptrace_parent !== null) int(task.ptrace_parent, `${at}.ptrace_parent`, 1);
    if (typeof task.alive !== 'boolean') fail(`${at}.alive`, 'true or false', task.alive);
    for (const [fd, f] of Object.entries(intKeyed(task.fds, `${at}.fds`)))
      if (!Object.hasOwn(files, f)) fail(`${at}.fds.${fd}`, 'a file of the world', f);
    const kp = strOrNull(task.kfd_process, `${at}.kfd_process`);
    if (kp !== null && !isObject(kp, 'kfd.process')) fail(`${at}.kfd_process`, 'a kfd.process object', kp);
    strings(task.pdds, `${at}.pdds`).forEach((p, i) => {
      if (!isObject(p, 'kfd.pdd')) fail(`${at}.pdds[${i}]`, 'a kfd.pdd object', p);
    });
    for (const [k, q] of Object.entries(intKeyed(task.queues, `${at}.queues`)))
      if (!isObject(q, 'kfd.queue')) fail(`${at}.queues.${k}`, 'a kfd.queue object', q);
    for (const [k, e] of Object.entries(intKeyed(task.events, `${at}.events`)))
      if (!isObject(e, 'kfd.event')) fail(`${at}.events.${k}`, 'a kfd.event object', e);
    strings(task.svm_ranges, `${at}.svm_ranges`).forEach((r, i) => {
      if (!isObject(r, 'kfd.svm_range')) fail(`${at}.svm_ranges[${i}]`, 'a kfd.svm_range object', r);
    });
  }
  return raw as unknown as World;
}

/**
 * Whether a log can be replayed on a world: a log whose header names a snapshot
 * (`"snapshot":"sha256:…"`) needs exactly that world, and a log replayed on a world
 * from a snapshot needs the same topology and variants. Problems are LogErrors on
 * line 1 of the log.
 */
export function checkContinuation(header: LogHeader, world: World | undefined, file: string): void {
  if (!world) {
    if (header.snapshot !== undefined)
      throw new LogError(file, 1, 1, 'snapshot', `--from <the snapshot of world ${header.snapshot}>`, undefined);
    return;
  }
  if (header.snapshot !== undefined) {
    const hash = worldHash(world);
    if (hash !== header.snapshot)
      throw new LogError(file, 1, 1, 'snapshot', `the hash of the --from snapshot (${hash})`, header.snapshot);
  }
  if (canonicalJson(header.topology) !== canonicalJson(world.topology))
    throw new LogError(file, 1, 1, 'topology', 'the topology of the --from snapshot', 'another topology');
  const variants = { ...DEFAULT_VARIANTS, ...header.variants };
  if (canonicalJson(variants) !== canonicalJson(world.variants))
    throw new LogError(
      file,
      1,
      1,
      'variants',
      `the variants of the --from snapshot (${canonicalJson(world.variants)})`,
      canonicalJson(variants),
    );
}
