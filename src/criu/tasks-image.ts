/**
 * `gpucr-core.json`: what CRIU core's own images say that a restore of the plugin's images
 * needs and that the plugin's images do not hold — which tasks the tree has and which CRIU
 * file id each of their fds is (pstree.img, fdinfo-<n>.img), and the pages of userptr BOs
 * (ordinary private memory: CRIU's pages-<n>.img, spec §9.7); and the dumping machine: its GPUs,
 * which the plugin's device entries describe only in part (no GC version, no XCC count), and its
 * kernel's and plugin's design variants, so that a restore "on the same machine" gets the same
 * GPUs and the same kernel. A JSON stand-in, not CRIU's protobuf images (those are out of the
 * model's scope); docs/criu-images.md.
 *
 * Reading validates every field and rejects a bad file with an ImageError naming the field.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { encodeHeader } from '../log/writer.js';
import { parseTopology } from '../world/topology.js';
import { variantProblem } from '../log/header.js';
import type { Topology, Variants } from '../world/types.js';
import { ImageError } from './images/index.js';
import type { DumpedTask, ProcessMemory } from './orchestrate-common.js';

export const CORE_IMAGE = 'gpucr-core.json';

/** At most this many tasks, fds per task, memory entries, pages per entry (no unchecked allocation). */
const MAX_ITEMS = 1 << 20;

/** The GPUs of a world and its page size: a log header's `topology`, without the processes. */
export type CoreTopology = Omit<Topology, 'processes'>;

export interface CoreImage {
  tasks: DumpedTask[];
  memory: ProcessMemory[];
  /** The dumping world's GPUs; absent in files written before it was recorded. */
  topology?: CoreTopology;
  /** The dumping world's design variants (its kernel and plugin); absent in older files. */
  variants?: Partial<Variants>;
}

/**
 * `t` as a log header's `topology` gives it, every GPU field written (encodeHeader's own
 * encoding, so that the file and a log header never disagree on a GPU and parseTopology reads both).
 */
export function headerTopology(t: CoreTopology): Record<string, unknown> {
  const header = encodeHeader({ gpucr: 1, topology: { ...t, processes: [] }, variants: {} });
  return header.topology as Record<string, unknown>;
}

function toJson(c: CoreImage): string {
  const memory = c.memory.map((m) => ({
    pid: m.pid,
    gpu_id: m.gpu_id,
    addr: `0x${m.addr.toString(16)}`,
    pages: Object.fromEntries(Object.entries(m.content).map(([p, v]) => [p, v])),
  }));
  const topology = c.topology ? { topology: headerTopology(c.topology) } : {};
  const variants = c.variants ? { variants: c.variants } : {};
  return `${JSON.stringify({ ...topology, ...variants, tasks: c.tasks, memory }, null, 1)}\n`;
}

/** Writes `gpucr-core.json` into `dir` (under a temporary name, renamed into place). */
export function writeCoreImage(dir: string, c: CoreImage): void {
  const tmp = join(dir, `.${CORE_IMAGE}.tmp`);
  writeFileSync(tmp, toJson(c), { mode: 0o600 });
  renameSync(tmp, join(dir, CORE_IMAGE));
}

const F = CORE_IMAGE;

function uint(v: unknown, field: string, max = 0xffff_ffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw new ImageError(F, field, `an integer 0 … ${max}`, v);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new ImageError(F, field, 'a list', v);
  if (v.length > MAX_ITEMS) throw new ImageError(F, field, `at most ${MAX_ITEMS} entries`, v.length);
  return v;
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ImageError(F, field, 'an object', v);
  return v as Record<string, unknown>;
}

function task(v: unknown, at: string): DumpedTask {
  const t = record(v, at);
  const fds = list(t.fds, `${at}.fds`).map((f, i) => {
    const r = record(f, `${at}.fds[${i}]`);
    return { fd: uint(r.fd, `${at}.fds[${i}].fd`, 0x7fff_ffff), id: uint(r.id, `${at}.fds[${i}].id`, 0x7fff_ffff) };
  });
  return { pid: uint(t.pid, `${at}.pid`, 0x7fff_ffff), fds };
}

function memory(v: unknown, at: string): ProcessMemory {
  const m = record(v, at);
  if (typeof m.addr !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(m.addr))
    throw new ImageError(F, `${at}.addr`, 'a 64-bit address as 0x… hex', m.addr);
  const pages = record(m.pages, `${at}.pages`);
  const keys = Object.keys(pages);
  if (keys.length > MAX_ITEMS) throw new ImageError(F, `${at}.pages`, `at most ${MAX_ITEMS} pages`, keys.length);
  const content: Record<number, number> = {};
  for (const k of keys) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(k)) throw new ImageError(F, `${at}.pages`, 'page indexes as keys', k);
    content[Number(k)] = uint(pages[k], `${at}.pages.${k}`);
  }
  return { pid: uint(m.pid, `${at}.pid`), gpu_id: uint(m.gpu_id, `${at}.gpu_id`), addr: BigInt(m.addr), content };
}

/** The file's `topology`, read as a log header's is; parseTopology's InputError becomes the file's ImageError. */
function topology(v: unknown): CoreTopology {
  try {
    const { page_size, gpus } = parseTopology(v, undefined, 'topology');
    return { page_size, gpus };
  } catch (e) {
    if (e instanceof InputError) throw new ImageError(F, e.where, e.expected, e.found);
    throw e;
  }
}

/** The file's `variants`: names and values a log header's `variants` accepts (VARIANT_VALUES). */
function variants(v: unknown): Partial<Variants> {
  const r = record(v, 'variants');
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(r)) {
    const bad = variantProblem(k, value);
    if (bad) throw new ImageError(F, `variants.${k}`, bad.expected, bad.key ? k : value);
    out[k] = value;
  }
  return out as Partial<Variants>;
}

/** The first task whose pid an earlier task has (a process tree has each pid once), or -1. */
export function duplicatePid(tasks: readonly DumpedTask[]): number {
  const pids = new Set<number>();
  for (const [i, t] of tasks.entries()) {
    if (pids.has(t.pid)) return i;
    pids.add(t.pid);
  }
  return -1;
}

/** The keys of the file's top level. */
const CORE_KEYS = ['topology', 'variants', 'tasks', 'memory'];

/** Reads `gpucr-core.json` of `dir`, or undefined when the directory has none. */
export function readCoreImage(dir: string): CoreImage | undefined {
  const path = join(dir, CORE_IMAGE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ImageError(F, 'file', 'JSON', undefined, (e as Error).message);
  }
  const r = record(raw, '(top)');
  // a misspelt `topology` or `variants` would restore on another machine without a word
  for (const k of Object.keys(r))
    if (!CORE_KEYS.includes(k)) throw new ImageError(F, k, `one of ${CORE_KEYS.join(', ')}`, k);
  const tasks = list(r.tasks, 'tasks').map((t, i) => task(t, `tasks[${i}]`));
  const twice = duplicatePid(tasks);
  if (twice >= 0) throw new ImageError(F, `tasks[${twice}].pid`, 'a pid no other task has', tasks[twice]!.pid);
  return {
    tasks,
    memory: list(r.memory, 'memory').map((m, i) => memory(m, `memory[${i}]`)),
    ...(r.topology === undefined ? {} : { topology: topology(r.topology) }),
    ...(r.variants === undefined ? {} : { variants: variants(r.variants) }),
  };
}
