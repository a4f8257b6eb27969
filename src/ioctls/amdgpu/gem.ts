/**
 * amdgpu GEM ioctls of a render node (amdgpu_gem.c; spec §8.2): creating objects
 * (GEM_CREATE, GEM_USERPTR), their mmap offset (GEM_MMAP), their properties and mappings
 * (GEM_OP) and the listing of a file's handles (GEM_LIST_HANDLES).
 */
import { ERRNO } from '../../uapi/errno.js';
import { type DrmKernel, registerDrm, hasUpstreamCriu } from '../drm/dispatch.js';
import { handleCreateAndPut, handleLookup } from '../drm/file.js';
import { arrayOf, enumOf, flags, nullable, struct, u32, u64 } from '../schema.js';
import { createGem, domainName, gemBo, gemOf, gemSend, type NewGem } from './kernel/gem.js';
import { boVaFind, boVaMappings } from './kernel/vm.js';
import {
  AMDGPU_GEM_CREATE as C,
  AMDGPU_GEM_CREATE_SETTABLE_MASK,
  AMDGPU_GEM_DOMAIN as D,
  AMDGPU_GEM_DOMAIN_MASK,
  AMDGPU_GEM_DOMAIN_NOT_CREATABLE,
  AMDGPU_GEM_LIST_HANDLES_FLAG,
  AMDGPU_GEM_OP,
  AMDGPU_GEM_USERPTR as U,
  AMDGPU_GPU_PAGE_SIZE,
} from './uapi.js';

const INT_MAX = 0x7fffffff;
/** sizeof(struct drm_amdgpu_gem_vm_entry): addr, size, offset, flags (four __u64). */
const VM_ENTRY_SIZE = 32;

function alignUp(v: bigint, to: bigint): bigint {
  return ((v + to - 1n) / to) * to;
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
    'domain_flags outside AMDGPU_GEM_CREATE_SETTABLE_MASK → -EINVAL',
    'domains outside AMDGPU_GEM_DOMAIN_MASK → -EINVAL',
    'ENCRYPTED without TMZ (gpucr’s GPUs have TMZ off) → -EINVAL',
    'DOORBELL or MMIO_REMAP domain (not creatable from user space) → -EINVAL',
    'GDS, GWS or OA with VM_ALWAYS_VALID → -EINVAL (these get NO_CPU_ACCESS)',
    'amdgpu_gem_object_create: size page aligned, alignment in pages; a VRAM-only request that does not fit is retried with GTT (never fails in the model)',
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
    if (fl & ~AMDGPU_GEM_CREATE_SETTABLE_MASK) return -ERRNO.EINVAL;
    if (a.domains & ~AMDGPU_GEM_DOMAIN_MASK) return -ERRNO.EINVAL;
    if (fl & C.ENCRYPTED) return -ERRNO.EINVAL;
    if (a.domains & AMDGPU_GEM_DOMAIN_NOT_CREATABLE) return -ERRNO.EINVAL;
    if (a.domains & (D.GDS | D.GWS | D.OA)) {
      if (fl & C.VM_ALWAYS_VALID) return -ERRNO.EINVAL;
      fl |= C.NO_CPU_ACCESS;
    }
    const page = BigInt(w.topology.page_size);
    const handle = createWithHandle(k, {
      size: alignUp(a.bo_size, page),
      preferred_domains: a.domains,
      flags: fl >>> 0,
      page_alignment: Number(alignUp(a.alignment, page) / page),
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
    'a CPU-domain object, then preferred and allowed domains GTT; the pages are not modelled (VALIDATE always succeeds)',
    'drm_gem_handle_create: the lowest free handle',
  ],
  args: { addr: u64, size: u64, flags: flags(U, 'AMDGPU_GEM_USERPTR_'), handle: u32 },
  out: ['handle'],
  run(k, a) {
    const page = BigInt(k.w.topology.page_size);
    if ((a.addr | a.size) % page !== 0n) return -ERRNO.EINVAL;
    if (a.flags & ~(U.READONLY | U.ANONONLY | U.VALIDATE | U.REGISTER)) return -ERRNO.EINVAL;
    if (!(a.flags & U.READONLY) && !(a.flags & U.REGISTER)) return -ERRNO.EACCES;
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

// amdgpu_gem_mmap_ioctl → amdgpu_mode_dumb_mmap (amdgpu_gem.c), spec §8.2, §9.8
export const gemMmap = registerDrm<{ handle: number; addr_ptr: bigint }>({
  name: 'DRM_IOCTL_AMDGPU_GEM_MMAP',
  models: 'amdgpu_gem_mmap_ioctl → amdgpu_mode_dumb_mmap (amdgpu_gem.c), spec §8.2',
  checks: [
    'no object at the handle → -ENOENT',
    'a userptr object or one created with NO_CPU_ACCESS → -EPERM',
    'addr_ptr = the object’s fake mmap offset (amdgpu_bo_mmap_offset)',
  ],
  args: { handle: u32, addr_ptr: u64 },
  out: ['addr_ptr'],
  run({ w, file }, a) {
    const gem = handleLookup(w, file.id, a.handle);
    if (gem === undefined) return -ERRNO.ENOENT;
    const c = gemBo(w, gem);
    if (c.userptr || gemOf(w, gem).flags & C.NO_CPU_ACCESS) return -ERRNO.EPERM;
    gemSend(w, gem, { type: 'MMAP' });
    a.addr_ptr = gemOf(w, gem).mmap_offset;
    return 0;
  },
});

interface VmEntry {
  addr: bigint;
  size: bigint;
  offset: bigint;
  flags: bigint;
}

interface OpArgs {
  handle: number;
  op: number;
  /** SET_PLACEMENT: the domains; otherwise the user pointer the data goes to (inline as create_info / vm_entries). */
  value: bigint;
  num_entries: number;
  padding: number;
  create_info: { bo_size: bigint; alignment: bigint; domains: bigint; domain_flags: bigint } | null;
  vm_entries: VmEntry[] | null;
}

// amdgpu_gem_op_ioctl (amdgpu_gem.c, 6.18 + the 2026 GET_MAPPING_INFO fixes), spec §8.2
export const gemOp = registerDrm<OpArgs>({
  name: 'DRM_IOCTL_AMDGPU_GEM_OP',
  models: 'amdgpu_gem_op_ioctl (amdgpu_gem.c), spec §8.2',
  checks: [
    'padding ≠ 0 → -EINVAL',
    'no object at the handle → -ENOENT',
    'GET_GEM_CREATE_INFO: create_info = {bo_size, alignment in bytes, domains = preferred, domain_flags = bo->flags}',
    'SET_PLACEMENT: an import object asked for VRAM → -EINVAL; a userptr object → -EPERM; preferred domains = value & (VRAM | GTT | CPU)',
    'GET_MAPPING_INFO (6.18; not on 6.17 or the proposal’s kernel → -EINVAL): num_entries × 32 > INT_MAX → -EINVAL; vm_entries = the bo_va’s valids then invalids, copied only if 0 < count ≤ num_entries; num_entries = count always',
    'any other op → -EINVAL',
  ],
  args: { handle: u32, op: enumOf(AMDGPU_GEM_OP, 'AMDGPU_GEM_OP_'), value: u64, num_entries: u32, padding: u32 },
  out: ['num_entries', 'create_info', 'vm_entries'],
  run({ w, file }, a) {
    if (a.padding !== 0) return -ERRNO.EINVAL;
    const gem = handleLookup(w, file.id, a.handle);
    if (gem === undefined) return -ERRNO.ENOENT;
    const g = gemOf(w, gem);
    const c = gemBo(w, gem);
    switch (a.op) {
      case AMDGPU_GEM_OP.GET_GEM_CREATE_INFO:
        a.create_info = {
          bo_size: g.size,
          alignment: BigInt(g.page_alignment) * BigInt(w.topology.page_size),
          domains: BigInt(g.preferred_domains),
          domain_flags: BigInt(g.flags),
        };
        return 0;
      case AMDGPU_GEM_OP.SET_PLACEMENT: {
        if (c.import_attach !== null && a.value & BigInt(D.VRAM)) return -ERRNO.EINVAL;
        if (c.userptr) return -ERRNO.EPERM;
        gemSend(w, gem, { type: 'SET_PLACEMENT' });
        g.preferred_domains = Number(a.value & BigInt(D.VRAM | D.GTT | D.CPU));
        g.domain = domainName(g.preferred_domains);
        return 0;
      }
      case AMDGPU_GEM_OP.GET_MAPPING_INFO: {
        if (!hasUpstreamCriu(w)) return -ERRNO.EINVAL;
        if (a.num_entries * VM_ENTRY_SIZE > INT_MAX) return -ERRNO.EINVAL;
        const bv = boVaFind(w, file.id, gem);
        const all = bv === undefined ? [] : boVaMappings(w, bv);
        if (all.length > 0 && all.length <= a.num_entries)
          a.vm_entries = all.map((m) => ({
            addr: m.start * AMDGPU_GPU_PAGE_SIZE,
            size: (m.last - m.start + 1n) * AMDGPU_GPU_PAGE_SIZE,
            offset: m.offset,
            flags: BigInt(m.flags),
          }));
        a.num_entries = all.length;
        return 0;
      }
      default:
        return -ERRNO.EINVAL;
    }
  },
});

/** One drm_amdgpu_gem_list_handles_entry: what GEM_LIST_HANDLES reports of a handle. */
export interface GemListHandlesEntry {
  gem_handle: number;
  flags: number;
  size: bigint;
  preferred_domains: bigint;
  alloc_flags: bigint;
  alignment: bigint;
}

interface ListArgs {
  num_entries: number;
  padding: number;
  entries: GemListHandlesEntry[] | null;
}

// amdgpu_gem_list_handles_ioctl (amdgpu_gem.c, 6.18), spec §8.2, §9.8
export const gemListHandles = registerDrm<ListArgs>({
  name: 'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES',
  models: 'amdgpu_gem_list_handles_ioctl (amdgpu_gem.c, 6.18), spec §8.2',
  checks: [
    'not on kernel 6.17 or the proposal’s kernel (no such ioctl) → -EINVAL',
    'num_entries < the number of handles → 0 with num_entries = that number, nothing copied (retry with a bigger array)',
    'no handles → 0 with num_entries = 0',
    'entries, in handle order: gem_handle, flags (IS_IMPORT if the object imports a dma-buf), size, preferred_domains, alloc_flags = bo->flags & AMDGPU_GEM_CREATE_SETTABLE_MASK, alignment (pages); num_entries = the count',
  ],
  args: {
    num_entries: u32,
    padding: u32,
    entries: nullable(
      arrayOf(
        struct({
          gem_handle: u32,
          flags: flags(AMDGPU_GEM_LIST_HANDLES_FLAG, 'AMDGPU_GEM_LIST_HANDLES_FLAG_'),
          size: u64,
          preferred_domains: u64,
          alloc_flags: u64,
          alignment: u64,
        }),
      ),
    ),
  },
  out: ['num_entries', 'entries'],
  run({ w, file }, a) {
    a.entries = null;
    const idr = w.drm?.[file.id]?.object_idr ?? {};
    const handles = Object.keys(idr)
      .map(Number)
      .sort((x, y) => x - y);
    if (a.num_entries < handles.length) {
      a.num_entries = handles.length;
      return 0;
    }
    a.num_entries = handles.length;
    if (handles.length === 0) return 0;
    a.entries = handles.map((h) => {
      const g = gemOf(w, idr[h]!);
      return {
        gem_handle: h,
        flags: gemBo(w, g.id).import_attach !== null ? AMDGPU_GEM_LIST_HANDLES_FLAG.IS_IMPORT : 0,
        size: g.size,
        preferred_domains: BigInt(g.preferred_domains),
        alloc_flags: BigInt(g.flags & AMDGPU_GEM_CREATE_SETTABLE_MASK),
        alignment: BigInt(g.page_alignment),
      };
    });
    return 0;
  },
});
