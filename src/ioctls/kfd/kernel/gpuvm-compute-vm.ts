/**
 * The compute VM of a process on a GPU (amdgpu_amdkfd_gpuvm.c: the `drm_priv` the
 * amdgpu_amdkfd_gpuvm_* functions take, made by amdgpu_amdkfd_gpuvm_acquire_process_vm;
 * spec §7.2 ACQUIRE_VM): the VM of the render-node file kfd_process_device_init_vm made a
 * compute VM of. Mapping, unmapping and detaching a KFD BO (gpuvm-attach.ts) find it here.
 */
import type { PddContext } from '../../../../machines/kfd/pdd.js';
import { contextOf } from '../../../world/objects.js';
import type { World } from '../../../world/types.js';

/**
 * The render-node file whose VM is the process's compute VM on a GPU: the pdd's drm_file,
 * or, while kfd_process_device_init_vm runs (the pdd is not yet updated), the file it is
 * making a compute VM of.
 */
export function computeVmFile(w: World, pid: number, gpuId: number): string {
  const task = w.tasks[pid];
  for (const id of task?.pdds ?? []) {
    const p = contextOf<PddContext>(w, id);
    if (p.gpu_id === gpuId && p.drm_file) return p.drm_file;
  }
  for (const f of Object.values(w.files))
    if (f.kind === 'drm' && f.gpu_id === gpuId && f.compute_vm_pid === pid) return f.id;
  throw new Error(`no compute VM of pid ${pid} on GPU ${gpuId}`);
}
