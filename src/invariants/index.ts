/**
 * Invariants: properties every world must have, checked after every event by
 * `gpucr replay --check` and by the explorer (design "Invariants"; docs/invariants.md).
 *
 * An invariant is a name, a one-line description and a function of the world that
 * returns its violations (an empty list when it holds). Each driver registers its own
 * from its own module:
 *
 *   registerInvariant('ttm.content-kept', 'a backed-up tt loses no page', (w) => [...]);
 *
 * and adds one import line at the end of this file (as src/ioctls/all.ts does for
 * calls). Names are "<driver>.<what>"; a violation names the objects involved by id.
 *
 * Counting file references is shared between drivers: a driver whose objects hold
 * references to open files (a pdd's drm_file, a kgd_mem's dma-buf …) registers a
 * `registerFileReferences` counter, and `kfd.file-refs` checks that every file's
 * reference count equals its fd-table entries plus every registered holder.
 *
 * The registry lives on a global symbol rather than a module variable so that a
 * module which registers while this one is still being evaluated (an import cycle
 * through the handlers) finds it.
 */
import { InputError } from '../errors.js';
import { withObjectsByKind } from '../world/objects-by-kind.js';
import type { World } from '../world/types.js';

/** One way a world breaks an invariant. */
export interface Violation {
  /** What is wrong, for people: names ids, expected and actual values. */
  message: string;
  /** Ids of the objects, files, GEM objects or tasks (`task:<pid>`) involved. */
  objects?: readonly string[];
}

/** A violation with the name of the invariant that found it. */
export interface NamedViolation extends Violation {
  invariant: string;
}

export interface Invariant {
  /** "<driver>.<what>", e.g. "kfd.handles-unique". */
  name: string;
  /** One line: what holds in every valid world. */
  description: string;
  check(w: World): Violation[];
}

/** A holder of file references: yields [file id, holder id] once per reference held. */
export type FileReferenceCounter = (w: World) => Iterable<readonly [file: string, holder: string]>;

interface Registry {
  invariants: Map<string, Invariant>;
  fileRefs: Map<string, FileReferenceCounter>;
}

function registry(): Registry {
  const key = Symbol.for('gpucr.invariants');
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[key];
  if (!r) {
    r = { invariants: new Map(), fileRefs: new Map() };
    g[key] = r;
  }
  return r;
}

/** Register an invariant; a name can be registered once. */
export function registerInvariant(name: string, description: string, check: (w: World) => Violation[]): Invariant {
  if (!/^[a-z0-9]+(\.[a-z0-9-]+)+$/.test(name)) throw new Error(`invariant name ${name}: expected <driver>.<what>`);
  const reg = registry().invariants;
  const existing = reg.get(name);
  if (existing && existing.check !== check) throw new Error(`invariant ${name} registered twice`);
  const inv: Invariant = { name, description, check };
  reg.set(name, inv);
  return inv;
}

/** Every registered invariant, sorted by name. */
export function allInvariants(): Invariant[] {
  return [...registry().invariants.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function getInvariant(name: string): Invariant | undefined {
  return registry().invariants.get(name);
}

/**
 * The invariants named (in the order given, each once), or all of them when `names`
 * is empty. An unknown name is bad input (`--invariant` of the CLI).
 */
export function selectInvariants(names: readonly string[] = []): Invariant[] {
  if (names.length === 0) return allInvariants();
  const out: Invariant[] = [];
  for (const n of names) {
    const inv = getInvariant(n);
    if (!inv)
      throw new InputError(
        '--invariant',
        `one of ${allInvariants()
          .map((i) => i.name)
          .join(', ')}`,
        n,
      );
    if (!out.includes(inv)) out.push(inv);
  }
  return out;
}

/**
 * Run invariants on a world; every violation, in invariant order. The world's objects are
 * sorted by kind once for all of them (src/world/objects-by-kind.ts).
 */
export function checkInvariants(w: World, invariants: readonly Invariant[] = allInvariants()): NamedViolation[] {
  return withObjectsByKind(w, () => {
    const out: NamedViolation[] = [];
    for (const inv of invariants) {
      for (const v of inv.check(w)) out.push({ invariant: inv.name, ...v });
    }
    return out;
  });
}

/** Register a holder of file references (see the module comment). */
export function registerFileReferences(name: string, count: FileReferenceCounter): void {
  registry().fileRefs.set(name, count);
}

/** Every registered file-reference counter, by name. */
export function fileReferenceCounters(): [string, FileReferenceCounter][] {
  return [...registry().fileRefs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// Each driver's invariants (one line per driver).
import './kfd.js';
import './ttm.js';
import './i915.js';
import './criu.js';
import './kfd-criu.js';
