import { ERRNO } from '../../uapi/errno.js';
import { GET_GPU_ID, GET_IDR_HANDLE } from '../../uapi/index.js';
import { boByHandle, pdd, pddByUserGpuId } from '../../world/world.js';
import type { Kernel } from '../registry.js';
import { KernelReturn, register } from '../registry.js';
import { arrayOf, nullable, u32, u64 } from '../schema.js';
import { mapBoToVm, unmapBoFromVm } from './kernel/gpuvm.js';
import { bindProcessToDevice } from './kernel/process.js';

export interface MapArgs {
  handle: bigint;
  device_ids: number[];
  /** Omitted in a log: the length of device_ids. */
  n_devices: number | null;
  n_success: number;
}

const args = { handle: u64, device_ids: arrayOf(u32), n_devices: nullable(u32), n_success: u32 };

/**
 * The loop shared by MAP and UNMAP: check arguments, then for i = n_success..n_devices-1
 * act on the peer GPU and advance n_success, so that a failed call resumes where it stopped.
 */
function forEachDevice(k: Kernel, a: MapArgs, bind: boolean, act: (boId: string, peerGpuId: number) => void): number {
  const { w, task } = k;
  const n = a.n_devices ?? a.device_ids.length;
  a.n_devices = n;
  if (n === 0) return -ERRNO.EINVAL;
  if (a.n_success > n) return -ERRNO.EINVAL;
  // copy_from_user of n_devices ids from a shorter array faults.
  if (a.device_ids.length < n) return -ERRNO.EFAULT;
  const pddId = pddByUserGpuId(w, task, GET_GPU_ID(a.handle));
  if (!pddId) return -ERRNO.EINVAL;
  // Only MAP binds (kfd_bind_process_to_device); UNMAP goes straight to the BO.
  if (bind) bindProcessToDevice(w, task, pdd(w, pddId).gpu_id);
  const boId = boByHandle(w, pddId, GET_IDR_HANDLE(a.handle));
  if (!boId) return -ERRNO.ENOMEM;
  for (let i = a.n_success; i < n; i++) {
    const peer = pddByUserGpuId(w, task, a.device_ids[i]!);
    if (!peer) return -ERRNO.EINVAL;
    try {
      if (bind) bindProcessToDevice(w, task, pdd(w, peer).gpu_id);
      act(boId, pdd(w, peer).gpu_id);
    } catch (e) {
      if (e instanceof KernelReturn) return e.ret;
      throw e;
    }
    a.n_success = i + 1;
  }
  return 0;
}

// kfd_ioctl_map_memory_to_gpu (kfd_chardev.c), spec §7.2
export const mapMemoryToGpu = register<MapArgs>({
  name: 'AMDKFD_IOC_MAP_MEMORY_TO_GPU',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_map_memory_to_gpu (kfd_chardev.c), spec §7.2',
  checks: [
    'n_devices == 0 → -EINVAL',
    'n_success > n_devices → -EINVAL',
    'device_ids shorter than n_devices (copy_from_user) → -EFAULT',
    'no pdd for GET_GPU_ID(handle) → -EINVAL; not bound (no VM) → -ENODEV',
    'no BO at the handle → -ENOMEM',
    'for i = n_success..n_devices-1: peer pdd missing → -EINVAL; peer without VM → -ENODEV; then n_success = i + 1',
    'per VM: attach on the first MAP (kept if the mapping fails); each unmapped entry in list order, a misaligned VA or a range the VM maps already → -EINVAL, the entries before it mapped (an AQL BO: the one at va + size first, so a conflict at va leaves it half mapped)',
  ],
  args,
  out: ['n_success'],
  run: (k, a) => forEachDevice(k, a, true, (bo, gpu) => mapBoToVm(k.w, bo, gpu)),
});

// kfd_ioctl_unmap_memory_from_gpu (kfd_chardev.c), spec §7.2
export const unmapMemoryFromGpu = register<MapArgs>({
  name: 'AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_unmap_memory_from_gpu (kfd_chardev.c), spec §7.2',
  checks: [
    'n_devices == 0 → -EINVAL',
    'n_success > n_devices → -EINVAL',
    'device_ids shorter than n_devices (copy_from_user) → -EFAULT',
    'no pdd for GET_GPU_ID(handle) → -EINVAL',
    'no BO at the handle → -ENOMEM',
    'for i = n_success..n_devices-1: peer pdd missing → -EINVAL; BO not mapped in that VM → -EINVAL; then n_success = i + 1',
  ],
  args,
  out: ['n_success'],
  run: (k, a) => forEachDevice(k, a, false, (bo, gpu) => unmapBoFromVm(k.w, bo, gpu)),
});
