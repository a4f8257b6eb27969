/** CREATE/DESTROY/SET/RESET_EVENT (spec §7.2, §5.2.2). */
import { ERRNO } from '../../uapi/errno.js';
import { KFD_IOC_EVENT, KFD_MMAP_TYPE } from '../../uapi/index.js';
import type { EventContext } from '../../../machines/kfd/event.js';
import { canSend, contextOf, dropObject, send } from '../../world/objects.js';
import { register } from '../registry.js';
import { enumOf, u32, u64 } from '../schema.js';
import { createEvent, kmapEventPage } from './kernel/events.js';

interface CreateEventArgs {
  event_page_offset: bigint;
  event_trigger_data: number;
  event_type: number;
  auto_reset: number;
  node_id: number;
  event_id: number;
  event_slot_index: number;
}

// kfd_ioctl_create_event (kfd_chardev.c) → kfd_event_create (kfd_events.c), spec §7.2
export const createEventIoctl = register<CreateEventArgs>({
  name: 'AMDKFD_IOC_CREATE_EVENT',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_create_event (kfd_chardev.c), spec §7.2',
  checks: [
    'event_page_offset set: signal page already set → -EINVAL; no pdd for its gpu → -EINVAL; no VM → -ENODEV; no BO → -EINVAL; userptr BO → -EINVAL',
    'SIGNAL/DEBUG: every slot of the signal page used → -ENOSPC',
  ],
  args: {
    event_page_offset: u64,
    event_trigger_data: u32,
    event_type: enumOf(KFD_IOC_EVENT, 'KFD_IOC_EVENT_'),
    auto_reset: u32,
    node_id: u32,
    event_id: u32,
    event_slot_index: u32,
  },
  out: ['event_page_offset', 'event_trigger_data', 'event_id', 'event_slot_index'],
  run({ w, task }, a) {
    if (a.event_page_offset !== 0n) kmapEventPage(w, task, a.event_page_offset);
    const id = createEvent(
      w,
      task,
      {
        type: a.event_type,
        auto_reset: a.auto_reset !== 0,
        memory_exception_data: null,
        hw_exception_data: null,
      },
      null,
    );
    a.event_id = id;
    a.event_trigger_data = id;
    // kfd_event_create: the page offset is 0 unless the event has a slot in the signal page;
    // only then is event_slot_index written (other events return the caller's value).
    a.event_page_offset = 0n;
    if (a.event_type === KFD_IOC_EVENT.SIGNAL || a.event_type === KFD_IOC_EVENT.DEBUG_EVENT) {
      a.event_page_offset = KFD_MMAP_TYPE.EVENTS;
      a.event_slot_index = id;
    }
    return 0;
  },
});

// kfd_ioctl_destroy_event → kfd_event_destroy (kfd_events.c), spec §7.2
export const destroyEvent = register<{ event_id: number; pad: number }>({
  name: 'AMDKFD_IOC_DESTROY_EVENT',
  kind: 'ioctl',
  driver: 'kfd',
  needsPid: true,
  models: 'kfd_ioctl_destroy_event (kfd_chardev.c), spec §7.2',
  checks: ['unknown event_id → -EINVAL'],
  args: { event_id: u32, pad: u32 },
  out: [],
  run({ w, task }, a) {
    const id = task.events[a.event_id];
    if (id === undefined) return -ERRNO.EINVAL;
    send(w, id, { type: 'DESTROY' });
    delete task.events[a.event_id];
    dropObject(w, id);
    return 0;
  },
});

function setOrReset(kind: 'SET' | 'RESET') {
  const name = kind === 'SET' ? 'AMDKFD_IOC_SET_EVENT' : 'AMDKFD_IOC_RESET_EVENT';
  // kfd_ioctl_set_event / kfd_ioctl_reset_event (kfd_chardev.c), spec §7.2
  return register<{ event_id: number; pad: number }>({
    name,
    kind: 'ioctl',
    driver: 'kfd',
    needsPid: true,
    models: `kfd_ioctl_${kind.toLowerCase()}_event → kfd_${kind.toLowerCase()}_event (kfd_events.c), spec §7.2`,
    checks: ['unknown event_id → -EINVAL', 'not a SIGNAL event (event_can_be_cpu_signaled) → -EINVAL'],
    args: { event_id: u32, pad: u32 },
    out: [],
    run({ w, task }, a) {
      const id = task.events[a.event_id];
      if (id === undefined) return -ERRNO.EINVAL;
      const ev = kind === 'SET' ? { type: 'SIGNAL' as const } : { type: 'RESET' as const };
      if (contextOf<EventContext>(w, id).type !== KFD_IOC_EVENT.SIGNAL || !canSend(w, id, ev)) return -ERRNO.EINVAL;
      send(w, id, ev);
      return 0;
    },
  });
}

export const setEvent = setOrReset('SET');
export const resetEvent = setOrReset('RESET');
