/**
 * amdgpu_amdkfd_gpuvm.c: KFD BO allocation, mapping, freeing, dma-buf export and
 * import (spec §2.3, §7.2, §7.3).
 *
 * A KFD BO (kgd_mem, machines/kfd/bo.ts) uses a GEM object of the same kind as the render
 * node's (machines/amdgpu/gem-bo.ts, src/ioctls/amdgpu/kernel/gem.ts): the kgd_mem holds a
 * reference of it (its handle in the KFD client file). Mapping a KFD BO into a VM attaches it
 * (kfd_mem_attach: the bo_va of the object in that VM, shared with render-node handles of the
 * same object) and adds its mapping to the VM's index (src/world/vm.ts), where GEM_VA
 * mappings of the same VM live too.
 *
 * This module is the file's entry point; each part is a module of its own, split as the
 * kernel file is: alloc/free of a kgd_mem (gpuvm-alloc.ts), attach/map/unmap/detach
 * (gpuvm-attach.ts), dma-buf export/import (gpuvm-dmabuf.ts) and the compute VM they map
 * into (gpuvm-compute-vm.ts).
 */
import {
  DRM_FILE_PAGE_OFFSET_START as OFFSET_START,
  releaseGemIfUnused as releaseGem,
} from '../../amdgpu/kernel/gem.js';
import type { World } from '../../../world/types.js';

export {
  type AllocRequest,
  allocInternalBo,
  allocMemoryOfGpu,
  freeMemoryOfGpu,
  newGem,
  pageAlign,
} from './gpuvm-alloc.js';
export { kfdMappingFlags, mapBoToVm, mappedOnAnyGpu, unmapBoFromVm, userptrValidated } from './gpuvm-attach.js';
export { computeVmFile } from './gpuvm-compute-vm.js';
export { exportDmabuf, importDmabuf, releaseDmabuf } from './gpuvm-dmabuf.js';

/** DRM_FILE_PAGE_OFFSET_START: render-node mmap offsets start above 4 GiB (drm_gem.c). */
export const DRM_FILE_PAGE_OFFSET_START = OFFSET_START;

export function releaseGemIfUnused(w: World, gemId: string): void {
  releaseGem(w, gemId);
}
