/**
 * kfd_ioctl_svm's own checks (kfd_chardev.c), before svm_ioctl: a start address or size that
 * is not page aligned, or that is 0, is -EINVAL; and svm_range_check_attr (kfd_svm.c): a
 * location must be a GPU of the process, SYSMEM, or (for PREFERRED_LOC only) UNDEFINED.
 * Spec §7 does not list the SVM ioctl's argument checks; these are the kernel's. A start
 * address of 0 and a PREFETCH_LOC of UNDEFINED used to be accepted.
 */
import { describe, expect, it } from 'vitest';
import { APP, E, GPU_A, Harness, PAGE, VA } from '../conformance/helpers.js';
import { KFD_IOCTL_SVM_LOCATION as LOC } from '../../src/uapi/index.js';

const svm = (h: Harness, start_addr: number, size: number) =>
  h.ioctl(APP, 'SVM', { start_addr, size, op: 'SET_ATTR', attrs: [] }).ret;

describe('SVM ioctl arguments (kfd_chardev.c kfd_ioctl_svm)', () => {
  it('start_addr 0 → -EINVAL, as size 0; both page aligned', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(svm(h, 0, PAGE)).toBe(E.EINVAL);
    expect(svm(h, PAGE, 0)).toBe(E.EINVAL);
    expect(svm(h, PAGE + 1, PAGE)).toBe(E.EINVAL);
    expect(svm(h, PAGE, PAGE + 1)).toBe(E.EINVAL);
    expect(svm(h, Number(VA.svm), PAGE)).toBe(0);
    expect(h.task(APP).svm_ranges).toHaveLength(1);
  });

  it('a PREFERRED_LOC may be UNDEFINED; a PREFETCH_LOC may not (only SYSMEM or a GPU)', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const set = (type: string, value: number) =>
      h.ioctl(APP, 'SVM', { start_addr: VA.svm, size: PAGE, op: 'SET_ATTR', attrs: [{ type, value }] }).ret;
    expect(set('PREFERRED_LOC', LOC.UNDEFINED)).toBe(0);
    expect(set('PREFETCH_LOC', LOC.UNDEFINED)).toBe(E.EINVAL);
    expect(set('PREFETCH_LOC', LOC.SYSMEM)).toBe(0);
    expect(set('PREFETCH_LOC', GPU_A)).toBe(0);
    expect(set('PREFETCH_LOC', 0x7777)).toBe(E.EINVAL);
  });
});
