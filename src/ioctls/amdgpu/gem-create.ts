/**
 * amdgpu GEM ioctls that create a render-node object (amdgpu_gem.c: amdgpu_gem_create_ioctl,
 * amdgpu_gem_userptr_ioctl; spec §8.2): GEM_CREATE and GEM_USERPTR, both ending in
 * amdgpu_gem_object_create and a handle in the calling file.
 */
import { ERRNO } from '../../uapi/errno.js';
import { type DrmKernel, hasUpstreamCriu, registerDrm } from '../drm/dispatch.js';
import { handleCreateAndPut } from '../drm/file.js';
import { flags, u32, u64 } from '../schema.js';
import { createGem, type NewGem, userptrRangeWraps } from './kernel/gem.js';
import { U64 } from './kernel/vm.js';
import {
  AMDGPU_GEM_CREATE as C,
  AMDGPU_GEM_CREATE_PRE_CRIU_MASK,
  AMDGPU_GEM_CREATE_SETTABLE_MASK,
  AMDGPU_GEM_DOMAIN as D,
  AMDGPU_GEM_DOMAIN_MASK,
  AMDGPU_GEM_DOMAIN_NOT_CREATABLE,
  AMDGPU_GEM_USERPTR as U,
} from './uapi.js';

/** The kernel's ALIGN on an unsigned long: wraps past 2^64 (a size of 2^64 - 1 aligns to 0). */
function alignUp(v: bigint, to: bigint): bigint {
  return (((v + to - 1n) / to) * to) % U64;
}

/**
 * amdgpu_bo_create's size and alignment of a user object: GWS and OA count one page per
 * resource and need no alignment, GDS one page per 4-byte unit (size and alignment rounded to
 * 4), every other domain bytes rounded up to a page ("Note that GDS/GWS/OA allocates 1 page per
 * byte/resource"); the shift wraps as an unsigned long does.
 */
function boGeometry(bytes: bigint, alignment: bigint, domains: number, page: bigint): { size: bigint; pages: bigint } {
  const shift = BigInt(Math.log2(Number(page)));
  if (domains & (D.GWS | D.OA)) return { size: (bytes << shift) % U64, pages: alignment };
  if (domains & D.GDS) return { size: (alignUp(bytes, 4n) << shift) % U64, pages: alignUp(alignment, 4n) };
  return { size: alignUp(bytes, page), pages: alignUp(alignment, page) / page };
}

/**
 * What GEM_CREATE and GEM_USERPTR end with: amdgpu_gem_object_create of a render-node
 * object on the file's GPU (no KFD alloc flags, not imported), drm_gem_handle_create, then
 * drm_gem_object_put: the handle holds the only reference, so without a handle the object
 * goes. Returns the handle or the negative errno.
 */
function createWithHandle(
  { w, file }: DrmKernel,
  g: Pick<NewGem, 'size' | 'preferred_domains' | 'flags' | 'page_alignment' | 'userptr'>,
): number {
  const gem = createGem(w, { gpu_id: file.gpu_id, ...g, alloc_flags: 0, import_attach: null, kfd_vram: 0n });
  return handleCreateAndPut(w, file.id, gem);
}

interface CreateArgs {
  bo_size: bigint;
  alignment: bigint;
  domains: number;
  domain_flags: number;
  handle: number;
}

// amdgpu_gem_create_ioctl (amdgpu_gem.c), spec §8.2
export const gemCreate = registerDrm<CreateArgs>({
  name: 'DRM_IOCTL_AMDGPU_GEM_CREATE',
  models: 'amdgpu_gem_create_ioctl (amdgpu_gem.c), spec §8.2',
  checks: [
    'domain_flags outside AMDGPU_GEM_CREATE_SETTABLE_MASK → -EINVAL (on 6.17 and the proposal’s kernel, before 0317e0e224bc, also VRAM_WIPE_ON_RELEASE, COHERENT, UNCACHED and EXT_COHERENT)',
    'domains outside AMDGPU_GEM_DOMAIN_MASK → -EINVAL',
    'ENCRYPTED without TMZ (gpucr’s GPUs have TMZ off) → -EINVAL',
    'flags |= VRAM_CLEARED ("always clear VRAM", any domain)',
    'DOORBELL or MMIO_REMAP domain (not creatable from user space) → -EINVAL',
    'GDS, GWS or OA with VM_ALWAYS_VALID → -EINVAL (these get NO_CPU_ACCESS)',
    'amdgpu_bo_create: GWS/OA sizes in pages per resource, GDS in pages per 4 units, others page aligned (wrapping at 2^64); a size of 0 pages → -ENOSPC (drm_vma_offset_add); a VRAM-only request that does not fit is retried with GTT (never fails in the model)',
    'drm_gem_handle_create: the lowest free handle ≥ 1; the object’s bo_va is added to the file’s VM',
  ],
  args: {
    bo_size: u64,
    alignment: u64,
    domains: flags(D, 'AMDGPU_GEM_DOMAIN_'),
    domain_flags: flags(C, 'AMDGPU_GEM_CREATE_'),
    handle: u32,
  },
  out: ['handle'],
  run(k, a) {
    const { w } = k;
    let fl = a.domain_flags;
    if (fl & ~(hasUpstreamCriu(w) ? AMDGPU_GEM_CREATE_SETTABLE_MASK : AMDGPU_GEM_CREATE_PRE_CRIU_MASK))
      return -ERRNO.EINVAL;
    if (a.domains & ~AMDGPU_GEM_DOMAIN_MASK) return -ERRNO.EINVAL;
    if (fl & C.ENCRYPTED) return -ERRNO.EINVAL;
    // "always clear VRAM" (drm/amdgpu: always allocate cleared VRAM for GEM allocations, 6.12):
    // every object of GEM_CREATE has the flag, whatever its domain, and GET_GEM_CREATE_INFO and
    // LIST_HANDLES report it.
    fl |= C.VRAM_CLEARED;
    if (a.domains & AMDGPU_GEM_DOMAIN_NOT_CREATABLE) return -ERRNO.EINVAL;
    if (a.domains & (D.GDS | D.GWS | D.OA)) {
      if (fl & C.VM_ALWAYS_VALID) return -ERRNO.EINVAL;
      fl |= C.NO_CPU_ACCESS;
    }
    const { size, pages } = boGeometry(a.bo_size, a.alignment, a.domains, BigInt(w.topology.page_size));
    // ttm_bo_init_reserved → drm_vma_offset_add(0 pages) → drm_mm_insert_node_in_range: -ENOSPC
    // (after the VRAM → VRAM|GTT retry, which fails the same way)
    if (size === 0n) return -ERRNO.ENOSPC;
    const handle = createWithHandle(k, {
      size,
      preferred_domains: a.domains,
      flags: fl >>> 0,
      page_alignment: Number(pages),
      userptr: false,
    });
    if (handle < 0) return handle;
    a.handle = handle;
    return 0;
  },
});

interface UserptrArgs {
  addr: bigint;
  size: bigint;
  flags: number;
  handle: number;
}

// amdgpu_gem_userptr_ioctl (amdgpu_gem.c), spec §8.2
export const gemUserptr = registerDrm<UserptrArgs>({
  name: 'DRM_IOCTL_AMDGPU_GEM_USERPTR',
  models: 'amdgpu_gem_userptr_ioctl (amdgpu_gem.c), spec §8.2',
  checks: [
    'addr or size not page aligned → -EINVAL',
    'flags other than READONLY | ANONONLY | VALIDATE | REGISTER → -EINVAL',
    'neither READONLY nor REGISTER (a writable userptr needs an MMU notifier) → -EACCES',
    'amdgpu_gem_object_create of a CPU-domain object: size 0 → -ENOSPC (drm_vma_offset_add of 0 pages)',
    'amdgpu_mn_register (mmu_interval_notifier_insert): addr + size wraps past 2^64 → -EOVERFLOW, the object released',
    'preferred and allowed domains GTT; the pages are not modelled (VALIDATE always succeeds)',
    'drm_gem_handle_create: the lowest free handle',
  ],
  args: { addr: u64, size: u64, flags: flags(U, 'AMDGPU_GEM_USERPTR_'), handle: u32 },
  out: ['handle'],
  run(k, a) {
    const page = BigInt(k.w.topology.page_size);
    if ((a.addr | a.size) % page !== 0n) return -ERRNO.EINVAL;
    if (a.flags & ~(U.READONLY | U.ANONONLY | U.VALIDATE | U.REGISTER)) return -ERRNO.EINVAL;
    if (!(a.flags & U.READONLY) && !(a.flags & U.REGISTER)) return -ERRNO.EACCES;
    if (a.size === 0n) return -ERRNO.ENOSPC;
    // amdgpu_hmm_register → mmu_interval_notifier_insert: check_add_overflow(start, length - 1)
    // → -EOVERFLOW; the object made just before is put (release_object): no handle, nothing left
    if (userptrRangeWraps(a.addr, a.size)) return -ERRNO.EOVERFLOW;
    const handle = createWithHandle(k, {
      size: a.size,
      preferred_domains: D.GTT,
      flags: 0,
      page_alignment: 0,
      userptr: true,
    });
    if (handle < 0) return handle;
    a.handle = handle;
    return 0;
  },
});
