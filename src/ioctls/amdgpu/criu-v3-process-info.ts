/**
 * PROCESS_INFO of the 2025 amdgpu CRIU-ioctl proposal (amdgpu_criu_process_info, spec §8.1;
 * criu-v3.ts): the counts and priv_data size CHECKPOINT is then called with. Nothing is paused.
 */
import type { World } from '../../world/types.js';
import type { DrmKernel } from '../drm/dispatch.js';
import { handleLookup } from '../drm/file.js';
import { handlesOf, proposalMappings } from './criu-v3-file.js';
import { BO_PRIV_SIZE, type CriuV3Args, VM_PRIV_SIZE } from './criu-v3-uapi.js';

/** avm->task_info->pid: the process the VM works for (its compute VM owner, else the first holder of the file). */
function vmTaskPid(w: World, fileId: string): number {
  const f = w.files[fileId];
  if (f?.kind === 'drm' && f.compute_vm_pid !== null) return f.compute_vm_pid;
  const pids = Object.values(w.tasks)
    .filter((t) => t.alive && Object.values(t.fds).includes(fileId))
    .map((t) => t.pid)
    .sort((a, b) => a - b);
  return pids[0] ?? 0;
}

// amdgpu_criu_process_info (amdgpu_criu.c:87-130, proposal v3), spec §8.1
export function processInfo({ w, file }: DrmKernel, a: CriuV3Args): number {
  const handles = handlesOf(w, file.id);
  let maps = 0;
  for (const h of handles) maps += proposalMappings(w, file.id, handleLookup(w, file.id, h)!).length;
  a.num_bos = handles.length;
  a.num_objs = maps;
  a.priv_data_size = BigInt(BO_PRIV_SIZE * handles.length + VM_PRIV_SIZE * maps);
  a.pid = vmTaskPid(w, file.id);
  return 0;
}
