/**
 * DRM_IOCTL_AMDGPU_GEM_VA (amdgpu_gem_va_ioctl, amdgpu_gem.c; amdgpu_vm_bo_map / _unmap /
 * _clear_mappings / _replace_map, amdgpu_vm.c; spec §1, §8.2). The VM is the file's, which
 * is the compute VM of a pdd that acquired the file: KFD mappings and GEM_VA mappings
 * conflict with each other like any two mappings.
 */
import { ERRNO } from '../../uapi/errno.js';
import { handleLookup } from '../drm/file.js';
import { registerDrm } from '../drm/dispatch.js';
import { enumOf, flags, u32, u64 } from '../schema.js';
import { gemOf } from './kernel/gem.js';
import {
  boVaFind,
  prtBoVa,
  U64,
  verifyParameters,
  vmClear,
  vmMap,
  vmOf,
  vmReplace,
  vmUnmap,
  vmUpdate,
} from './kernel/vm.js';
import { AMDGPU_VA_OP as OP, AMDGPU_VM as VM, AMDGPU_VM_MTYPE_MASK } from './uapi.js';

/** AMDGPU_VA_RESERVED_BOTTOM (amdgpu_vm.h): the first 64 KiB of every VM are reserved. */
export const AMDGPU_VA_RESERVED_BOTTOM = 1n << 16n;
/** AMDGPU_VA_RESERVED_TOP: CSA (2 MiB) + SEQ64 (2 MiB) + trap handler (8 KiB) at the top of the VM. */
export const AMDGPU_VA_RESERVED_TOP = (2n << 20n) + (2n << 20n) + (2n << 12n);
/** AMDGPU_GMC_HOLE_START / _END / _MASK (amdgpu_gmc.h): the non-canonical hole of a 48-bit VA space. */
export const AMDGPU_GMC_HOLE_START = 0x0000800000000000n;
export const AMDGPU_GMC_HOLE_END = 0xffff800000000000n;
export const AMDGPU_GMC_HOLE_MASK = 0x0000ffffffffffffn;
/** max_pfn × AMDGPU_GPU_PAGE_SIZE: 2^48 bytes. */
export const VM_SIZE = 1n << 48n;

const VALID_FLAGS =
  VM.DELAY_UPDATE | VM.PAGE_READABLE | VM.PAGE_WRITEABLE | VM.PAGE_EXECUTABLE | AMDGPU_VM_MTYPE_MASK | VM.PAGE_NOALLOC;
const PRT_FLAGS = VM.DELAY_UPDATE | VM.PAGE_PRT;

interface VaArgs {
  handle: number;
  _pad: number;
  operation: number;
  flags: number;
  va_address: bigint;
  offset_in_bo: bigint;
  map_size: bigint;
  vm_timeline_point: bigint;
  vm_timeline_syncobj_out: number;
  num_syncobj_handles: number;
  input_fence_syncobj_handles: bigint;
}

// amdgpu_gem_va_ioctl (amdgpu_gem.c), spec §8.2
export const gemVa = registerDrm<VaArgs>({
  name: 'DRM_IOCTL_AMDGPU_GEM_VA',
  models:
    'amdgpu_gem_va_ioctl (amdgpu_gem.c) with amdgpu_vm_bo_map/_unmap/_clear_mappings/_replace_map (amdgpu_vm.c), spec §8.2',
  checks: [
    'va_address < AMDGPU_VA_RESERVED_BOTTOM (64 KiB) → -EINVAL',
    'va_address in the GMC hole [0x800000000000, 0xffff800000000000) → -EINVAL; then va_address &= the hole mask',
    'va_address + map_size (a u64 sum, which wraps) beyond the VM size less AMDGPU_VA_RESERVED_TOP → -EINVAL',
    'flags outside DELAY_UPDATE | PAGE_READABLE | PAGE_WRITEABLE | PAGE_EXECUTABLE | MTYPE | PAGE_NOALLOC, unless only DELAY_UPDATE | PAGE_PRT → -EINVAL',
    'operation not MAP, UNMAP, CLEAR or REPLACE → -EINVAL',
    'not CLEAR and not PRT: no object at the handle → -ENOENT',
    'amdgpu_gem_add_input_fence, when num_syncobj_handles ≠ 0: input_fence_syncobj_handles NULL (memdup_user) → -EFAULT; otherwise the first handle names no syncobj (gpucr has none; the log does not carry the array, so it is read as non-zero) → -ENOENT',
    'the object has no bo_va in the file’s VM → -ENOENT (PRT uses the file’s PRT bo_va)',
    'amdgpu_gem_update_timeline_node: vm_timeline_syncobj_out ≠ 0 names no syncobj → -ENOENT',
    'MAP: amdgpu_vm_verify_parameters (4 KiB alignment of va, offset and size; size ≠ 0; no overflow; offset + size within the object; below max_pfn) → -EINVAL; overlap with any mapping of the VM (another bo_va, a KFD BO) → -EINVAL',
    'UNMAP: no mapping of this bo_va starting at va_address → -ENOENT',
    'CLEAR: verify_parameters of (va_address, map_size) → -EINVAL; every mapping of the VM in the range is cut, the parts outside become new pending mappings',
    'REPLACE: verify_parameters → -EINVAL; CLEAR of the range, then MAP',
    'a new mapping keeps the call’s flags as given, DELAY_UPDATE included (GET_MAPPING_INFO returns them)',
    'success without DELAY_UPDATE: MAP and REPLACE update the bo_va’s page tables (its pending mappings become valid)',
  ],
  args: {
    handle: u32,
    _pad: u32,
    operation: enumOf(OP, 'AMDGPU_VA_OP_'),
    // MTYPE_* name values of the 4-bit field at bits 5-8, not bits: one of them at most.
    flags: flags(VM, 'AMDGPU_VM_', AMDGPU_VM_MTYPE_MASK),
    va_address: u64,
    offset_in_bo: u64,
    map_size: u64,
    vm_timeline_point: u64,
    vm_timeline_syncobj_out: u32,
    num_syncobj_handles: u32,
    input_fence_syncobj_handles: u64,
  },
  out: [],
  run({ w, file }, a) {
    if (a.va_address < AMDGPU_VA_RESERVED_BOTTOM) return -ERRNO.EINVAL;
    if (a.va_address >= AMDGPU_GMC_HOLE_START && a.va_address < AMDGPU_GMC_HOLE_END) return -ERRNO.EINVAL;
    const va = a.va_address & AMDGPU_GMC_HOLE_MASK;
    // u64 arithmetic: va_address + map_size wraps (UNMAP ignores map_size; the others fail in
    // amdgpu_vm_verify_parameters' overflow check).
    if ((va + a.map_size) % U64 > VM_SIZE - AMDGPU_VA_RESERVED_TOP) return -ERRNO.EINVAL;
    if (a.flags & ~VALID_FLAGS && a.flags & ~PRT_FLAGS) return -ERRNO.EINVAL;
    if (a.operation < OP.MAP || a.operation > OP.REPLACE) return -ERRNO.EINVAL;
    const prt = (a.flags & VM.PAGE_PRT) !== 0;
    let gem: string | undefined;
    if (a.operation !== OP.CLEAR && !prt) {
      gem = handleLookup(w, file.id, a.handle);
      if (gem === undefined) return -ERRNO.ENOENT;
    }
    if (a.num_syncobj_handles !== 0) return a.input_fence_syncobj_handles === 0n ? -ERRNO.EFAULT : -ERRNO.ENOENT;
    let bv: string | undefined;
    if (gem !== undefined) {
      bv = boVaFind(w, file.id, gem);
      if (bv === undefined) return -ERRNO.ENOENT;
    } else if (a.operation !== OP.CLEAR) bv = prtBoVa(w, file.id);
    if (a.vm_timeline_syncobj_out !== 0) return -ERRNO.ENOENT;
    const objSize = gem === undefined ? null : gemOf(w, gem).size;
    // The mapping keeps the call's uapi flags as they are, DELAY_UPDATE included ("rework how
    // PTE flags are generated": amdgpu_vm_bo_map(…, args->flags); spec §12 q7), and
    // GET_MAPPING_INFO hands them back.
    const mapFlags = a.flags;
    let r: number;
    switch (a.operation) {
      case OP.MAP:
        r = verifyParameters(objSize, va, a.offset_in_bo, a.map_size);
        if (r === 0) r = vmMap(w, bv!, va, a.offset_in_bo, a.map_size, mapFlags, null);
        break;
      case OP.UNMAP:
        r = vmUnmap(w, bv!, va);
        break;
      case OP.CLEAR:
        r = verifyParameters(null, va, 0n, a.map_size);
        if (r === 0) vmClear(w, file.id, va, a.map_size);
        break;
      default:
        r = verifyParameters(objSize, va, a.offset_in_bo, a.map_size);
        if (r === 0) vmReplace(w, bv!, va, a.offset_in_bo, a.map_size, mapFlags);
    }
    if (r === 0 && !(a.flags & VM.DELAY_UPDATE) && (a.operation === OP.MAP || a.operation === OP.REPLACE))
      vmUpdate(w, bv!);
    // The VM must exist even if nothing was mapped (amdgpu_fpriv.vm).
    vmOf(w, file.id);
    return r;
  },
});
