/**
 * amdgpu_vm.c as the handlers use it: bo_va lookup and creation, and the mapping
 * operations, each applied to the bo_va machine (machines/amdgpu/bo-va.ts) and to the
 * VM's mapping index (src/world/vm.ts), which are kept equal: the index holds exactly the
 * mappings of the VM's live bo_vas.
 */
import type { BoVaContext, BoVaEvent, BoVaMapping } from '../../../../machines/amdgpu/bo-va.js';
import { ERRNO } from '../../../uapi/errno.js';
import { contextOf, createObject, dropObject, send } from '../../../world/objects.js';
import type { DrmFilePriv, VmState, World } from '../../../world/types.js';
import { emptyVm, vmFirstOverlap, vmIndexReady, vmInsert, vmOverlapping, vmRemove } from '../../../world/vm.js';
import { AMDGPU_GPU_PAGE_SIZE as PAGE } from '../uapi.js';
import { BO_VA } from './gem.js';

/** adev->vm_manager.max_pfn: a 48-bit GPU VA space (GFX9 and later), in GPU pages. */
export const MAX_PFN = 1n << 36n;

/**
 * The GEM state of a render-node file (drm_file.object_idr, prime, amdgpu_fpriv.vm),
 * created the first time the file is used. Files that are gone are released first
 * (see releaseDeadDrmFiles).
 */
export function drmPriv(w: World, fileId: string): DrmFilePriv {
  const all = (w.drm ??= {});
  let p = all[fileId];
  if (!p) {
    p = { object_idr: {}, prime: {}, vm: emptyVm() };
    all[fileId] = p;
  }
  return p;
}

/** The VM of a render-node file. */
export function vmOf(w: World, fileId: string): VmState {
  return drmPriv(w, fileId).vm;
}

export function boVa(w: World, id: string): BoVaContext {
  return contextOf<BoVaContext>(w, id);
}

/** amdgpu_vm_bo_find(vm, bo) */
export function boVaFind(w: World, vmFile: string, gem: string): string | undefined {
  return w.drm?.[vmFile]?.vm.bo_vas[gem];
}

/**
 * The GPUs whose VMs hold a bo_va of the object (robj->vm_bo: every VM it is open or attached
 * in), as actual gpu_ids, in the order of the world's render-node files.
 */
export function vmGpusOf(w: World, gem: string): number[] {
  const gpus: number[] = [];
  for (const [file, priv] of Object.entries(w.drm ?? {}))
    if (Object.hasOwn(priv.vm.bo_vas, gem)) gpus.push((w.files[file] as { gpu_id: number }).gpu_id);
  return gpus;
}

/**
 * amdgpu_gem_object_open / kfd_mem_attach: `bo_va = amdgpu_vm_bo_find(vm, bo); if (!bo_va)
 * bo_va = amdgpu_vm_bo_add(adev, vm, bo); else ++bo_va->ref_count;`
 */
export function boVaGet(w: World, vmFile: string, gem: string): string {
  const vm = vmOf(w, vmFile);
  const found = vm.bo_vas[gem];
  if (found) {
    send(w, found, { type: 'REF' });
    return found;
  }
  const id = createObject(w, BO_VA, { gem, vm: vmFile });
  vm.bo_vas[gem] = id;
  return id;
}

/** fpriv->prt_va: the bo_va without object that PRT mappings use. */
export function prtBoVa(w: World, vmFile: string): string {
  const vm = vmOf(w, vmFile);
  vm.prt_va ??= createObject(w, BO_VA, { gem: null, vm: vmFile });
  return vm.prt_va;
}

const key = (m: { start: bigint; last: bigint }) => `${m.start}:${m.last}`;

function mappingsOf(c: BoVaContext): BoVaMapping[] {
  return [...c.valids, ...c.invalids];
}

/**
 * Send an event to a bo_va and make the VM index follow its mappings. The events every
 * KFD map and unmap sends change one known range (or none), so the index is told that
 * directly; CLEAR and REPLACE, which may cut several, compare the lists before and after.
 */
function boVaSend(w: World, id: string, e: BoVaEvent): void {
  const c = boVa(w, id);
  // The index is derived from the bo_vas: built (if this world has none yet) before the event changes them.
  vmIndexReady(w, vmOf(w, c.vm));
  switch (e.type) {
    case 'REF':
    case 'UPDATE':
      send(w, id, e);
      return;
    case 'MAP':
      send(w, id, e);
      vmInsert(w, vmOf(w, c.vm), { start: e.mapping.start, last: e.mapping.last, bo_va: id });
      return;
    case 'UNMAP':
      send(w, id, e);
      vmRemove(w, vmOf(w, c.vm), e.start, id);
      return;
    case 'UNREF':
      if (c.ref_count > 1) {
        send(w, id, e);
        return;
      }
  }
  const before = mappingsOf(c);
  send(w, id, e);
  const vm = vmOf(w, c.vm);
  const removedObj = !w.objects[id] || (e.type === 'UNREF' && boVa(w, id).ref_count === 0);
  const after = removedObj ? [] : mappingsOf(boVa(w, id));
  const keep = new Set(after.map(key));
  const had = new Set(before.map(key));
  for (const m of before) if (!keep.has(key(m))) vmRemove(w, vm, m.start, id);
  for (const m of after) if (!had.has(key(m))) vmInsert(w, vm, { start: m.start, last: m.last, bo_va: id });
}

/**
 * amdgpu_gem_object_close / kfd_mem_detach: `--bo_va->ref_count`; at 0 amdgpu_vm_bo_del
 * removes the bo_va and its mappings.
 */
export function boVaPut(w: World, id: string): void {
  const c = boVa(w, id);
  const last = c.ref_count === 1;
  boVaSend(w, id, { type: 'UNREF' });
  if (!last) return;
  const vm = vmOf(w, c.vm);
  if (c.gem !== null && vm.bo_vas[c.gem] === id) delete vm.bo_vas[c.gem];
  if (vm.prt_va === id) vm.prt_va = null;
  dropObject(w, id);
}

/** 2^64: the kernel's u64 arithmetic wraps there. */
export const U64 = 1n << 64n;

/**
 * amdgpu_vm_verify_parameters(adev, bo, saddr, offset, size): 4 KiB alignment, no
 * overflow, size ≠ 0, inside the object, below max_pfn. Byte values.
 */
export function verifyParameters(objSize: bigint | null, saddr: bigint, offset: bigint, size: bigint): number {
  if (saddr % PAGE !== 0n || offset % PAGE !== 0n || size % PAGE !== 0n) return -ERRNO.EINVAL;
  if (saddr + size >= U64 || offset + size >= U64 || size === 0n) return -ERRNO.EINVAL;
  if (objSize !== null && offset + size > objSize) return -ERRNO.EINVAL;
  if ((saddr + size - 1n) / PAGE >= MAX_PFN) return -ERRNO.EINVAL;
  return 0;
}

/**
 * amdgpu_vm_bo_map(adev, bo_va, saddr, offset, size, flags) after the parameters were
 * verified: a mapping overlapping any mapping of the VM → -EINVAL ("conflict with");
 * else it goes to the head of the bo_va's invalids. Byte values in, pages inside.
 */
export function vmMap(
  w: World,
  id: string,
  saddr: bigint,
  offset: bigint,
  size: bigint,
  flags: number,
  kfd: string | null,
): number {
  const c = boVa(w, id);
  const start = saddr / PAGE;
  const last = start + (size - 1n) / PAGE;
  if (vmFirstOverlap(w, vmOf(w, c.vm), start, last)) return -ERRNO.EINVAL;
  vmMapChecked(w, id, start, last, offset, flags, kfd);
  return 0;
}

/**
 * The mapping amdgpu_vm_bo_map adds once its overlap check passed, at the head of the bo_va's
 * invalids: for a caller that checked the pages `[start, last]` itself (the KFD map checks
 * every attachment of a BO before mapping any).
 */
export function vmMapChecked(
  w: World,
  id: string,
  start: bigint,
  last: bigint,
  offset: bigint,
  flags: number,
  kfd: string | null,
): void {
  boVaSend(w, id, { type: 'MAP', mapping: { start, last, offset, flags, kfd } });
}

/** amdgpu_vm_bo_unmap(adev, bo_va, saddr): the mapping of this bo_va starting there, else -ENOENT. */
export function vmUnmap(w: World, id: string, saddr: bigint): number {
  const start = saddr / PAGE;
  if (!mappingsOf(boVa(w, id)).some((m) => m.start === start)) return -ERRNO.ENOENT;
  boVaSend(w, id, { type: 'UNMAP', start });
  return 0;
}

/**
 * amdgpu_vm_bo_clear_mappings(adev, vm, saddr, size) after the parameters were verified:
 * every mapping of the VM in the range is cut, whichever bo_va holds it.
 */
export function vmClear(w: World, vmFile: string, saddr: bigint, size: bigint): void {
  const start = saddr / PAGE;
  const last = start + (size - 1n) / PAGE;
  const hit = vmOverlapping(w, vmOf(w, vmFile), start, last);
  const boVas = [...new Set(hit.map((r) => r.bo_va))];
  for (const id of boVas) boVaSend(w, id, { type: 'CLEAR', start, last });
}

/** amdgpu_vm_bo_replace_map: CLEAR of the range in the whole VM, then the new mapping in this bo_va. */
export function vmReplace(w: World, id: string, saddr: bigint, offset: bigint, size: bigint, flags: number): void {
  const c = boVa(w, id);
  const start = saddr / PAGE;
  const last = start + (size - 1n) / PAGE;
  vmClear(w, c.vm, saddr, size);
  boVaSend(w, id, { type: 'REPLACE', mapping: { start, last, offset, flags, kfd: null } });
}

/** amdgpu_vm_bo_update(adev, bo_va, false): every mapping of the bo_va becomes valid. */
export function vmUpdate(w: World, id: string): void {
  if (boVa(w, id).invalids.length > 0) boVaSend(w, id, { type: 'UPDATE' });
}

/** The mappings GET_MAPPING_INFO reports: bo_va->valids, then bo_va->invalids. */
export function boVaMappings(w: World, id: string): BoVaMapping[] {
  return mappingsOf(boVa(w, id));
}
