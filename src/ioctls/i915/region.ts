/**
 * The model's one i915 device and its LMEM region of I915_LMEM_PAGES pages
 * (spec C.5): its objects, iterated in creation order (i915_gem_process_region: the
 * first error stops the walk), room made by evicting unpinned objects least recently
 * used first, and the region passes i915_ttm_{backup,restore,recover}_region that the
 * suspend and resume sequences (pm.ts) and the calls of their own run. The device
 * object (machines/i915/suspend.ts) is created on first use.
 */
import {
  type CopyEngine,
  type LmemObjectContext,
  type LmemObjectEvent,
  lmemObjectMachine,
  lmemResult,
} from '../../../machines/i915/lmem-object.js';
import { type I915DeviceEvent, i915DeviceMachine } from '../../../machines/i915/suspend.js';
import { ERRNO } from '../../uapi/errno.js';
import type { FaultSite } from '../../world/faults.js';
import { canSend, contextOf, inState, registerMachine, send } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { liveObjectId, liveObjects, type NoFaults, sendWithFaults, singletonObject } from '../internal-objects.js';

export const OBJ_KIND = 'i915.lmem_object';
export const DEVICE_KIND = 'i915.device';
registerMachine(OBJ_KIND, lmemObjectMachine);
registerMachine(DEVICE_KIND, i915DeviceMachine);

/** Pages of the model's LMEM region (4 MiB of 4 KiB pages). */
export const I915_LMEM_PAGES = 1024;

/** The singleton device's world id, created on first use. */
export function i915Device(w: World): string {
  return singletonObject(w, DEVICE_KIND, { lmem_pages: I915_LMEM_PAGES });
}

/** The live objects of the region in creation order. */
export function regionObjects(w: World): string[] {
  return liveObjects(w, OBJ_KIND);
}

/** The world id of object number `n` if it is a live i915 object. */
export function i915ObjId(w: World, n: number): string | undefined {
  return liveObjectId(w, OBJ_KIND, n);
}

const SITES: Partial<Record<LmemObjectEvent['type'], readonly FaultSite[]>> = {
  EVICT: ['i915.copy'],
  MIGRATE: ['i915.copy'],
  BACKUP: ['i915.populate', 'i915.copy'],
  RESTORE: ['i915.populate', 'i915.copy'],
};

/** Run one object event; `refused` is returned when the machine does not take it. */
export function objEvent(w: World, id: string, e: NoFaults<LmemObjectEvent>, refused: number): number {
  return sendWithFaults(w, id, e, SITES[e.type] ?? [], lmemResult, () => refused);
}

/** Send the device an event, if its machine takes it in its current state. */
export function dev(w: World, e: I915DeviceEvent): void {
  const d = i915Device(w);
  if (canSend(w, d, e)) send(w, d, e);
}

/** Not running: suspended, or between the steps of a suspend or resume. */
export function deviceSuspended(w: World): boolean {
  const d = i915Device(w);
  return !inState(w, d, 'pm.running');
}

/** The GT is wedged: copies fall back to memcpy, GPU accesses fail. */
export function gtWedged(w: World): boolean {
  return inState(w, i915Device(w), 'gt.wedged');
}

/** The copy engine of a pass: the blitter when allowed and the GT is not wedged, else memcpy. */
function engineOf(w: World, allowGpu: boolean): CopyEngine {
  return allowGpu && !gtWedged(w) ? 'blt' : 'memcpy';
}

function lmemUsed(w: World): number {
  let used = 0;
  for (const id of regionObjects(w)) {
    const c = contextOf<LmemObjectContext>(w, id);
    if (c.placement === 'lmem') used += c.pages;
  }
  return used;
}

/**
 * Make room for `pages` in LMEM: evict unpinned objects to SMEM, least recently used
 * first (TTM eviction). 0, -ENOSPC when only pinned objects are left, or the copy errno.
 */
export function makeRoom(w: World, pages: number, except?: string): number {
  const d = i915Device(w);
  const cap = contextOf<{ lmem_pages: number; lru: string[] }>(w, d).lmem_pages;
  let used = lmemUsed(w);
  if (pages > cap) return -ERRNO.ENOSPC;
  while (used + pages > cap) {
    const lru = contextOf<{ lru: string[] }>(w, d).lru;
    const victim = lru.find((id) => id !== except && inState(w, id, 'resident'));
    if (!victim) return -ERRNO.ENOSPC;
    const r = objEvent(w, victim, { type: 'EVICT' }, -ERRNO.EBUSY);
    if (r) return r;
    dev(w, { type: 'FORGET', obj: victim });
    used -= contextOf<LmemObjectContext>(w, victim).pages;
  }
  return 0;
}

/** Bring an evicted object back to LMEM (on pin or GPU access). */
export function bringBack(w: World, id: string): number {
  if (!inState(w, id, 'evicted')) return 0;
  const r = makeRoom(w, contextOf<LmemObjectContext>(w, id).pages, id);
  if (r) return r;
  return objEvent(w, id, { type: 'MIGRATE' }, -ERRNO.EBUSY);
}

/** New work on the GPU: an idle GT unparks. */
export function unparkGt(w: World): void {
  dev(w, { type: 'GT_UNPARK' });
}

export function touch(w: World, id: string): void {
  dev(w, { type: 'USED', obj: id });
}

/** i915_ttm_backup_region (C.2, C.5): stops at the first error. */
export function backupRegion(w: World, allowGpu: boolean, pinned: boolean): number {
  const engine = engineOf(w, allowGpu);
  for (const id of regionObjects(w)) {
    const wasLmem = contextOf<LmemObjectContext>(w, id).placement === 'lmem';
    const r = objEvent(w, id, { type: 'BACKUP', allow_gpu: allowGpu, pinned, engine }, 0);
    if (wasLmem && contextOf<LmemObjectContext>(w, id).placement === 'smem') dev(w, { type: 'FORGET', obj: id });
    if (r) return r;
  }
  return 0;
}

/** i915_ttm_restore_region (C.3, C.5): stops at the first error. */
export function restoreRegion(w: World, allowGpu: boolean): number {
  const engine = engineOf(w, allowGpu);
  for (const id of regionObjects(w)) {
    const r = objEvent(w, id, { type: 'RESTORE', allow_gpu: allowGpu, engine }, 0);
    if (r) return r;
  }
  return 0;
}

/** i915_ttm_recover_region (C.4). */
export function recoverRegion(w: World): void {
  for (const id of regionObjects(w)) objEvent(w, id, { type: 'RECOVER' }, 0);
}
