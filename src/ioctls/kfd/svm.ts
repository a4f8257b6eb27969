/** AMDKFD_IOC_SVM: SET_ATTR and GET_ATTR (kfd_svm.c, spec §5.2.3). */
import { ERRNO } from '../../uapi/errno.js';
import { KFD_IOCTL_SVM_ATTR, KFD_IOCTL_SVM_OP } from '../../uapi/index.js';
import { register } from '../registry.js';
import { arrayOf, enumOf, nullable, struct, u32, u64 } from '../schema.js';
import { svmGetAttr } from './kernel/svm-get-attr.js';
import { svmSetAttr } from './kernel/svm.js';

interface SvmArgs {
  start_addr: bigint;
  size: bigint;
  op: number;
  nattr: number | null;
  attrs: { type: number; value: number }[];
}

// kfd_ioctl_svm → svm_ioctl (kfd_chardev.c, kfd_svm.c), spec §5.2.3
export const svmIoctl = register<SvmArgs>({
  name: 'AMDKFD_IOC_SVM',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_svm → svm_ioctl (kfd_chardev.c, kfd_svm.c), spec §5.2.3',
  checks: [
    'start_addr or size not page aligned, or start_addr or size 0 → -EINVAL',
    'attrs shorter than nattr (copy_from_user) → -EFAULT',
    'SET_ATTR: svm_range_check_attr: a location or access target that is not a GPU of the process (SYSMEM aside, and UNDEFINED for PREFERRED_LOC only), or an unknown attribute → -EINVAL',
    'SET_ATTR: then the range overlaps a mapping in a compute VM of the process (svm_range_is_valid → svm_range_check_vm: KFD or GEM_VA) → -EADDRINUSE',
    'GET_ATTR: the range overlaps a mapping in a compute VM (svm_range_is_valid, first) → -EADDRINUSE; then an ACCESS_IN_PLACE, NO_ACCESS or unknown attribute → -EINVAL; then an ACCESS query for a GPU not of the process → -EINVAL',
    'unknown op → 22: svm_ioctl returns EINVAL unnegated, so the ioctl returns 22 and sets no errno',
  ],
  args: {
    start_addr: u64,
    size: u64,
    op: enumOf(KFD_IOCTL_SVM_OP, 'KFD_IOCTL_SVM_OP_'),
    nattr: nullable(u32),
    attrs: arrayOf(struct({ type: enumOf(KFD_IOCTL_SVM_ATTR, 'KFD_IOCTL_SVM_ATTR_'), value: u32 })),
  },
  out: ['attrs'],
  run({ w, task }, a) {
    const page = BigInt(w.topology.page_size);
    if (a.start_addr % page !== 0n || a.size % page !== 0n) return -ERRNO.EINVAL;
    if (a.start_addr === 0n || a.size === 0n) return -ERRNO.EINVAL;
    const n = a.nattr ?? a.attrs.length;
    a.nattr = n;
    if (a.attrs.length < n) return -ERRNO.EFAULT;
    const attrs = a.attrs.slice(0, n);
    if (a.op === KFD_IOCTL_SVM_OP.SET_ATTR) svmSetAttr(w, task, a.start_addr / page, a.size / page, attrs);
    else if (a.op === KFD_IOCTL_SVM_OP.GET_ATTR)
      a.attrs = svmGetAttr(w, task, a.start_addr / page, a.size / page, attrs);
    // svm_ioctl's default case: `r = EINVAL`, not -EINVAL (a kernel quirk, kept as it is).
    else return ERRNO.EINVAL;
    return 0;
  },
});
