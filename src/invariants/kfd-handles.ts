/**
 * `kfd.handles-unique` (docs/invariants.md): every namespace of a KFD process hands out
 * each handle once. A process has one pdd per GPU and distinct user gpu_ids (so
 * kfd_process_device_data_by_id finds one), a BO sits in one idr slot of one pdd (or in
 * one pdd's kernel BOs), idr handles are in 0..INT_MAX, and the queue and event tables
 * are keyed by the ids their objects carry.
 */
import type { EventContext } from '../../machines/kfd/event.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import { allocIdr } from '../world/idr.js';
import type { Task, World } from '../world/types.js';
import type { Violation } from './index.js';
import { ctx } from './kfd-world.js';

export function handlesUnique(w: World): Violation[] {
  const out: Violation[] = [];
  // Where each BO was first seen, across every task: a BO is held by one slot in the world.
  const slot = new Map<string, Slot>();
  for (const t of Object.values(w.tasks)) {
    pddHandles(w, t, slot, out);
    queueIds(w, t, out);
    eventIds(w, t, out);
  }
  return out;
}

/** One pdd per GPU and per user gpu_id in a task, then the BO slots of each pdd. */
function pddHandles(w: World, t: Task, slot: Map<string, Slot>, out: Violation[]): void {
  const gpus = new Map<number, string>();
  const users = new Map<number, string>();
  /** Reports a second pdd under `key` (a GPU, a user gpu_id), then records `pddId` there. */
  const once = (seen: Map<number, string>, key: number, what: string, pddId: string) => {
    const first = seen.get(key);
    if (first)
      out.push({ message: `task ${t.pid} has two pdds ${what}: ${first} and ${pddId}`, objects: [first, pddId] });
    seen.set(key, pddId);
  };
  for (const pddId of t.pdds) {
    const p = ctx<PddContext>(w, pddId, 'kfd.pdd');
    if (!p) continue; // kfd.refs-live reports it
    once(gpus, p.gpu_id, `for gpu_id ${p.gpu_id}`, pddId);
    once(users, p.user_gpu_id, `with user_gpu_id ${p.user_gpu_id}`, pddId);
    boSlots(w, pddId, p, slot, out);
    idrHandleRange(w, pddId, out);
  }
}

/** A slot that holds a BO: a pdd's alloc_idr handle or its index in the pdd's kernel BOs. */
interface Slot {
  pdd: string;
  idr: boolean;
  at: string | number;
}

const slotName = (s: Slot) => (s.idr ? `${s.pdd} alloc_idr[${s.at}]` : `${s.pdd} internal_bos[${s.at}]`);

/**
 * Each BO of a pdd (alloc_idr slots, then kernel BOs) is held by no other slot. A slot is
 * named only when it is reported: a check meets every BO of the world here.
 */
function boSlots(w: World, pddId: string, p: PddContext, slot: Map<string, Slot>, out: Violation[]): void {
  const hold = (boId: string, where: Slot) => {
    const seen = slot.get(boId);
    if (seen)
      out.push({
        message: `${boId} is held twice: by ${slotName(seen)} and by ${slotName(where)}`,
        objects: [boId, pddId],
      });
    else slot.set(boId, where);
  };
  const idr = allocIdr(w, pddId);
  for (const h of Object.keys(idr)) hold(idr[Number(h)]!, { pdd: pddId, idr: true, at: h });
  p.internal_bos.forEach((b, i) => hold(b, { pdd: pddId, idr: false, at: i }));
}

/** idr_alloc hands out handles in 0..INT_MAX. */
function idrHandleRange(w: World, pddId: string, out: Violation[]): void {
  for (const h of Object.keys(allocIdr(w, pddId))) {
    const n = Number(h);
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff)
      out.push({ message: `${pddId} alloc_idr has a handle ${h} outside 0..INT_MAX`, objects: [pddId] });
  }
}

/** A queue's table key is its queue_id, and no queue sits under two ids. */
function queueIds(w: World, t: Task, out: Violation[]): void {
  const queues = new Map<string, number>();
  for (const [k, q] of Object.entries(t.queues)) {
    const c = ctx<QueueContext>(w, q, 'kfd.queue');
    if (c && c.queue_id !== Number(k))
      out.push({ message: `task ${t.pid} queues[${k}] is ${q} whose queue_id is ${c.queue_id}`, objects: [q] });
    const seen = queues.get(q);
    if (seen !== undefined)
      out.push({ message: `${q} is queue ${seen} and queue ${k} of task ${t.pid}`, objects: [q] });
    queues.set(q, Number(k));
  }
}

/** An event's table key is its event_id. */
function eventIds(w: World, t: Task, out: Violation[]): void {
  for (const [k, e] of Object.entries(t.events)) {
    const c = ctx<EventContext>(w, e, 'kfd.event');
    if (c && c.event_id !== Number(k))
      out.push({ message: `task ${t.pid} events[${k}] is ${e} whose event_id is ${c.event_id}`, objects: [e] });
  }
}
