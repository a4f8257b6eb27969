/**
 * kfd_ioctl_svm's own checks (kfd_chardev.c), before svm_ioctl: a start address or size that
 * is not page aligned, or that is 0, is -EINVAL; and svm_range_check_attr (kfd_svm.c): a
 * location must be a GPU of the process, SYSMEM, or (for PREFERRED_LOC only) UNDEFINED.
 * Spec §7 does not list the SVM ioctl's argument checks; these are the kernel's. A start
 * address of 0 and a PREFETCH_LOC of UNDEFINED used to be accepted.
 */
import { describe, expect, it } from 'vitest';
import { APP, E, GPU_A, GPU_B, Harness, PAGE, VA } from '../conformance/helpers.js';
import { KFD_IOCTL_SVM_LOCATION as LOC } from '../../src/uapi/index.js';

const svm = (h: Harness, start_addr: number, size: number) =>
  h.ioctl(APP, 'SVM', { start_addr, size, op: 'SET_ATTR', attrs: [] }).ret;

describe('SVM ioctl arguments (kfd_chardev.c kfd_ioctl_svm)', () => {
  it('spec §2.2 AMDKFD_IOC_SVM (kfd_ioctl_svm, not listed in §7): start_addr 0 → -EINVAL, as size 0; both page aligned', () => {
    const h = new Harness();
    h.setupProcess(APP);
    expect(svm(h, 0, PAGE)).toBe(E.EINVAL);
    expect(svm(h, PAGE, 0)).toBe(E.EINVAL);
    expect(svm(h, PAGE + 1, PAGE)).toBe(E.EINVAL);
    expect(svm(h, PAGE, PAGE + 1)).toBe(E.EINVAL);
    expect(svm(h, Number(VA.svm), PAGE)).toBe(0);
    expect(h.task(APP).svm_ranges).toHaveLength(1);
  });

  it('spec §5.5 step 3 (why RESUME rewrites it), svm_range_check_attr: a PREFERRED_LOC may be UNDEFINED; a PREFETCH_LOC may not (only SYSMEM or a GPU)', () => {
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

  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_check_vm: SET_ATTR over a GPU mapping of a compute VM → -EADDRINUSE: a mapped KFD BO or a GEM_VA mapping, not an unmapped BO', () => {
    const h = new Harness();
    const { drm } = h.setupProcess(APP);
    const set = (va: bigint) => h.ioctl(APP, 'SVM', { start_addr: va, size: PAGE, op: 'SET_ATTR', attrs: [] }).ret;
    // svm_range_check_vm walks the pdds' VMs (vm->va), not the process's BO list.
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    expect(set(VA.gtt)).toBe(0);
    const h2 = new Harness();
    h2.setupProcess(APP);
    const mapped = h2.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    h2.must(h2.map(APP, mapped, [GPU_A]));
    expect(h2.ioctl(APP, 'SVM', { start_addr: VA.gtt, size: PAGE, op: 'SET_ATTR', attrs: [] }).ret).toBe(E.EADDRINUSE);
    // A render-node mapping in GPU B's compute VM (its pdd acquired that file's VM).
    const gem = h.must(h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_CREATE', drm[GPU_B], { bo_size: PAGE, domains: ['GTT'] })).out
      .handle as number;
    const va = 0x500000000n;
    h.must(
      h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_VA', drm[GPU_B], {
        handle: gem,
        operation: 'MAP',
        flags: ['PAGE_READABLE'],
        va_address: va,
        offset_in_bo: 0,
        map_size: PAGE,
      }),
    );
    expect(set(va)).toBe(E.EADDRINUSE);
  });
});
