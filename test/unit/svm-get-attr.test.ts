/**
 * SVM GET_ATTR as svm_range_get_attr (kfd_svm.c) answers it, and CHECKPOINT, which asks it once
 * per range (kfd_criu_checkpoint_svm, spec §5.2.3). The spec names the function and what
 * CHECKPOINT queries, not how it answers; these follow the kernel source:
 * - svm_range_is_valid comes first: a mapping of a compute VM in the interval → -EADDRINUSE;
 * - then the types: ACCESS_IN_PLACE, NO_ACCESS (they can be set, not asked for) and unknown
 *   types → -EINVAL; an ACCESS query for a GPU the process does not have → -EINVAL;
 * - with no range in the interval, svm_range_set_default_attributes: locations UNDEFINED,
 *   flags HOST_ACCESS | COHERENT (so CLR_FLAGS is their complement), the default granularity,
 *   and access for every GPU only with XNACK on;
 * - otherwise a fold over the ranges that overlap (gaps are not looked at): a location only
 *   when every range has the same one, SET_FLAGS = AND, CLR_FLAGS = ~OR, the smallest
 *   granularity, and a GPU's access bitmaps ANDed (ACCESS in one range and ACCESS_IN_PLACE in
 *   another → NO_ACCESS);
 * - svm_ioctl's unknown op returns EINVAL unnegated: the ioctl returns 22.
 */
import { describe, expect, it } from 'vitest';
import {
  KFD_IOCTL_SVM_ATTR as A,
  KFD_IOCTL_SVM_FLAG as FLAG,
  KFD_IOCTL_SVM_LOCATION as LOC,
} from '../../src/uapi/index.js';
import { SVM_DEFAULT_GRANULARITY } from '../../src/ioctls/kfd/kernel/svm.js';
import { APP, CRIU, decodeCk, E, GPU_A, GPU_B, Harness, PAGE, VA } from '../conformance/helpers.js';

type Attr = { type: number; value: number };

function setAttr(h: Harness, start: bigint, pages: number, attrs: { type: string; value: number }[]): void {
  h.must(h.ioctl(APP, 'SVM', { start_addr: start, size: pages * PAGE, op: 'SET_ATTR', attrs }));
}

function getAttr(h: Harness, start: bigint, pages: number, attrs: { type: string; value?: number }[]) {
  const r = h.ioctl(APP, 'SVM', {
    start_addr: start,
    size: pages * PAGE,
    op: 'GET_ATTR',
    attrs: attrs.map((a) => ({ type: a.type, value: a.value ?? 0 })),
  });
  return { ret: r.ret, attrs: r.out.attrs as Attr[] | undefined };
}

/** Every query but ACCESS, in the order of the uapi's attribute types. */
const COMMON_QUERIES = ['PREFERRED_LOC', 'PREFETCH_LOC', 'SET_FLAGS', 'CLR_FLAGS', 'GRANULARITY'].map((type) => ({
  type,
}));

const HOST_COHERENT = FLAG.HOST_ACCESS | FLAG.COHERENT;

describe('SVM GET_ATTR (kfd_svm.c svm_range_get_attr)', () => {
  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_get_attr: svm_range_is_valid first: a compute VM mapping in the interval → -EADDRINUSE, even for a query type that is -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const bo = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    // Allocated, not mapped: vm->va is empty there.
    expect(getAttr(h, VA.gtt, 1, [{ type: 'GRANULARITY' }]).ret).toBe(0);
    h.must(h.map(APP, bo, [GPU_A]));
    expect(getAttr(h, VA.gtt, 1, [{ type: 'GRANULARITY' }]).ret).toBe(E.EADDRINUSE);
    expect(getAttr(h, VA.gtt, 1, [{ type: 'NO_ACCESS', value: GPU_A }]).ret).toBe(E.EADDRINUSE);
    // An interval that only starts before the mapping still overlaps it.
    expect(getAttr(h, VA.gtt - BigInt(PAGE), 2, [{ type: 'GRANULARITY' }]).ret).toBe(E.EADDRINUSE);
    expect(getAttr(h, VA.gtt - BigInt(PAGE), 1, [{ type: 'GRANULARITY' }]).ret).toBe(0);
  });

  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_get_attr: ACCESS_IN_PLACE, NO_ACCESS and unknown query types → -EINVAL; ACCESS of a GPU not of the process → -EINVAL', () => {
    const h = new Harness();
    h.setupProcess(APP);
    setAttr(h, VA.svm, 2, [{ type: 'ACCESS_IN_PLACE', value: GPU_A }]);
    expect(getAttr(h, VA.svm, 2, [{ type: 'ACCESS_IN_PLACE', value: GPU_A }]).ret).toBe(E.EINVAL);
    expect(getAttr(h, VA.svm, 2, [{ type: 'NO_ACCESS', value: GPU_A }]).ret).toBe(E.EINVAL);
    expect(getAttr(h, VA.svm, 2, [{ type: '9' }]).ret).toBe(E.EINVAL);
    expect(getAttr(h, VA.svm, 2, [{ type: 'ACCESS', value: 0x7777 }]).ret).toBe(E.EINVAL);
    // Locations are not checked when asked for: the value is replaced.
    const ok = getAttr(h, VA.svm, 2, [
      { type: 'PREFERRED_LOC', value: 0x7777 },
      { type: 'ACCESS', value: GPU_A },
    ]);
    expect(ok.ret).toBe(0);
    expect(ok.attrs).toEqual([
      { type: A.PREFERRED_LOC, value: LOC.UNDEFINED },
      { type: A.ACCESS_IN_PLACE, value: GPU_A },
    ]);
  });

  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_set_default_attributes: with no range in the interval, flags HOST_ACCESS|COHERENT, CLR_FLAGS their complement, default granularity, no access without XNACK', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const r = getAttr(h, VA.svm, 4, [...COMMON_QUERIES, { type: 'ACCESS', value: GPU_A }]);
    expect(r.ret).toBe(0);
    expect(r.attrs).toEqual([
      { type: A.PREFERRED_LOC, value: LOC.UNDEFINED },
      { type: A.PREFETCH_LOC, value: LOC.UNDEFINED },
      { type: A.SET_FLAGS, value: HOST_COHERENT },
      { type: A.CLR_FLAGS, value: ~HOST_COHERENT >>> 0 },
      { type: A.GRANULARITY, value: SVM_DEFAULT_GRANULARITY },
      { type: A.NO_ACCESS, value: GPU_A },
    ]);
  });

  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_get_attr: with XNACK on and no range, every GPU of the process is ACCESS', () => {
    const h = new Harness({ gpuA: { xnack_capable: true }, gpuB: { xnack_capable: true } });
    h.setupProcess(APP);
    h.must(h.ioctl(APP, 'SET_XNACK_MODE', { xnack_enabled: 1 }));
    const r = getAttr(h, VA.svm, 1, [
      { type: 'ACCESS', value: GPU_A },
      { type: 'ACCESS', value: GPU_B },
    ]);
    expect(r.attrs!.map((a) => a.type)).toEqual([A.ACCESS, A.ACCESS]);
  });

  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_get_attr: the fold over two ranges: a location both agree on, AND/OR of flags, the smallest granularity, access bitmaps ANDed', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const second = VA.svm + BigInt(2 * PAGE);
    setAttr(h, VA.svm, 2, [
      { type: 'PREFERRED_LOC', value: GPU_A },
      { type: 'PREFETCH_LOC', value: GPU_B },
      { type: 'ACCESS', value: GPU_A },
      { type: 'ACCESS_IN_PLACE', value: GPU_B },
      { type: 'SET_FLAGS', value: FLAG.GPU_RO },
      { type: 'GRANULARITY', value: 3 },
    ]);
    setAttr(h, second, 2, [
      { type: 'PREFERRED_LOC', value: GPU_A },
      { type: 'ACCESS_IN_PLACE', value: GPU_A },
      { type: 'ACCESS_IN_PLACE', value: GPU_B },
      { type: 'CLR_FLAGS', value: FLAG.COHERENT },
      { type: 'GRANULARITY', value: 5 },
    ]);
    const ask = [...COMMON_QUERIES, { type: 'ACCESS', value: GPU_A }, { type: 'ACCESS', value: GPU_B }];
    const both = getAttr(h, VA.svm, 4, ask);
    expect(both.ret).toBe(0);
    expect(both.attrs).toEqual([
      { type: A.PREFERRED_LOC, value: GPU_A },
      // The second range's prefetch location is UNDEFINED: the fold stops at UNDEFINED.
      { type: A.PREFETCH_LOC, value: LOC.UNDEFINED },
      // HOST_ACCESS is on both; COHERENT and GPU_RO on one each.
      { type: A.SET_FLAGS, value: FLAG.HOST_ACCESS },
      { type: A.CLR_FLAGS, value: ~(FLAG.HOST_ACCESS | FLAG.COHERENT | FLAG.GPU_RO) >>> 0 },
      { type: A.GRANULARITY, value: 3 },
      // GPU A: ACCESS in one range, in place in the other: neither bitmap keeps it.
      { type: A.NO_ACCESS, value: GPU_A },
      { type: A.ACCESS_IN_PLACE, value: GPU_B },
    ]);
    // One range alone answers its own values.
    expect(getAttr(h, second, 2, ask).attrs).toEqual([
      { type: A.PREFERRED_LOC, value: GPU_A },
      { type: A.PREFETCH_LOC, value: LOC.UNDEFINED },
      { type: A.SET_FLAGS, value: FLAG.HOST_ACCESS },
      { type: A.CLR_FLAGS, value: ~FLAG.HOST_ACCESS >>> 0 },
      { type: A.GRANULARITY, value: 5 },
      { type: A.ACCESS_IN_PLACE, value: GPU_A },
      { type: A.ACCESS_IN_PLACE, value: GPU_B },
    ]);
  });

  it('spec §2.2 AMDKFD_IOC_SVM, svm_range_get_attr: an interval partly outside every range answers from the ranges it meets, not the defaults', () => {
    const h = new Harness();
    h.setupProcess(APP);
    setAttr(h, VA.svm, 1, [
      { type: 'SET_FLAGS', value: FLAG.GPU_EXEC },
      { type: 'CLR_FLAGS', value: FLAG.COHERENT },
      { type: 'GRANULARITY', value: 12 },
    ]);
    const r = getAttr(h, VA.svm, 3, [{ type: 'SET_FLAGS' }, { type: 'GRANULARITY' }]);
    expect(r.attrs).toEqual([
      { type: A.SET_FLAGS, value: FLAG.HOST_ACCESS | FLAG.GPU_EXEC },
      { type: A.GRANULARITY, value: 12 },
    ]);
  });

  it('spec §2.2 AMDKFD_IOC_SVM, svm_ioctl: an unknown op returns EINVAL unnegated: the ioctl returns 22 and changes nothing', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const r = h.ioctl(APP, 'SVM', { start_addr: VA.svm, size: PAGE, op: 2, attrs: [] });
    expect(r.ret).toBe(-E.EINVAL);
    expect(r.ret).toBeGreaterThan(0);
    expect(h.task(APP).svm_ranges).toHaveLength(0);
  });
});

describe('CHECKPOINT of SVM ranges (kfd_criu_checkpoint_svm)', () => {
  it('spec §5.2.3: each range is saved as svm_range_get_attr answers it: 4 common attributes, then ACCESS / ACCESS_IN_PLACE / NO_ACCESS per pdd by user gpu id', () => {
    const h = new Harness();
    h.setupProcess(APP);
    setAttr(h, VA.svm, 2, [
      { type: 'PREFERRED_LOC', value: GPU_B },
      { type: 'ACCESS_IN_PLACE', value: GPU_B },
      { type: 'CLR_FLAGS', value: FLAG.HOST_ACCESS },
    ]);
    const d = decodeCk(h.checkpoint(APP));
    const svm = d.objects.filter((o) => o.object_type === 2);
    expect(svm).toHaveLength(1);
    expect(svm[0]).toMatchObject({ start_addr: VA.svm / BigInt(PAGE), size: 2n });
    expect((svm[0] as { attrs: Attr[] }).attrs).toEqual([
      { type: A.PREFERRED_LOC, value: GPU_B },
      { type: A.PREFETCH_LOC, value: LOC.UNDEFINED },
      { type: A.SET_FLAGS, value: FLAG.COHERENT },
      { type: A.GRANULARITY, value: SVM_DEFAULT_GRANULARITY },
      { type: A.NO_ACCESS, value: GPU_A },
      { type: A.ACCESS_IN_PLACE, value: GPU_B },
    ]);
  });

  it('spec §5.2.3, §5.2 step 5: a render-node mapping of a compute VM inside an SVM range fails CHECKPOINT with -EADDRINUSE (svm_range_is_valid), before any dma-buf fd is installed', () => {
    const h = new Harness();
    const { drm } = h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, VA.gtt);
    setAttr(h, VA.svm, 2, [{ type: 'ACCESS', value: GPU_A }]);
    // GEM_VA does not look at SVM ranges: the mapping lands inside the range.
    const gem = h.must(h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_CREATE', drm[GPU_A], { bo_size: PAGE, domains: ['GTT'] })).out
      .handle as number;
    h.must(
      h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_VA', drm[GPU_A], {
        handle: gem,
        operation: 'MAP',
        flags: ['PAGE_READABLE'],
        va_address: VA.svm + BigInt(PAGE),
        offset_in_bo: 0,
        map_size: PAGE,
      }),
    );
    const info = h.must(h.processInfo(APP));
    const fdsBefore = Object.keys(h.task(CRIU).fds).length;
    expect(h.checkpointWith(APP, info).ret).toBe(E.EADDRINUSE);
    expect(Object.keys(h.task(CRIU).fds)).toHaveLength(fdsBefore);
    // Without the mapping the same CHECKPOINT succeeds and installs the GTT BO's dma-buf fd.
    h.must(
      h.call(APP, 'DRM_IOCTL_AMDGPU_GEM_VA', drm[GPU_A], {
        handle: gem,
        operation: 'UNMAP',
        va_address: VA.svm + BigInt(PAGE),
        offset_in_bo: 0,
        map_size: PAGE,
      }),
    );
    expect(h.checkpointWith(APP, info).ret).toBe(0);
    expect(Object.keys(h.task(CRIU).fds)).toHaveLength(fdsBefore + 1);
  });
});
