/**
 * kfd_process.c and kfd_device_queue_manager.c pieces shared by several ioctls:
 * process creation, binding, queue eviction, compute-VM initialisation.
 */
import type { PddContext } from '../../../../machines/kfd/pdd.js';
import type { QueueContext } from '../../../../machines/kfd/queue.js';
import { ERRNO } from '../../../uapi/errno.js';
import { fileGet } from '../../../world/fds.js';
import { idrAlloc } from '../../../world/idr.js';
import { contextOf, createObject, inState, send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { gpuById, pdd } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { allocInternalBo } from './gpuvm.js';

/** kfd_create_process → create_process: the kfd_process of an mm, with a pdd per GPU. */
export function createKfdProcess(w: World, task: Task): void {
  task.kfd_process = createObject(w, 'kfd.process', { pid: task.pid, xnack_enabled: false });
  task.pdds = w.topology.gpus.map((g) => createObject(w, 'kfd.pdd', { pid: task.pid, gpu_id: g.gpu_id }));
}

/** kfd_process_xnack_mode(p, supported): XNACK can be on only if every GPU supports it. */
export function xnackModeSupported(w: World): boolean {
  return w.topology.gpus.every((g) => g.xnack_capable);
}

/** kfd_bind_process_to_device (spec §7.1): returns the pdd id or fails with the kernel's errno. */
export function bindProcessToDevice(w: World, task: Task, gpuId: number): string {
  const id = task.pdds.find((p) => pdd(w, p).gpu_id === gpuId);
  // "Process device data doesn't exist"
  if (!id) fail(-ERRNO.ENOMEM);
  if (!pdd(w, id).drm_file) fail(-ERRNO.ENODEV);
  send(w, id, { type: 'BIND' });
  return id;
}

/**
 * kfd_process_device_create_obj_handle: idr_alloc(&pdd->alloc_idr, mem, 0, 0), the
 * lowest free handle up to INT_MAX; null when the IDR is full (callers map it to their errno).
 */
export function createObjHandle(w: World, pddId: string, boId: string): number | null {
  return idrAlloc(w, pddId, boId);
}

/** Queues of a pdd that exist (not destroyed). */
function queuesOf(w: World, pddId: string): string[] {
  return pdd(w, pddId).queues;
}

/** evict_process_queues_*: qpd->evicted++; the first eviction takes the queues off the hardware. */
export function evictPddQueues(w: World, pddId: string): void {
  const wasRunning = pdd(w, pddId).evicted === 0;
  send(w, pddId, { type: 'EVICT_QUEUES' });
  if (wasRunning) for (const q of queuesOf(w, pddId)) if (inState(w, q, 'active')) send(w, q, { type: 'EVICT' });
}

/** restore_process_queues_*: the last reference puts the queues back. */
export function restorePddQueues(w: World, pddId: string): void {
  const lastRef = pdd(w, pddId).evicted === 1;
  send(w, pddId, { type: 'RESTORE_QUEUES' });
  if (lastRef) for (const q of queuesOf(w, pddId)) if (inState(w, q, 'evicted')) send(w, q, { type: 'RESTORE' });
}

/** kfd_process_evict_queues(p, trigger): every pdd (hws errors are not modelled, so it cannot fail). */
export function evictProcessQueues(w: World, task: Task): void {
  for (const id of task.pdds) evictPddQueues(w, id);
}

/** kfd_process_restore_queues(p) */
export function restoreProcessQueues(w: World, task: Task): void {
  for (const id of task.pdds) restorePddQueues(w, id);
}

/** The queue contexts of a task, per pdd in p->pdds order then qpd->queues_list order. */
export function processQueues(w: World, task: Task): QueueContext[] {
  return task.pdds.flatMap((p) => pdd(w, p).queues.map((q) => contextOf<QueueContext>(w, q)));
}

/**
 * kfd_process_device_init_vm(pdd, drm_file): make the render-node file's VM the
 * compute VM of this pdd; creates the IB and (dGPU) CWSR BOs below gpuvm_base.
 * Returns 0 or the errno (callers differ in how they report it).
 */
export function initVm(w: World, task: Task, pddId: string, drmFileId: string): number {
  const file = w.files[drmFileId];
  const p: PddContext = pdd(w, pddId);
  if (!file) return -ERRNO.EINVAL;
  if (p.drm_file) return -ERRNO.EBUSY;
  // amdgpu_file_to_fpriv: not an amdgpu render-node file.
  if (file.kind !== 'drm' || file.gpu_id !== p.gpu_id) return -ERRNO.EINVAL;
  // amdgpu_amdkfd_gpuvm_acquire_process_vm: "Already a compute VM"
  if (file.compute_vm_pid !== null) return -ERRNO.EINVAL;
  file.compute_vm_pid = task.pid;
  fileGet(w, drmFileId);
  const gpu = gpuById(w, p.gpu_id)!;
  const page = BigInt(w.topology.page_size);
  // kfd_flat_memory.c: SVM_CWSR_BASE = gpuvm_base - TBA/TMA (2 pages), SVM_IB_BASE = CWSR - 1 page.
  const cwsrBase = gpu.gpuvm_base - 2n * page;
  const internal = [allocInternalBo(w, task, p.gpu_id, cwsrBase - page, page)];
  if (!gpu.is_apu) internal.push(allocInternalBo(w, task, p.gpu_id, cwsrBase, 2n * page));
  send(w, pddId, { type: 'INIT_VM', drm_file: drmFileId, internal_bos: internal });
  return 0;
}
