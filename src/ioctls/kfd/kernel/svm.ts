/**
 * kfd_svm.c, as far as CRIU sees it: ranges with attributes, created and split by
 * SET_ATTR, read by GET_ATTR and CHECKPOINT (svm-get-attr.ts), replayed at RESUME
 * (spec §5.2.3, §5.5 step 3). CPU VMAs are not modelled: every range is taken to
 * be backed by a CPU mapping (svm_range_is_valid's VMA walk always passes; its
 * svm_range_check_vm does not, see checkVm).
 */
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import type { SvmAttribute, SvmRangeContext } from '../../../../machines/kfd/svm-range.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOCTL_SVM_ATTR as A, KFD_IOCTL_SVM_FLAG, KFD_IOCTL_SVM_LOCATION as LOC } from '../../../uapi/index.js';
import { contextOf, createObject, inState, send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { vmFirstOverlap } from '../../../world/vm.js';
import { pdd, pddByUserGpuId } from '../../../world/world.js';
import { U64, vmOf } from '../../amdgpu/kernel/vm.js';
import { AMDGPU_GPU_PAGE_SIZE } from '../../amdgpu/uapi.js';
import { fail } from '../../registry.js';

/** svms->default_granularity (amdgpu_svm_default_granularity, 2 MiB in 4 KiB pages = 2^9). */
export const SVM_DEFAULT_GRANULARITY = 9;

export function ranges(w: World, task: Task): SvmRangeContext[] {
  return task.svm_ranges.map((id) => contextOf<SvmRangeContext>(w, id));
}

/** Actual gpu_id for a user gpu_id, or undefined (kfd_process_gpuidx_from_gpuid). */
export function actualGpu(w: World, task: Task, userGpuId: number): number | undefined {
  const id = pddByUserGpuId(w, task, userGpuId);
  return id ? pdd(w, id).gpu_id : undefined;
}

/** svm_range_check_attr: every location and access target must be a GPU of the process. */
function checkAttrs(w: World, task: Task, attrs: SvmAttribute[]): void {
  for (const a of attrs) {
    switch (a.type) {
      case A.PREFERRED_LOC:
        if (a.value !== LOC.SYSMEM && a.value !== LOC.UNDEFINED && actualGpu(w, task, a.value) === undefined)
          fail(-ERRNO.EINVAL);
        break;
      // A prefetch location must be a place: only SYSMEM is exempt (UNDEFINED is not a GPU),
      // which is why kfd_criu_resume_svm rewrites a saved UNDEFINED one (spec §5.5 step 3).
      case A.PREFETCH_LOC:
        if (a.value !== LOC.SYSMEM && actualGpu(w, task, a.value) === undefined) fail(-ERRNO.EINVAL);
        break;
      case A.ACCESS:
      case A.ACCESS_IN_PLACE:
      case A.NO_ACCESS:
        if (actualGpu(w, task, a.value) === undefined) fail(-ERRNO.EINVAL);
        break;
      case A.SET_FLAGS:
      case A.CLR_FLAGS:
      case A.GRANULARITY:
        break;
      default:
        fail(-ERRNO.EINVAL);
    }
  }
}

/**
 * svm_range_check_vm: the range must not overlap a mapping of any of the process's compute
 * VMs (interval_tree_iter_first(&vm->va, start, last) for each pdd with a drm_priv): a KFD
 * BO's attachment, a kernel BO, or a render-node GEM_VA mapping in the same VM. An allocated
 * BO that was never mapped does not count.
 */
export function checkVm(w: World, task: Task, start: bigint, npages: bigint): void {
  const page = BigInt(w.topology.page_size);
  // The VM index is in GPU pages, inclusive.
  const first = (start * page) / AMDGPU_GPU_PAGE_SIZE;
  const last = ((start + npages) * page - 1n) / AMDGPU_GPU_PAGE_SIZE;
  for (const id of task.pdds) {
    const p = pdd(w, id);
    if (p.drm_file && vmFirstOverlap(w, vmOf(w, p.drm_file), first, last)) fail(-ERRNO.EADDRINUSE);
  }
}

/**
 * ALLOC_MEMORY_OF_GPU's -EADDRINUSE: whether an SVM range of the task is hit by
 * `interval_tree_iter_first(&svms->objects, first, last) != NULL` for the pages of the bytes
 * [addr, addr + size - 1] as the kernel computes them, in u64: a range that wraps past 2^64
 * gives a `last` below `first`, and only a range spanning both would match.
 */
export function svmHitsBytes(w: World, task: Task, addr: bigint, size: bigint, page: bigint): boolean {
  // most processes have no SVM range: no arithmetic on every ALLOC then
  if (task.svm_ranges.length === 0) return false;
  const first = addr / page;
  const last = ((addr + size - 1n) % U64) / page;
  return ranges(w, task).some((r) => r.start <= last && r.start + r.npages - 1n >= first);
}

function newRange(w: World, task: Task, start: bigint, npages: bigint): string {
  const xnack = contextOf<ProcessContext>(w, task.kfd_process!).xnack_enabled;
  const all = task.pdds.map((p) => pdd(w, p).gpu_id);
  const r: SvmRangeContext = {
    pid: task.pid,
    start,
    npages,
    preferred_loc: LOC.UNDEFINED,
    prefetch_loc: LOC.UNDEFINED,
    flags: KFD_IOCTL_SVM_FLAG.HOST_ACCESS | KFD_IOCTL_SVM_FLAG.COHERENT,
    granularity: SVM_DEFAULT_GRANULARITY,
    access: xnack ? all : [],
    access_in_place: [],
  };
  const id = createObject(w, 'kfd.svm_range', r);
  task.svm_ranges.push(id);
  return id;
}

/** Split range `id` at page `at`: the object keeps [start, at), a new one gets [at, end). */
function split(w: World, task: Task, id: string, at: bigint): void {
  const r = contextOf<SvmRangeContext>(w, id);
  const end = r.start + r.npages;
  send(w, id, { type: 'RESIZE', start: r.start, npages: at - r.start });
  const tail = newRange(w, task, at, end - at);
  const { pid: _p, start: _s, npages: _n, ...attrs } = r;
  // A split maps nothing: the tail is in the head's state.
  send(w, tail, {
    type: 'SET_ATTRS',
    attrs,
    map: inState(w, id, 'mapped'),
  });
}

function applyAttrs(r: SvmRangeContext, attrs: SvmAttribute[], w: World, task: Task): Partial<SvmRangeContext> {
  const next = { ...r, access: [...r.access], access_in_place: [...r.access_in_place] };
  for (const a of attrs) {
    const gpu = actualGpu(w, task, a.value);
    switch (a.type) {
      case A.PREFERRED_LOC:
        next.preferred_loc = a.value;
        break;
      case A.PREFETCH_LOC:
        next.prefetch_loc = a.value;
        break;
      case A.ACCESS:
      case A.ACCESS_IN_PLACE:
      case A.NO_ACCESS:
        next.access = next.access.filter((g) => g !== gpu);
        next.access_in_place = next.access_in_place.filter((g) => g !== gpu);
        if (a.type === A.ACCESS && gpu !== undefined) next.access.push(gpu);
        if (a.type === A.ACCESS_IN_PLACE && gpu !== undefined) next.access_in_place.push(gpu);
        break;
      case A.SET_FLAGS:
        next.flags = (next.flags | a.value) >>> 0;
        break;
      case A.CLR_FLAGS:
        next.flags = (next.flags & ~a.value) >>> 0;
        break;
      case A.GRANULARITY:
        next.granularity = Math.min(a.value, 0x3f);
        break;
    }
  }
  next.access.sort((x, y) => x - y);
  next.access_in_place.sort((x, y) => x - y);
  const { pid: _p, start: _s, npages: _n, ...changed } = next;
  return changed;
}

/** svm_range_set_attr(p, mm, start, size, nattr, attrs): pages [start, start+npages). */
export function svmSetAttr(w: World, task: Task, start: bigint, npages: bigint, attrs: SvmAttribute[]): void {
  checkAttrs(w, task, attrs);
  checkVm(w, task, start, npages);
  const end = start + npages;
  // svm_range_add: split ranges that straddle the boundaries, fill the gaps.
  for (const id of [...task.svm_ranges]) {
    const r = contextOf<SvmRangeContext>(w, id);
    if (r.start < start && start < r.start + r.npages) split(w, task, id, start);
  }
  for (const id of [...task.svm_ranges]) {
    const r = contextOf<SvmRangeContext>(w, id);
    if (r.start < end && end < r.start + r.npages) split(w, task, id, end);
  }
  let cursor = start;
  const covered = ranges(w, task)
    .filter((r) => r.start >= start && r.start + r.npages <= end)
    .sort((a, b) => (a.start < b.start ? -1 : 1));
  for (const r of covered) {
    if (r.start > cursor) newRange(w, task, cursor, r.start - cursor);
    cursor = r.start + r.npages;
  }
  if (cursor < end) newRange(w, task, cursor, end - cursor);
  const xnack = contextOf<ProcessContext>(w, task.kfd_process!).xnack_enabled;
  for (const id of task.svm_ranges) {
    const r = contextOf<SvmRangeContext>(w, id);
    if (r.start < start || r.start + r.npages > end) continue;
    const changed = applyAttrs(r, attrs, w, task);
    const map = !xnack && (changed.access!.length > 0 || changed.access_in_place!.length > 0);
    send(w, id, { type: 'SET_ATTRS', attrs: changed, map });
  }
  task.svm_ranges.sort((a, b) => {
    const x = contextOf<SvmRangeContext>(w, a).start;
    const y = contextOf<SvmRangeContext>(w, b).start;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

export function svmRangesOf(w: World, task: Task): SvmRangeContext[] {
  return ranges(w, task);
}
