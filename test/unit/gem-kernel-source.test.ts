/**
 * Render-node ioctl details the spec (§8.2) leaves to the kernel source, found by an audit of
 * the handlers against amdgpu_gem.c, amdgpu_vm.c and drm_gem.c (session 10):
 * - amdgpu_gem_va_ioctl's top-of-VM check is `args->va_address + args->map_size > vm_size` in
 *   u64 arithmetic: the sum wraps. UNMAP never looks at map_size again, so an UNMAP with a
 *   map_size that wraps succeeds; MAP fails later, in amdgpu_vm_verify_parameters' overflow
 *   check, and a missing object is found before that (-ENOENT);
 * - drm_file.object_idr has base 1 (idr_init_base): GEM_CHANGE_HANDLE to handle 0 asks
 *   idr_alloc for [0, 1), out of range: -ENOSPC ("idr: fix idr_alloc() returning an ID out of
 *   range").
 */
import { describe, expect, it } from 'vitest';
import { Drm, E, PAGE } from '../conformance/amdgpu-helpers.js';

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
