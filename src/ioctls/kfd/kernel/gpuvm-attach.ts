/**
 * amdgpu_amdkfd_gpuvm.c: attaching and mapping a KFD BO in a VM and undoing it —
 * kfd_mem_attach, amdgpu_amdkfd_gpuvm_map_memory_to_gpu, amdgpu_amdkfd_gpuvm_unmap_memory_from_gpu,
 * update_gpuvm_pte (the userptr restore worker), kfd_mem_detach (spec §7.2 MAP/UNMAP).
 *
 * An attachment is the bo_va of the kgd_mem's GEM object in the process's compute VM
 * (gpuvm-compute-vm.ts), shared with render-node handles of the same object; its mappings
 * join the VM's index (src/world/vm.ts), where GEM_VA mappings of the same VM live too.
 */
import {
  type BoAttachment,
  attachmentIn,
  type BoContext,
  isFullyMappedIn,
  isMappedIn,
} from '../../../../machines/kfd/bo.js';
import {
  boVaFind,
  boVaGet,
  boVaMappings,
  boVaPut,
  verifyParameters,
  vmMapChecked,
  vmOf,
  vmUnmap,
  vmUpdate,
} from '../../amdgpu/kernel/vm.js';
import { AMDGPU_VM } from '../../amdgpu/uapi.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F } from '../../../uapi/index.js';
import { inState, send } from '../../../world/objects.js';
import type { World } from '../../../world/types.js';
import { vmFirstOverlap } from '../../../world/vm.js';
import { bo } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { computeVmFile } from './gpuvm-compute-vm.js';

/** The VA of each attachment of a BO in one VM (kfd_mem_attach: AQL BOs get two, back to back). */
function attachmentVas(b: BoContext): bigint[] {
  return b.alloc_flags & F.AQL_QUEUE_MEM ? [b.va, b.va + b.size] : [b.va];
}

/**
 * The VAs of the entries of a VM that are mapped (all, or the one at `va + size` of a half-mapped
 * AQL BO), which UNMAP unmaps: its loop skips the entries that are not.
 */
function mappedVas(b: BoContext, a: BoAttachment | undefined): bigint[] {
  if (!a?.is_mapped) return [];
  return a.half_mapped ? [b.va + b.size] : attachmentVas(b);
}

/**
 * The VAs of the entries of a VM still to map, in `mem->attachments` order: kfd_mem_attach
 * adds each entry at the head of the list, so an AQL BO's entry at `va + size` comes first.
 */
function unmappedVas(b: BoContext, a: BoAttachment | undefined): bigint[] {
  if (a?.half_mapped) return [b.va];
  return attachmentVas(b).reverse();
}

/**
 * The mapping flags of a KFD mapping, in AMDGPU_VM_PAGE_* terms (get_pte_flags; spec §12 q7
 * assumes the mapping flags are the uapi flags): readable, writeable and executable as the
 * alloc flags say, MTYPE_UC for uncached or coherent memory.
 */
export function kfdMappingFlags(b: BoContext): number {
  let f = AMDGPU_VM.PAGE_READABLE;
  if (b.alloc_flags & F.WRITABLE) f |= AMDGPU_VM.PAGE_WRITEABLE;
  if (b.alloc_flags & F.EXECUTABLE) f |= AMDGPU_VM.PAGE_EXECUTABLE;
  if (b.alloc_flags & (F.UNCACHED | F.COHERENT | F.EXT_COHERENT)) f |= AMDGPU_VM.MTYPE_UC;
  return f;
}

/**
 * amdgpu_amdkfd_gpuvm_map_memory_to_gpu: attach first if the BO has no entry in the VM
 * (kfd_mem_attach: the bo_va of the object in the VM, found or added, one reference per
 * entry; it stays when the mapping fails), then map the unmapped entries in list order
 * (map_bo_to_gpuvm → amdgpu_vm_bo_map): a misaligned VA (amdgpu_vm_verify_parameters) or a VA
 * range already mapped in that VM — by a KFD BO or a GEM_VA mapping — → -EINVAL, with the
 * entries before it left mapped (an AQL BO half mapped). An invalid userptr is mapped without
 * updating the page tables (its mapping stays pending).
 */
export function mapBoToVm(w: World, boId: string, vmGpuId: number): void {
  const b = bo(w, boId);
  if (isFullyMappedIn(b, vmGpuId)) return;
  const vmFile = computeVmFile(w, b.pid, vmGpuId);
  const vm = vmOf(w, vmFile);
  const att = attachmentIn(b, vmGpuId);
  if (att === undefined) for (let i = attachmentVas(b).length; i > 0; i--) boVaGet(w, vmFile, b.gem);
  const page = 4096n;
  const vas = unmappedVas(b, att);
  // The entries that map, up to the first refused: [first page, last page] of each.
  const ranges: [bigint, bigint][] = [];
  for (const va of vas) {
    const range: [bigint, bigint] = [va / page, va / page + (b.size - 1n) / page];
    if (verifyParameters(w.gems[b.gem]!.size, va, 0n, b.size) !== 0) break;
    if (vmFirstOverlap(w, vm, range[0], range[1])) break;
    ranges.push(range);
  }
  // The proposed fix: a failed call leaves nothing of it mapped (docs/design-variants.md).
  if (ranges.length < vas.length && w.variants['kfd-map-failure'] === 'unwind') ranges.length = 0;
  if (ranges.length > 0) {
    const bv = boVaFind(w, vmFile, b.gem)!;
    const half = ranges.length < vas.length && vas.length === 2;
    send(w, boId, half ? { type: 'MAP', vm: vmGpuId, half } : { type: 'MAP', vm: vmGpuId });
    for (const [start, last] of ranges) vmMapChecked(w, bv, start, last, 0n, kfdMappingFlags(b), boId);
    if (!inState(w, boId, 'live.pages.invalid')) vmUpdate(w, bv);
  } else if (att === undefined) {
    // Nothing mapped, but kfd_mem_attach's entries stay. (A MAP that maps attaches too: one
    // event, as every MAP of the replay's hot path sends.)
    send(w, boId, { type: 'ATTACH', vm: vmGpuId });
  }
  if (ranges.length < vas.length) fail(-ERRNO.EINVAL);
}

/**
 * amdgpu_amdkfd_gpuvm_unmap_memory_from_gpu: `ctx.n_vms == 0` → -EINVAL; amdgpu_vm_bo_unmap
 * of the VA of each mapped entry of the VM, the only one at `va + size` of a half-mapped AQL BO
 * (a mapping GEM_VA already removed is not an error).
 */
export function unmapBoFromVm(w: World, boId: string, vmGpuId: number): void {
  const b = bo(w, boId);
  if (!isMappedIn(b, vmGpuId)) fail(-ERRNO.EINVAL);
  const vas = mappedVas(b, attachmentIn(b, vmGpuId));
  send(w, boId, { type: 'UNMAP', vm: vmGpuId });
  const bv = boVaFind(w, computeVmFile(w, b.pid, vmGpuId), b.gem);
  if (bv) for (const va of vas) vmUnmap(w, bv, va);
}

/**
 * The restore worker revalidated a userptr BO (amdgpu_amdkfd_restore_userptr_worker →
 * update_gpuvm_pte): its pending mappings become valid. For kfd.restore_userptr_worker.
 */
export function userptrValidated(w: World, boId: string): void {
  const b = bo(w, boId);
  for (const { vm } of b.attachments) {
    const bv = boVaFind(w, computeVmFile(w, b.pid, vm), b.gem);
    if (bv) vmUpdate(w, bv);
  }
}

/**
 * kfd_mem_detach of every attachment (at free): the bo_va loses the attachment's reference.
 * Mappings of this kgd_mem still in the bo_va at its attachment VAs are unmapped first (a
 * process teardown unmaps the kgd_mem without going through unmapBoFromVm).
 */
export function detachAll(w: World, boId: string): void {
  const b = bo(w, boId);
  const vas = attachmentVas(b);
  for (const { vm } of b.attachments) {
    const vmFile = computeVmFile(w, b.pid, vm);
    const bv = boVaFind(w, vmFile, b.gem);
    if (!bv) continue;
    for (const m of boVaMappings(w, bv))
      if (m.kfd === boId && vas.includes(m.start * 4096n)) vmUnmap(w, bv, m.start * 4096n);
    for (let i = 0; i < vas.length && w.objects[bv]; i++) boVaPut(w, bv);
  }
}

/** Whether a BO is mapped in any VM (the FREE guard's question). */
export function mappedOnAnyGpu(w: World, boId: string): boolean {
  return inState(w, boId, 'live.mapping.mapped');
}
