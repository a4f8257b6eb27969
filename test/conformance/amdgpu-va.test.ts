/**
 * GEM_VA conformance (spec §1, §8.2 "Model note"): argument checks, the overlap rule of
 * amdgpu_vm_bo_map (render-node and KFD mappings share the compute VM), UNMAP, and the
 * splitting rules of CLEAR and REPLACE (amdgpu_vm_bo_clear_mappings / _replace_map).
 */
import { describe, expect, it } from 'vitest';
import { APP, Drm, E, GPU_A, KFD, PAGE, RA, RA2 } from './amdgpu-helpers.js';

type Entry = { addr: bigint; size: bigint; offset: bigint; flags: bigint };
const entries = (h: Drm, handle: number, fd = RA) =>
  ((h.must(h.mappings(handle, 16, fd)).out.vm_entries as Entry[] | undefined) ?? [])
    .map((e) => ({ addr: e.addr, size: e.size, offset: e.offset }))
    .sort((a, b) => (a.addr < b.addr ? -1 : 1));

const VA = 0x200000000;

describe('spec §8.2: GEM_VA argument checks', () => {
  it('spec §8.2: a va_address in the reserved bottom 64 KiB → -EINVAL', () => {
    const h = new Drm();
    expect(h.va(h.create(), 0x8000).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: a va_address in the GMC hole → -EINVAL; one beyond the top of the VM → -EINVAL', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.va(b, '0x800000000000').ret).toBe(E.EINVAL);
    expect(h.va(b, '0xfffffffff000').ret).toBe(E.EINVAL);
  });

  it('spec §8.2: flags outside the VM page flags → -EINVAL; PRT with other page flags → -EINVAL', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.va(b, VA, PAGE, { flags: 0x800 }).ret).toBe(E.EINVAL);
    expect(h.va(b, VA, PAGE, { flags: ['PAGE_PRT', 'PAGE_READABLE'] }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: an operation other than MAP, UNMAP, CLEAR, REPLACE → -EINVAL', () => {
    const h = new Drm();
    expect(h.va(h.create(), VA, PAGE, { operation: 5 }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: no object at the handle → -ENOENT (a handle of another file is not one of this file)', () => {
    const h = new Drm();
    const other = h.create({}, RA2);
    expect(h.va(77, VA).ret).toBe(E.ENOENT);
    expect(h.va(other + 5, VA).ret).toBe(E.ENOENT);
  });

  it('spec §8.2: misaligned va, offset or size, size 0, or a range beyond the object → -EINVAL', () => {
    const h = new Drm();
    const b = h.create({ bo_size: 2 * PAGE });
    expect(h.va(b, VA + 0x10).ret).toBe(E.EINVAL);
    expect(h.va(b, VA, PAGE, { offset_in_bo: 100 }).ret).toBe(E.EINVAL);
    expect(h.va(b, VA, 100).ret).toBe(E.EINVAL);
    expect(h.va(b, VA, 0).ret).toBe(E.EINVAL);
    expect(h.va(b, VA, 2 * PAGE, { offset_in_bo: PAGE }).ret).toBe(E.EINVAL);
    expect(h.va(b, VA, 2 * PAGE, { offset_in_bo: 0 }).ret).toBe(0);
  });

  it('spec §8.2: a syncobj handle (gpucr has no syncobjs) → -ENOENT', () => {
    const h = new Drm();
    expect(h.va(h.create(), VA, PAGE, { vm_timeline_syncobj_out: 3 }).ret).toBe(E.ENOENT);
  });

  it('spec §8.2 (amdgpu_gem_add_input_fence, before the bo_va lookup): input fences whose array pointer is NULL → -EFAULT (memdup_user); any other array names no syncobj → -ENOENT; nothing is mapped', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.va(b, VA, PAGE, { num_syncobj_handles: 1, input_fence_syncobj_handles: 0 }).ret).toBe(E.EFAULT);
    expect(h.va(b, VA, PAGE, { num_syncobj_handles: 2, input_fence_syncobj_handles: '0x7ffd0000' }).ret).toBe(E.ENOENT);
    // CLEAR looks no object up, and reads the fences all the same
    const clear = { operation: 'CLEAR', num_syncobj_handles: 1, input_fence_syncobj_handles: 0 };
    expect(h.va(0, VA, PAGE, clear).ret).toBe(E.EFAULT);
    expect(h.mappings(b).out.num_entries).toBe(0);
  });
});

describe('spec §8.2 "Model note": MAP and UNMAP', () => {
  it('spec §8.2: a range overlapping any mapping of the VM → -EINVAL (amdgpu_vm_bo_map "conflict")', () => {
    const h = new Drm();
    const a = h.create({ bo_size: 2 * PAGE });
    const b = h.create({ bo_size: 2 * PAGE });
    h.must(h.va(a, VA, 2 * PAGE));
    expect(h.va(b, VA + PAGE, 2 * PAGE).ret).toBe(E.EINVAL);
    expect(h.va(a, VA, PAGE).ret).toBe(E.EINVAL);
    expect(h.va(b, VA + 2 * PAGE, 2 * PAGE).ret).toBe(0);
    // Another file is another VM: the same range is free there.
    expect(h.va(h.create({}, RA2), VA, PAGE, {}, RA2).ret).toBe(0);
  });

  it('spec §8.2: UNMAP needs a mapping of this object starting at va_address → else -ENOENT', () => {
    const h = new Drm();
    const a = h.create({ bo_size: 2 * PAGE });
    const b = h.create();
    h.must(h.va(a, VA, 2 * PAGE));
    const unmap = (handle: number, va: number) =>
      h.drm('AMDGPU_GEM_VA', { handle, operation: 'UNMAP', va_address: va, map_size: PAGE });
    expect(unmap(a, VA + PAGE).ret).toBe(E.ENOENT);
    expect(unmap(b, VA).ret).toBe(E.ENOENT);
    expect(unmap(a, VA).ret).toBe(0);
    expect(entries(h, a)).toEqual([]);
  });
});

describe('spec §1, §7.2: the compute VM is one VM for KFD and render-node mappings', () => {
  it('spec §1: GEM_VA over a KFD BO mapped by MAP_MEMORY_TO_GPU → -EINVAL, and KFD MAP over a GEM_VA mapping → -EINVAL', () => {
    const h = new Drm();
    const k = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 4 * PAGE, '0x7f0000000000');
    h.must(h.map(APP, k, [GPU_A]));
    expect(h.va(h.create(), '0x7f0000001000').ret).toBe(E.EINVAL);
    const b = h.create({ bo_size: 2 * PAGE });
    h.must(h.va(b, '0x7f0000100000', 2 * PAGE));
    const k2 = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, '0x7f0000101000');
    expect(h.map(APP, k2, [GPU_A]).ret).toBe(E.EINVAL);
    // A render node that is not the compute VM does not conflict.
    expect(h.va(h.create({}, RA2), '0x7f0000001000', PAGE, {}, RA2).ret).toBe(0);
  });

  it('spec §1, §8.2: a KFD BO imported into the render node shares its bo_va: GET_MAPPING_INFO lists the KFD mapping [DERIVED: kfd_mem_attach reuses amdgpu_vm_bo_find]', () => {
    const h = new Drm();
    const k = h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 2 * PAGE, '0x7f0000200000');
    h.must(h.map(APP, k, [GPU_A]));
    const fd = h.must(h.ioctl(APP, 'EXPORT_DMABUF', { handle: k, flags: 0 }, KFD)).out.dmabuf_fd;
    const r = h.must(h.drm('PRIME_FD_TO_HANDLE', { fd })).out.handle as number;
    expect(entries(h, r)).toEqual([{ addr: 0x7f0000200000n, size: 8192n, offset: 0n }]);
    // Unmapping on the KFD side removes it from what the render node sees.
    h.must(h.ioctl(APP, 'UNMAP_MEMORY_FROM_GPU', { handle: k, device_ids: [GPU_A] }, KFD));
    expect(entries(h, r)).toEqual([]);
  });
});

describe('spec §8.2 "Model note": CLEAR and REPLACE split mappings', () => {
  it('spec §8.2: CLEAR with size 0 or a misaligned range → -EINVAL', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_VA', { operation: 'CLEAR', va_address: VA, map_size: 0 }).ret).toBe(E.EINVAL);
    expect(h.drm('AMDGPU_GEM_VA', { operation: 'CLEAR', va_address: VA + 1, map_size: PAGE }).ret).toBe(E.EINVAL);
  });

  it('spec §8.2: CLEAR in the middle of a mapping leaves the part before and the part after, the latter with its offset moved', () => {
    const h = new Drm();
    const b = h.create({ bo_size: 8 * PAGE });
    h.must(h.va(b, VA, 6 * PAGE, { offset_in_bo: PAGE }));
    h.must(h.drm('AMDGPU_GEM_VA', { operation: 'CLEAR', va_address: VA + 2 * PAGE, map_size: 2 * PAGE }));
    expect(entries(h, b)).toEqual([
      { addr: BigInt(VA), size: 2n * 4096n, offset: 4096n },
      { addr: BigInt(VA + 4 * PAGE), size: 2n * 4096n, offset: 5n * 4096n },
    ]);
  });

  it('spec §8.2: CLEAR spans mappings of several objects: covered ones go, the ends are cut', () => {
    const h = new Drm();
    const a = h.create({ bo_size: 4 * PAGE });
    const b = h.create({ bo_size: 4 * PAGE });
    const c = h.create({ bo_size: 4 * PAGE });
    h.must(h.va(a, VA, 4 * PAGE));
    h.must(h.va(b, VA + 4 * PAGE, 2 * PAGE));
    h.must(h.va(c, VA + 6 * PAGE, 4 * PAGE));
    h.must(h.drm('AMDGPU_GEM_VA', { operation: 'CLEAR', va_address: VA + 3 * PAGE, map_size: 4 * PAGE }));
    expect(entries(h, a)).toEqual([{ addr: BigInt(VA), size: 3n * 4096n, offset: 0n }]);
    expect(entries(h, b)).toEqual([]);
    expect(entries(h, c)).toEqual([{ addr: BigInt(VA + 7 * PAGE), size: 3n * 4096n, offset: 4096n }]);
  });

  it('spec §8.2: REPLACE maps over whatever is in the range (no conflict), cutting it first', () => {
    const h = new Drm();
    const a = h.create({ bo_size: 4 * PAGE });
    const b = h.create({ bo_size: 4 * PAGE });
    h.must(h.va(a, VA, 4 * PAGE));
    expect(h.va(b, VA + PAGE, PAGE).ret).toBe(E.EINVAL);
    h.must(h.va(b, VA + PAGE, PAGE, { operation: 'REPLACE', offset_in_bo: 2 * PAGE }));
    expect(entries(h, a)).toEqual([
      { addr: BigInt(VA), size: 4096n, offset: 0n },
      { addr: BigInt(VA + 2 * PAGE), size: 2n * 4096n, offset: 2n * 4096n },
    ]);
    expect(entries(h, b)).toEqual([{ addr: BigInt(VA + PAGE), size: 4096n, offset: 2n * 4096n }]);
  });

  it('spec §8.2 "Model note": the parts a CLEAR leaves are pending (invalids) until the next page-table update', () => {
    const h = new Drm();
    const a = h.create({ bo_size: 4 * PAGE });
    h.must(h.va(a, VA, 4 * PAGE));
    h.must(h.drm('AMDGPU_GEM_VA', { operation: 'CLEAR', va_address: VA + PAGE, map_size: PAGE }));
    const bv = h.w.drm![h.w.tasks[APP]!.fds[RA]!]!.vm.bo_vas[h.gem(a)!]!;
    expect(h.w.objects[bv]!.value).toEqual({ live: 'pending' });
    h.must(h.va(a, VA + 3 * PAGE + 0x100000, PAGE));
    expect(h.w.objects[bv]!.value).toEqual({ live: 'valid' });
  });
});

describe('spec §8.2: PRT mappings', () => {
  it('spec §8.2: a PRT MAP needs no object and occupies the range', () => {
    const h = new Drm();
    h.must(h.drm('AMDGPU_GEM_VA', { operation: 'MAP', flags: ['PAGE_PRT'], va_address: VA, map_size: 2 * PAGE }));
    expect(h.va(h.create(), VA + PAGE).ret).toBe(E.EINVAL);
  });
});
