/**
 * Render-node ioctl details the spec (§8.2) leaves to the kernel source, found by an audit of
 * the handlers against amdgpu_gem.c, amdgpu_vm.c and drm_gem.c (session 10):
 * - amdgpu_gem_va_ioctl's top-of-VM check is `args->va_address + args->map_size > vm_size` in
 *   u64 arithmetic: the sum wraps. UNMAP never looks at map_size again, so an UNMAP with a
 *   map_size that wraps succeeds; MAP fails later, in amdgpu_vm_verify_parameters' overflow
 *   check, and a missing object is found before that (-ENOENT);
 * - drm_file.object_idr has base 1 (idr_init_base): GEM_CHANGE_HANDLE to handle 0 asks
 *   idr_alloc for [0, 1), out of range: -ENOSPC ("idr: fix idr_alloc() returning an ID out of
 *   range");
 * - drm_gem_change_handle_ioctl looks the old handle up right after its INT_MAX check (53096728b891
 *   and every fix since). Spec §8.2 gives "attempt 4"'s order (handle == new_handle → 0, then
 *   the new handle reserved, then the lookup), which no enabled kernel runs: a spec error, the
 *   model follows the kernel (docs/conformance.md "Spec errors found" 2).
 */
import { describe, expect, it } from 'vitest';
import { Drm, E, GPU_A, KFD, PAGE } from '../conformance/amdgpu-helpers.js';

const U64 = 1n << 64n;

describe('GEM_VA: the top-of-VM check is a u64 sum', () => {
  it('spec §8.2 GEM_VA (amdgpu_gem_va_ioctl): UNMAP with a map_size that wraps past 2^64 succeeds; one that does not wrap but ends beyond the VM → -EINVAL', () => {
    const h = new Drm();
    const b = h.create();
    const va = 0x400000000n;
    h.must(h.va(b, va));
    const unmap = (map_size: bigint) =>
      h.drm('AMDGPU_GEM_VA', { handle: b, operation: 'UNMAP', va_address: va, offset_in_bo: 0, map_size });
    expect(unmap(1n << 60n).ret).toBe(E.EINVAL);
    // va + map_size = 2^64 + PAGE → PAGE: below the top.
    expect(unmap(U64 - va + BigInt(PAGE)).ret).toBe(0);
    expect(h.mappings(b).out.num_entries).toBe(0);
  });

  it('spec §8.2 GEM_VA: MAP with a wrapping map_size passes the top check, then fails verify_parameters (-EINVAL), or -ENOENT first without an object', () => {
    const h = new Drm();
    const b = h.create();
    const size = U64 - 0x400000000n + BigInt(PAGE);
    expect(h.va(b, 0x400000000n, size).ret).toBe(E.EINVAL);
    expect(h.va(77, 0x400000000n, size).ret).toBe(E.ENOENT);
  });
});

describe('GEM_CHANGE_HANDLE to handle 0', () => {
  it('spec §8.2 GEM_CHANGE_HANDLE (idr_alloc(new_handle, new_handle + 1) on an IDR based at 1): new_handle 0 → -ENOSPC; the old handle stays', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: b, new_handle: 0 }).ret).toBe(E.ENOSPC);
    expect(h.drm('AMDGPU_GEM_OP', { handle: b, op: 'GET_GEM_CREATE_INFO' }).ret).toBe(0);
    expect(h.drm('AMDGPU_GEM_OP', { handle: 0, op: 'GET_GEM_CREATE_INFO' }).ret).toBe(E.ENOENT);
  });
});

describe('GEM_CHANGE_HANDLE looks the old handle up first (spec error: §8.2 gives attempt 4’s order)', () => {
  it('spec §8.2 GEM_CHANGE_HANDLE (drm_gem_object_lookup after the INT_MAX check): an unknown old handle → -ENOENT, also when it equals new_handle and when new_handle is taken', () => {
    const h = new Drm();
    const b = h.create();
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: 7, new_handle: 7 }).ret).toBe(E.ENOENT);
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: 7, new_handle: b }).ret).toBe(E.ENOENT);
    // The INT_MAX check still comes first; a known handle to itself is 0.
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: 7, new_handle: 0x80000000 }).ret).toBe(E.EINVAL);
    expect(h.drm('GEM_CHANGE_HANDLE', { handle: b, new_handle: b }).ret).toBe(0);
    expect(h.gem(7)).toBeUndefined();
  });
});

/** The sizes and handles LIST_HANDLES reports on GPU A's render node. */
function listed(h: Drm): { gem_handle: number; size: bigint }[] {
  const out = h.must(h.drm('AMDGPU_GEM_LIST_HANDLES', { num_entries: 8 })).out;
  expect(out.num_entries).toBe(((out.entries as unknown[] | undefined) ?? []).length);
  return (out.entries as { gem_handle: number; size: bigint }[] | undefined) ?? [];
}

describe('object sizes as amdgpu_bo_create computes them (session 11)', () => {
  it('spec §8.2 GEM_CREATE (amdgpu_bo_create → ttm_bo_init_reserved → drm_vma_offset_add): a size of 0 pages → -ENOSPC, and no handle is made', () => {
    const h = new Drm();
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: 0, domains: ['GTT'] }).ret).toBe(E.ENOSPC);
    // VRAM → VRAM|GTT retry fails the same way
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: 0, domains: ['VRAM'] }).ret).toBe(E.ENOSPC);
    // ALIGN(size, PAGE_SIZE) on an unsigned long: 2^64 - 1 wraps to 0
    expect(h.drm('AMDGPU_GEM_CREATE', { bo_size: U64 - 1n, domains: ['GTT'] }).ret).toBe(E.ENOSPC);
    expect(listed(h)).toEqual([]);
    expect(h.create()).toBe(1);
  });

  it('spec §8.2 GEM_CREATE (amdgpu_bo_create: "GDS/GWS/OA allocates 1 page per byte/resource"): a GWS size counts pages, a GDS size is rounded to 4 first', () => {
    const h = new Drm();
    const gws = h.create({ bo_size: 3, domains: ['GWS'] });
    const gds = h.create({ bo_size: 5, domains: ['GDS'] });
    const gtt = h.create({ bo_size: 5, domains: ['GTT'] });
    const size = new Map(listed(h).map((e) => [e.gem_handle, e.size]));
    expect(size.get(gws)).toBe(3n * BigInt(PAGE));
    expect(size.get(gds)).toBe(8n * BigInt(PAGE));
    expect(size.get(gtt)).toBe(BigInt(PAGE));
  });

  it('spec §8.2 GEM_USERPTR (amdgpu_gem_object_create, then amdgpu_hmm_register → mmu_interval_notifier_insert): size 0 → -ENOSPC; a range past 2^64 → -EOVERFLOW with no handle; one ending at 2^64 is fine', () => {
    const h = new Drm();
    const userptr = (addr: bigint, size: bigint) => h.drm('AMDGPU_GEM_USERPTR', { addr, size, flags: ['READONLY'] });
    const top = U64 - BigInt(PAGE);
    expect(userptr(0x7ffd00000000n, 0n).ret).toBe(E.ENOSPC);
    expect(userptr(top, 2n * BigInt(PAGE)).ret).toBe(E.EOVERFLOW);
    expect(listed(h)).toEqual([]);
    const r = userptr(top, BigInt(PAGE));
    expect(r.ret).toBe(0);
    expect(r.out.handle).toBe(1);
  });

  it('spec §7.2 ALLOC (amdgpu_amdkfd_gpuvm_alloc_memory_of_gpu → init_user_pages → amdgpu_hmm_register): a USERPTR whose CPU range wraps past 2^64 → -EOVERFLOW, leaving no BO', () => {
    const h = new Drm();
    const alloc = (mmap_offset: bigint, va: bigint) =>
      h.ioctl(
        100,
        'ALLOC_MEMORY_OF_GPU',
        { va_addr: va, size: 2 * PAGE, gpu_id: GPU_A, flags: ['USERPTR'], mmap_offset },
        KFD,
      );
    expect(alloc(U64 - BigInt(PAGE), 0x7f0000000000n).ret).toBe(E.EOVERFLOW);
    const ok = alloc(0x7ffd00000000n, 0x7f0000000000n);
    expect(ok.ret).toBe(0);
    // the failed call took no idr slot: the BO that follows gets idr handle 0
    expect(Number((ok.out.handle as bigint) & 0xffffffffn)).toBe(0);
  });
});
