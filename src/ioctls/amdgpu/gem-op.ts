/**
 * amdgpu GEM ioctls on one object of a render node, through its handle (amdgpu_gem.c:
 * amdgpu_gem_mmap_ioctl, amdgpu_gem_op_ioctl; spec §8.2, §9.8): its mmap offset (GEM_MMAP),
 * its creation parameters, its placement and its mappings (GEM_OP).
 */
import { ERRNO } from '../../uapi/errno.js';
import { registerDrm, hasUpstreamCriu } from '../drm/dispatch.js';
import { handleLookup } from '../drm/file.js';
import { enumOf, u32, u64 } from '../schema.js';
import { domainName, gemBo, gemOf, gemSend } from './kernel/gem.js';
import { boVaFind, boVaMappings, vmGpusOf } from './kernel/vm.js';
import { sameHive } from '../../world/topology.js';
import { gpuById } from '../../world/world.js';
import { AMDGPU_GEM_CREATE as C, AMDGPU_GEM_DOMAIN as D, AMDGPU_GEM_OP, AMDGPU_GPU_PAGE_SIZE } from './uapi.js';

const INT_MAX = 0x7fffffff;
/** sizeof(struct drm_amdgpu_gem_vm_entry): addr, size, offset, flags (four __u64). */
const VM_ENTRY_SIZE = 32;

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
    'padding ≠ 0 → -EINVAL (6.18, 4d82724f7f2b; 6.17 and the proposal’s kernel have no padding field: drm_ioctl copies the longer struct and the kernel ignores what follows value)',
    'no object at the handle → -ENOENT',
    'GET_GEM_CREATE_INFO: create_info = {bo_size, alignment in bytes, domains = preferred, domain_flags = bo->flags}',
    'SET_PLACEMENT: an import object asked for VRAM → -EINVAL; a userptr object → -EPERM; a VM of another GPU of the object’s XGMI hive holds a bo_va of it (amdgpu_xgmi_same_hive) → -EINVAL; preferred domains = value & (VRAM | GTT | CPU)',
    'GET_MAPPING_INFO (6.18; not on 6.17 or the proposal’s kernel → -EINVAL): num_entries × 32 > INT_MAX → -EINVAL; vm_entries = the bo_va’s valids then invalids, copied only if 0 < count ≤ num_entries; num_entries = count always',
    'any other op → -EINVAL',
  ],
  args: { handle: u32, op: enumOf(AMDGPU_GEM_OP, 'AMDGPU_GEM_OP_'), value: u64, num_entries: u32, padding: u32 },
  out: ['num_entries', 'create_info', 'vm_entries'],
  run({ w, file }, a) {
    if (a.padding !== 0 && hasUpstreamCriu(w)) return -ERRNO.EINVAL;
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
        // a VM of another GPU of the object's XGMI hive maps it in place (amdgpu_xgmi_same_hive)
        const own = gpuById(w, g.gpu_id)!;
        if (vmGpusOf(w, gem).some((gpu) => sameHive(own, gpuById(w, gpu)!))) return -ERRNO.EINVAL;
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
