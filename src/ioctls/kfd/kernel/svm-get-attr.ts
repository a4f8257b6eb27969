/**
 * svm_range_get_attr (kfd_svm.c): what GET_ATTR answers over an interval, and what
 * kfd_criu_checkpoint_svm saves per range by asking it (spec §5.2.3).
 */
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import type { SvmAttribute, SvmRangeContext } from '../../../../machines/kfd/svm-range.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOCTL_SVM_ATTR as A, KFD_IOCTL_SVM_FLAG, KFD_IOCTL_SVM_LOCATION as LOC } from '../../../uapi/index.js';
import { contextOf } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { pdd } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { actualGpu, checkVm, ranges, SVM_DEFAULT_GRANULARITY } from './svm.js';

/** svm_range_get_attr's first pass over the attribute types: these two may be set, not asked for. */
function checkGetAttrTypes(attrs: SvmAttribute[]): void {
  for (const a of attrs)
    switch (a.type) {
      case A.PREFERRED_LOC:
      case A.PREFETCH_LOC:
      case A.ACCESS:
      case A.SET_FLAGS:
      case A.CLR_FLAGS:
      case A.GRANULARITY:
        break;
      default: // ACCESS_IN_PLACE, NO_ACCESS and unknown types
        fail(-ERRNO.EINVAL);
    }
}

/** What svm_range_get_attr folds over the ranges it finds (or its defaults when there are none). */
interface FoldedAttrs {
  location: number;
  prefetchLoc: number;
  flagsAnd: number;
  flagsOr: number;
  granularity: number;
  /** Actual gpu ids in the access bitmap, and in the access-in-place bitmap. */
  access: (gpu: number) => boolean;
  inPlace: (gpu: number) => boolean;
}

/**
 * The fold of svm_range_get_attr: a location only when every range has the same one, not
 * UNDEFINED; flags ANDed for SET_FLAGS and ORed for CLR_FLAGS; the smallest granularity; a GPU
 * in the access (or in-place) bitmap only when every range has it there. With no range in
 * the interval: svm_range_set_default_attributes, and access for every GPU if XNACK is on.
 */
function foldRanges(w: World, task: Task, rs: SvmRangeContext[]): FoldedAttrs {
  if (rs.length === 0) {
    const xnack = contextOf<ProcessContext>(w, task.kfd_process!).xnack_enabled;
    const flags = KFD_IOCTL_SVM_FLAG.HOST_ACCESS | KFD_IOCTL_SVM_FLAG.COHERENT;
    return {
      location: LOC.UNDEFINED,
      prefetchLoc: LOC.UNDEFINED,
      flagsAnd: flags,
      flagsOr: flags,
      granularity: SVM_DEFAULT_GRANULARITY,
      access: () => xnack,
      inPlace: () => false,
    };
  }
  const same = (f: (r: SvmRangeContext) => number) =>
    rs.every((r) => f(r) !== LOC.UNDEFINED && f(r) === f(rs[0]!)) ? f(rs[0]!) : LOC.UNDEFINED;
  return {
    location: same((r) => r.preferred_loc),
    prefetchLoc: same((r) => r.prefetch_loc),
    flagsAnd: rs.reduce((f, r) => (f & r.flags) >>> 0, 0xffffffff),
    flagsOr: rs.reduce((f, r) => (f | r.flags) >>> 0, 0),
    granularity: Math.min(...rs.map((r) => r.granularity)),
    access: (gpu) => rs.every((r) => r.access.includes(gpu)),
    inPlace: (gpu) => rs.every((r) => r.access_in_place.includes(gpu)),
  };
}

/**
 * svm_range_get_attr (kfd_svm.c), in its order: svm_range_is_valid (a mapping of a compute VM
 * in the interval → -EADDRINUSE), then the attribute types (ACCESS_IN_PLACE, NO_ACCESS or an
 * unknown type → -EINVAL), then the fold over the ranges that overlap [start, start+npages)
 * (gaps between them are not looked at), then the answers, where an ACCESS query for a GPU
 * the process does not have → -EINVAL. An ACCESS query's type is rewritten to ACCESS,
 * ACCESS_IN_PLACE or NO_ACCESS; every other query's value is replaced.
 */
export function svmGetAttr(w: World, task: Task, start: bigint, npages: bigint, attrs: SvmAttribute[]): SvmAttribute[] {
  checkVm(w, task, start, npages);
  checkGetAttrTypes(attrs);
  const end = start + npages;
  const f = foldRanges(
    w,
    task,
    ranges(w, task).filter((r) => r.start < end && start < r.start + r.npages),
  );
  return attrs.map((a) => {
    switch (a.type) {
      case A.PREFERRED_LOC:
        return { type: a.type, value: f.location };
      case A.PREFETCH_LOC:
        return { type: a.type, value: f.prefetchLoc };
      case A.ACCESS: {
        const gpu = actualGpu(w, task, a.value);
        if (gpu === undefined) fail(-ERRNO.EINVAL);
        const type = f.access(gpu) ? A.ACCESS : f.inPlace(gpu) ? A.ACCESS_IN_PLACE : A.NO_ACCESS;
        return { type, value: a.value };
      }
      case A.SET_FLAGS:
        return { type: a.type, value: f.flagsAnd };
      case A.CLR_FLAGS:
        return { type: a.type, value: ~f.flagsOr >>> 0 };
      default: // GRANULARITY
        return { type: a.type, value: f.granularity };
    }
  });
}

/**
 * The attributes CHECKPOINT saves for a range (kfd_criu_checkpoint_svm): svm_range_get_attr
 * over exactly that range, asked for the 4 common attributes and one ACCESS per pdd (by user
 * gpu id). Its svm_range_is_valid fails the checkpoint if a compute VM maps into the range.
 */
export function checkpointAttrs(w: World, task: Task, r: SvmRangeContext): SvmAttribute[] {
  const query = [
    { type: A.PREFERRED_LOC, value: 0 },
    { type: A.PREFETCH_LOC, value: 0 },
    { type: A.SET_FLAGS, value: 0 },
    { type: A.GRANULARITY, value: 0 },
    ...task.pdds.map((id) => ({ type: A.ACCESS, value: pdd(w, id).user_gpu_id })),
  ];
  return svmGetAttr(w, task, r.start, r.npages, query);
}
