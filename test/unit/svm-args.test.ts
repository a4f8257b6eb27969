/**
 * kfd_ioctl_svm's own checks (kfd_chardev.c), before svm_ioctl: a start address or size that
 * is not page aligned, or that is 0, is -EINVAL. Spec §7 does not list the SVM ioctl's
 * argument checks; these are the kernel's. A start address of 0 used to be accepted.
 */
import { describe, expect, it } from 'vitest';
import { APP, E, Harness, PAGE, VA } from '../conformance/helpers.js';

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
});
