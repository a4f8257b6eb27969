/**
 * The mapping index of an amdgpu_vm (vm->va, the interval tree amdgpu_vm_bo_map searches
 * for conflicts; spec §1, §8.2 "Model note").
 *
 * One VM per render-node file (amdgpu_fpriv.vm). A pdd's compute VM is the VM of the
 * render-node file ACQUIRE_VM gave it, so KFD mappings (MAP_MEMORY_TO_GPU, CRIU RESTORE)
 * and render-node GEM_VA mappings land in the same index ("KFD 1.15 GEM_VA in compute
 * VMs"), and an overlap between the two is a conflict like any other.
 *
 * Ranges are in GPU pages (4 KiB), inclusive `[start, last]`, each naming the bo_va object
 * that holds the mapping. Mappings of one VM never overlap (amdgpu_vm_bo_map refuses an
 * overlap, REPLACE and CLEAR cut the old ones first), so the array sorted by `start` is
 * also sorted by `last`: a conflict check is a binary search, O(log n).
 */
import type { VmRange, VmState } from './types.js';

export function emptyVm(): VmState {
  return { bo_vas: {}, prt_va: null, va: [] };
}

/** Index of the first range whose `last` is at or after `page` (va.length if none). */
function firstEndingAtOrAfter(va: readonly VmRange[], page: bigint): number {
  let lo = 0;
  let hi = va.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (va[mid]!.last < page) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** amdgpu_vm_it_iter_first(&vm->va, start, last): the lowest mapping overlapping the range, if any. */
export function vmFirstOverlap(vm: VmState, start: bigint, last: bigint): VmRange | undefined {
  const i = firstEndingAtOrAfter(vm.va, start);
  const r = vm.va[i];
  return r !== undefined && r.start <= last ? r : undefined;
}

/** Every mapping overlapping `[start, last]`, lowest first (the amdgpu_vm_it_iter_next walk). */
export function vmOverlapping(vm: VmState, start: bigint, last: bigint): VmRange[] {
  const out: VmRange[] = [];
  for (let i = firstEndingAtOrAfter(vm.va, start); i < vm.va.length && vm.va[i]!.start <= last; i++)
    out.push({ ...vm.va[i]! });
  return out;
}

/** amdgpu_vm_it_insert: the caller has checked that nothing overlaps. */
export function vmInsert(vm: VmState, r: VmRange): void {
  const i = firstEndingAtOrAfter(vm.va, r.start);
  const next = vm.va[i];
  if (next !== undefined && next.start <= r.last)
    throw new Error(`vm index: [${r.start}, ${r.last}] overlaps [${next.start}, ${next.last}]`);
  vm.va.splice(i, 0, { start: r.start, last: r.last, bo_va: r.bo_va });
}

/** amdgpu_vm_it_remove of the mapping of `boVa` that starts at `start`. */
export function vmRemove(vm: VmState, start: bigint, boVa: string): void {
  const i = firstEndingAtOrAfter(vm.va, start);
  const r = vm.va[i];
  if (r === undefined || r.start !== start || r.bo_va !== boVa)
    throw new Error(`vm index: no mapping of ${boVa} at page ${start}`);
  vm.va.splice(i, 1);
}
