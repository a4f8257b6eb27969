/**
 * The mapping index of an amdgpu_vm (vm->va, the interval tree amdgpu_vm_bo_map searches
 * for conflicts; spec §1, §8.2 "Model note").
 *
 * One VM per render-node file (amdgpu_fpriv.vm). A pdd's compute VM is the VM of the
 * render-node file ACQUIRE_VM gave it, so KFD mappings (MAP_MEMORY_TO_GPU, CRIU RESTORE)
 * and render-node GEM_VA mappings land in the same index ("KFD 1.15 GEM_VA in compute
 * VMs"), and an overlap between the two is a conflict like any other.
 *
 * The world holds the mappings once, in the VM's bo_va objects (valids and invalids of
 * each, machines/amdgpu/bo-va.ts). The index is derived from them and kept beside the
 * world, not in it: a sorted array inside the world was spliced on every map and unmap
 * (O(mappings), a tenth of a replay's time at 10,000 BOs, issue 4) and stored every
 * mapping twice. It is built from the bo_vas the first time a VM is searched in a world
 * object (a fresh, thawed or drafted world builds its own), then kept up to date by the
 * callers (src/ioctls/amdgpu/kernel/vm.ts) as each bo_va event adds or removes a range.
 *
 * Ranges are in GPU pages (4 KiB), inclusive `[start, last]`, each naming the bo_va that
 * holds it. Mappings of one VM never overlap (amdgpu_vm_bo_map refuses an overlap, REPLACE
 * and CLEAR cut the old ones first), so ranges sorted by `start` are also sorted by
 * `last`. The index is a list of sorted chunks of at most CHUNK ranges: a search is two
 * binary searches, an insert or a removal moves at most one chunk.
 */
import type { BoVaContext } from '../../machines/amdgpu/bo-va.js';
import type { VmRange, VmState, World } from './types.js';

export function emptyVm(): VmState {
  return { bo_vas: {}, prt_va: null };
}

const CHUNK = 256;

/** Sorted, disjoint ranges in chunks (every chunk non-empty, chunks in order). */
class RangeIndex {
  private chunks: VmRange[][] = [];

  /** Position of the first range whose `last` is at or after `page`: [chunk, index]. */
  private find(page: bigint): [number, number] {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cs[mid]!;
      if (c[c.length - 1]!.last < page) lo = mid + 1;
      else hi = mid;
    }
    if (lo === cs.length) return [lo, 0];
    const c = cs[lo]!;
    let a = 0;
    let b = c.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (c[mid]!.last < page) a = mid + 1;
      else b = mid;
    }
    return [lo, a];
  }

  firstOverlap(start: bigint, last: bigint): VmRange | undefined {
    const [ci, i] = this.find(start);
    const r = this.chunks[ci]?.[i];
    return r !== undefined && r.start <= last ? r : undefined;
  }

  overlapping(start: bigint, last: bigint): VmRange[] {
    const out: VmRange[] = [];
    let [ci, i] = this.find(start);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci]!;
      for (; i < c.length; i++) {
        if (c[i]!.start > last) return out;
        out.push({ ...c[i]! });
      }
    }
    return out;
  }

  insert(r: VmRange): void {
    const [ci, i] = this.find(r.start);
    const next = this.chunks[ci]?.[i];
    if (next !== undefined && next.start <= r.last)
      throw new Error(`vm index: [${r.start}, ${r.last}] overlaps [${next.start}, ${next.last}]`);
    const entry = { start: r.start, last: r.last, bo_va: r.bo_va };
    if (this.chunks.length === 0) {
      this.chunks.push([entry]);
      return;
    }
    // After the last range: the end of the last chunk.
    const at = ci === this.chunks.length ? ci - 1 : ci;
    const c = this.chunks[at]!;
    c.splice(ci === this.chunks.length ? c.length : i, 0, entry);
    if (c.length > 2 * CHUNK) this.chunks.splice(at + 1, 0, c.splice(CHUNK));
  }

  remove(start: bigint, boVa: string): void {
    const [ci, i] = this.find(start);
    const c = this.chunks[ci];
    const r = c?.[i];
    if (r === undefined || r.start !== start || r.bo_va !== boVa)
      throw new Error(`vm index: no mapping of ${boVa} at page ${start}`);
    c!.splice(i, 1);
    if (c!.length === 0) this.chunks.splice(ci, 1);
  }

  all(): VmRange[] {
    return this.chunks.flat().map((r) => ({ ...r }));
  }

  /** Whether the index holds exactly `ranges`, in order (compared field by field, nothing copied). */
  equals(ranges: readonly VmRange[]): boolean {
    let k = 0;
    for (const c of this.chunks)
      for (const r of c) {
        const o = ranges[k++];
        if (o === undefined || o.start !== r.start || o.last !== r.last || o.bo_va !== r.bo_va) return false;
      }
    return k === ranges.length;
  }
}

const INDEXES = new WeakMap<VmState, RangeIndex>();

/** The bo_vas a VM lists: one per GEM object, and its PRT bo_va. */
export function vmBoVas(vm: VmState): string[] {
  const ids = Object.values(vm.bo_vas);
  if (vm.prt_va) ids.push(vm.prt_va);
  return ids;
}

/**
 * The ranges of a VM's live bo_vas, from the world alone, sorted by start (overlaps kept).
 * `ids` are the VM's bo_vas (vmBoVas), for a caller that has them already.
 */
export function vmMappingsOf(w: World, vm: VmState, ids: readonly string[] = vmBoVas(vm)): VmRange[] {
  const out: VmRange[] = [];
  for (const id of ids) {
    const c = w.objects[id]?.context as BoVaContext | undefined;
    if (!c) continue;
    for (const m of c.valids) out.push({ start: m.start, last: m.last, bo_va: id });
    for (const m of c.invalids) out.push({ start: m.start, last: m.last, bo_va: id });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

function indexOf(w: World, vm: VmState): RangeIndex {
  let index = INDEXES.get(vm);
  if (!index) {
    index = new RangeIndex();
    for (const r of vmMappingsOf(w, vm)) index.insert(r);
    INDEXES.set(vm, index);
  }
  return index;
}

/** Build the VM's index now (before a bo_va event changes the mappings it is built from). */
export function vmIndexReady(w: World, vm: VmState): void {
  indexOf(w, vm);
}

/** amdgpu_vm_it_iter_first(&vm->va, start, last): the lowest mapping overlapping the range, if any. */
export function vmFirstOverlap(w: World, vm: VmState, start: bigint, last: bigint): VmRange | undefined {
  return indexOf(w, vm).firstOverlap(start, last);
}

/** Every mapping overlapping `[start, last]`, lowest first (the amdgpu_vm_it_iter_next walk). */
export function vmOverlapping(w: World, vm: VmState, start: bigint, last: bigint): VmRange[] {
  return indexOf(w, vm).overlapping(start, last);
}

/** amdgpu_vm_it_insert: the caller has checked that nothing overlaps. */
export function vmInsert(w: World, vm: VmState, r: VmRange): void {
  indexOf(w, vm).insert(r);
}

/** amdgpu_vm_it_remove of the mapping of `boVa` that starts at `start`. */
export function vmRemove(w: World, vm: VmState, start: bigint, boVa: string): void {
  indexOf(w, vm).remove(start, boVa);
}

/** The index as the handlers see it, when one was built for this VM object. */
export function vmIndexed(vm: VmState): VmRange[] | undefined {
  return INDEXES.get(vm)?.all();
}

/**
 * Whether the index the handlers search holds exactly `ranges` (sorted by start), or
 * undefined when none was built for this VM object (amdgpu.vm-index compares it with the
 * mappings of the VM's bo_vas after every event of `replay --check`).
 */
export function vmIndexEquals(vm: VmState, ranges: readonly VmRange[]): boolean | undefined {
  return INDEXES.get(vm)?.equals(ranges);
}
