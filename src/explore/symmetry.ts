/**
 * Symmetry reduction for composed-world exploration (issue 7 item 1): two worlds that
 * differ only in the names of interchangeable ids are one state.
 *
 * Interchangeable are the ids the model allocates from counters, which stand for kernel
 * pointers: object ids (`kfd.bo#12`), open-file ids (`file#3`) and GEM ids (`gem#5`). No
 * handler compares them or shows them to user space, so renaming them is a symmetry of
 * every family: "allocate A, then B" and "allocate B, then A" reach the same world up to
 * names, and so do worlds whose counters differ because an object was created and freed.
 * Handles, fds and pids are not renamed: the kernel hands them out lowest-free and user
 * space passes them back, so a permutation of them is not a symmetry of the model.
 *
 * The canonical form renames ids in the order a deterministic walk first meets them:
 * first everything but the id-keyed tables (tasks by pid, fds by number, topology,
 * variants …), then each named id's records in the order they were named; ids nothing
 * refers to come last, ordered by their records with ids masked. Keys that are ids are
 * visited in the order of their (new) names, or of their masked contents when not yet
 * named. The counters `next.object`, `next.file` and `next.gem` are left out (they only
 * choose future names). Two worlds with equal forms are equal up to a renaming of ids;
 * a tie the ordering cannot break only costs a missed merge, never a wrong one.
 */
import { canonicalJson } from '../log/canonical.js';
import type { World } from '../world/types.js';

const ID = /^[a-z][a-z0-9_.]*#[0-9]+$/;

/** The tables keyed by id whose entries are visited when their id is named. */
type Tables = Record<string, Record<string, unknown> | undefined>;

function tablesOf(w: World): Tables {
  return {
    objects: w.objects,
    files: w.files,
    gems: w.gems,
    drm: w.drm,
    alloc_idr: w.alloc_idr as Record<string, unknown> | undefined,
  };
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** A value with every id replaced by `#` (the order of ids not named yet). */
function masked(v: unknown): string {
  return canonicalJson(maskIds(v));
}

function maskIds(v: unknown): unknown {
  if (typeof v === 'string') return ID.test(v) ? '#' : v;
  if (Array.isArray(v)) return v.map(maskIds);
  if (isPlain(v)) {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const k of Object.keys(v)) out[ID.test(k) ? `#${n++}:${masked(v[k])}` : k] = maskIds(v[k]);
    return out;
  }
  return v;
}

class Renamer {
  private readonly names = new Map<string, string>();
  private readonly queue: string[] = [];

  name(id: string): string {
    let n = this.names.get(id);
    if (n === undefined) {
      n = `${id.slice(0, id.lastIndexOf('#'))}#${this.names.size}`;
      this.names.set(id, n);
      this.queue.push(id);
    }
    return n;
  }

  has(id: string): boolean {
    return this.names.has(id);
  }

  next(): string | undefined {
    return this.queue.shift();
  }

  /** A copy of `v` with ids renamed (naming new ones as they are met). */
  copy(v: unknown): unknown {
    if (typeof v === 'string') return ID.test(v) ? this.name(v) : v;
    if (Array.isArray(v)) return v.map((x) => this.copy(x));
    if (!isPlain(v)) return v;
    const plain: string[] = [];
    const ids: string[] = [];
    for (const k of Object.keys(v)) (ID.test(k) ? ids : plain).push(k);
    const out: Record<string, unknown> = {};
    for (const k of plain.sort()) out[k] = this.copy(v[k]);
    if (ids.length) {
      const key = (k: string) => (this.names.has(k) ? `0${this.names.get(k)!.padStart(24)}` : `1${masked(v[k])}`);
      const order = ids.map((k) => [key(k), k] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [, k] of order) out[this.name(k)] = this.copy(v[k]);
    }
    return out;
  }
}

/** The world with interchangeable ids renamed canonically (see the module comment). */
export function symmetryCanonical(w: World): unknown {
  const tables = tablesOf(w);
  const r = new Renamer();
  const { objects: _o, files: _f, gems: _g, drm: _d, alloc_idr: _a, next, ...rest } = w;
  const root = r.copy({ ...rest, next: { mmap: next.mmap } });
  const renamed: Record<string, Record<string, unknown>> = {};
  const visit = () => {
    for (let id = r.next(); id !== undefined; id = r.next()) {
      for (const [t, table] of Object.entries(tables)) {
        if (!table || !Object.hasOwn(table, id)) continue;
        (renamed[t] ??= {})[r.name(id)] = r.copy(table[id]) as Record<string, unknown>;
      }
    }
  };
  visit();
  // ids nothing refers to, by their masked records
  const rest2: [string, string][] = [];
  for (const table of Object.values(tables))
    for (const id of Object.keys(table ?? {})) if (!r.has(id)) rest2.push([masked(table![id]), id]);
  rest2.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  for (const [, id] of rest2) {
    r.name(id);
    visit();
  }
  return { root, ...renamed };
}

/** The canonical text of a world up to the renaming of interchangeable ids. */
export function symmetryKey(w: World): string {
  return canonicalJson(symmetryCanonical(w));
}
