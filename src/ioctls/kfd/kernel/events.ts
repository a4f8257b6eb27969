/**
 * kfd_events.c: event ids, the signal page, creation with exact ids on restore
 * (spec §5.2.2, §5.4, §7.2).
 */
import type { EventContext } from '../../../../machines/kfd/event.js';
import type { ProcessContext } from '../../../../machines/kfd/process.js';
import { ERRNO } from '../../../uapi/errno.js';
import { KFD_IOC_ALLOC_MEM_FLAGS as F, GET_GPU_ID, GET_IDR_HANDLE, KFD_IOC_EVENT } from '../../../uapi/index.js';
import { contextOf, createObject, send } from '../../../world/objects.js';
import type { Task, World } from '../../../world/types.js';
import { bo, boByHandle, pdd, pddByUserGpuId } from '../../../world/world.js';
import { fail } from '../../registry.js';
import { bindProcessToDevice } from './process.js';

/** Non-signal events use the upper half of the id space (kfd_events.h). */
export const KFD_FIRST_NONSIGNAL_EVENT_ID = 0x40000000;
export const KFD_LAST_NONSIGNAL_EVENT_ID = 0x7fffffff;
/** Slots of a kernel-allocated signal page (allocate_event_notification_slot). */
export const KERNEL_SIGNAL_PAGE_SLOTS = 256;

function processOf(w: World, task: Task): ProcessContext {
  return contextOf<ProcessContext>(w, task.kfd_process!);
}

/** Slots of the signal page: the user BO's size / 8, or the kernel page's 256. */
function signalSlots(w: World, task: Task): number {
  const p = processOf(w, task);
  if (p.signal_handle === 0n) return KERNEL_SIGNAL_PAGE_SLOTS;
  const pddId = pddByUserGpuId(w, task, GET_GPU_ID(p.signal_handle));
  const boId = pddId ? boByHandle(w, pddId, GET_IDR_HANDLE(p.signal_handle)) : undefined;
  return boId ? Number(bo(w, boId).size / 8n) : KERNEL_SIGNAL_PAGE_SLOTS;
}

/** kfd_kmap_event_page(p, event_page_offset): the user BO becomes the signal page. */
export function kmapEventPage(w: World, task: Task, handle: bigint): void {
  if (processOf(w, task).signal_page) fail(-ERRNO.EINVAL);
  const pddId = pddByUserGpuId(w, task, GET_GPU_ID(handle));
  if (!pddId) fail(-ERRNO.EINVAL);
  bindProcessToDevice(w, task, pdd(w, pddId).gpu_id);
  const boId = boByHandle(w, pddId, GET_IDR_HANDLE(handle));
  // "Can't find BO"
  if (!boId) fail(-ERRNO.EINVAL);
  // amdgpu_amdkfd_gpuvm_map_gtt_bo_to_kernel: a userptr cannot be kmapped.
  if (bo(w, boId).alloc_flags & F.USERPTR) fail(-ERRNO.EINVAL);
  send(w, task.kfd_process!, { type: 'SET_SIGNAL_PAGE', handle });
}

function isSignalType(type: number): boolean {
  return type === KFD_IOC_EVENT.SIGNAL || type === KFD_IOC_EVENT.DEBUG_EVENT;
}

/**
 * kfd_event_create: SIGNAL/DEBUG events take a signal slot (lowest free id ≥ 1, slot 0
 * is reserved at process init), others the non-signal range; `restoreId` asks for an
 * exact id (CRIU). Returns the event id.
 */
export function createEvent(
  w: World,
  task: Task,
  ev: Omit<EventContext, 'pid' | 'event_id'>,
  restoreId: number | null,
): number {
  const used = (id: number) => id === 0 || task.events[id] !== undefined;
  let id: number | null = null;
  if (isSignalType(ev.type)) {
    const slots = signalSlots(w, task);
    const count = Object.keys(task.events).filter((k) => Number(k) < KFD_FIRST_NONSIGNAL_EVENT_ID).length;
    if (processOf(w, task).signal_page && count >= slots) fail(-ERRNO.ENOSPC);
    if (!processOf(w, task).signal_page) send(w, task.kfd_process!, { type: 'ALLOC_SIGNAL_PAGE' });
    if (restoreId !== null) id = used(restoreId) ? null : restoreId;
    else for (let i = 1; i < slots && id === null; i++) if (!used(i)) id = i;
    if (id === null) fail(-ERRNO.ENOSPC);
  } else if (ev.type === KFD_IOC_EVENT.MEMORY || ev.type === KFD_IOC_EVENT.HW_EXCEPTION || restoreId === null) {
    if (restoreId !== null) id = used(restoreId) ? null : restoreId;
    else
      for (let i = KFD_FIRST_NONSIGNAL_EVENT_ID; i <= KFD_LAST_NONSIGNAL_EVENT_ID && id === null; i++)
        if (!used(i)) id = i;
    if (id === null) fail(-ERRNO.ENOSPC);
  } else {
    // kfd_criu_restore_event: other types fall through the switch; nothing is created. [DERIVED]
    return -1;
  }
  // Object.assign, not a spread followed by new keys (V8's slow path, paid by every event).
  task.events[id] = createObject(w, 'kfd.event', Object.assign({}, ev, { pid: task.pid, event_id: id }));
  return id;
}
