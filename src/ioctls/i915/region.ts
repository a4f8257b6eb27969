/**
 * The model's one i915 device and its LMEM regions of I915_LMEM_PAGES pages each
 * (spec C.5): their objects, walked in the order of a region's list
 * (i915_gem_process_region: newest first, the first error stops the walk and rotates the
 * list), room made in a region by evicting its unpinned objects least recently used
 * first, and the region passes i915_ttm_{backup,restore,recover}_region that the suspend
 * and resume sequences (pm.ts) and the calls of their own run. The device object
 * (machines/i915/suspend.ts) is created by `i915.probe` with its number of regions, or
 * with one region on the first other i915 call.
 */
import {
  type CopyEngine,
  type LmemObjectContext,
  lmemObjectContextSpec,
  type LmemObjectEvent,
  lmemObjectMachine,
  lmemResult,
} from '../../../machines/i915/lmem-object.js';
import {
  type I915DeviceContext,
  i915DeviceContextSpec,
  type I915DeviceEvent,
  type I915DeviceInput,
  i915DeviceMachine,
  I915_MAX_LMEM_REGIONS,
} from '../../../machines/i915/suspend.js';
import { ERRNO } from '../../uapi/errno.js';
import type { FaultSite } from '../../world/faults.js';
import { canSend, contextOf, createObject, inState, registerMachine, send } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import {
  findSingletonObject,
  liveObjectId,
  liveObjects,
  type NoFaults,
  sendWithFaults,
  singletonObject,
} from '../internal-objects.js';

export const OBJ_KIND = 'i915.lmem_object';
export const DEVICE_KIND = 'i915.device';
registerMachine(OBJ_KIND, lmemObjectMachine, lmemObjectContextSpec);
registerMachine(DEVICE_KIND, i915DeviceMachine, i915DeviceContextSpec);

/** Pages of each LMEM region of the model (4 MiB of 4 KiB pages). */
export const I915_LMEM_PAGES = 1024;

/** LMEM regions a device may have: INTEL_REGION_LMEM_0 to _3 (intel_memory_region.h), one per tile. */
export { I915_MAX_LMEM_REGIONS };

/** The singleton device's world id, created with one LMEM region on first use. */
export function i915Device(w: World): string {
  return singletonObject(w, DEVICE_KIND, { lmem_pages: I915_LMEM_PAGES, regions: 1 } satisfies I915DeviceInput);
}

/** Whether the device exists already (probed, or created by an earlier call). */
export function i915Probed(w: World): boolean {
  return findSingletonObject(w, DEVICE_KIND) !== undefined;
}

/** Create the device with `regions` LMEM regions (i915.probe checks it does not exist yet). */
export function i915CreateDevice(w: World, regions: number): void {
  createObject(w, DEVICE_KIND, { lmem_pages: I915_LMEM_PAGES, regions } satisfies I915DeviceInput);
}

/**
 * How many LMEM regions the device has: one before it exists (the device a first i915 call
 * creates). Asking does not create it, so a call refused for its region (-ENODEV) leaves
 * the device unprobed and a later i915.probe still works.
 */
export function lmemRegions(w: World): number {
  const d = findSingletonObject(w, DEVICE_KIND);
  return d === undefined ? 1 : contextOf<I915DeviceContext>(w, d).regions.length;
}

/** `region` names an LMEM region of the device. */
export function isLmemRegion(w: World, region: number): boolean {
  return region < lmemRegions(w);
}

/** The LMEM region object `id` belongs to. */
function regionOf(w: World, id: string): number {
  return contextOf<LmemObjectContext>(w, id).region;
}

/** Every live i915 object, in LMEM or not, in creation order. */
export function regionObjects(w: World): string[] {
  return liveObjects(w, OBJ_KIND);
}

/**
 * i915_gem_process_region (spec C.5): visit the objects of LMEM region `region`'s list from
 * its head (objects in system memory are on the SMEM region's list, not visited). The first
 * error stops the walk; the objects processed by then go to the tail of the list
 * (list_splice_tail of still_in_list), so the next walk starts with those it did not reach.
 */
function processRegion(w: World, region: number, visit: (id: string) => number): number {
  const list = [...contextOf<I915DeviceContext>(w, i915Device(w)).regions[region]!.objects];
  const processed: string[] = [];
  for (const id of list) {
    processed.push(id);
    const r = visit(id);
    if (r) {
      dev(w, { type: 'WALK_STOPPED', region, processed });
      return r;
    }
  }
  return 0;
}

/** The object is now in LMEM (created there, or moved back): the head of its region's list. */
export function placedInLmem(w: World, id: string): void {
  dev(w, { type: 'PLACED', obj: id, region: regionOf(w, id) });
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

function lmemUsed(w: World, region: number): number {
  let used = 0;
  for (const id of regionObjects(w)) {
    const c = contextOf<LmemObjectContext>(w, id);
    if (c.placement === 'lmem' && c.region === region) used += c.pages;
  }
  return used;
}

/**
 * Make room for `pages` in LMEM region `region`: evict its unpinned objects to SMEM, least
 * recently used first (TTM eviction within the region's manager). 0, -ENOSPC when only
 * pinned objects are left, or the copy errno.
 */
export function makeRoom(w: World, region: number, pages: number, except?: string): number {
  const d = i915Device(w);
  const mr = () => contextOf<I915DeviceContext>(w, d).regions[region]!;
  const cap = mr().pages;
  let used = lmemUsed(w, region);
  if (pages > cap) return -ERRNO.ENOSPC;
  while (used + pages > cap) {
    const lru = mr().lru;
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
  const c = contextOf<LmemObjectContext>(w, id);
  const r = makeRoom(w, c.region, c.pages, id);
  if (r) return r;
  const m = objEvent(w, id, { type: 'MIGRATE' }, -ERRNO.EBUSY);
  if (m === 0) placedInLmem(w, id);
  return m;
}

/** New work on the GPU: an idle GT unparks. */
export function unparkGt(w: World): void {
  dev(w, { type: 'GT_UNPARK' });
}

export function touch(w: World, id: string): void {
  dev(w, { type: 'USED', obj: id, region: regionOf(w, id) });
}

/** i915_ttm_backup_region (C.2, C.5) of LMEM region `region`: an object it evicts moves to the SMEM region. */
export function backupRegion(w: World, region: number, allowGpu: boolean, pinned: boolean): number {
  const engine = engineOf(w, allowGpu);
  return processRegion(w, region, (id) => {
    const r = objEvent(w, id, { type: 'BACKUP', allow_gpu: allowGpu, pinned, engine }, 0);
    if (contextOf<LmemObjectContext>(w, id).placement === 'smem') dev(w, { type: 'FORGET', obj: id });
    return r;
  });
}

/** i915_ttm_restore_region (C.3, C.5) of LMEM region `region`. */
export function restoreRegion(w: World, region: number, allowGpu: boolean): number {
  const engine = engineOf(w, allowGpu);
  return processRegion(w, region, (id) => objEvent(w, id, { type: 'RESTORE', allow_gpu: allowGpu, engine }, 0));
}

/** i915_ttm_recover_region (C.4) of LMEM region `region`: never stops. */
export function recoverRegion(w: World, region: number): void {
  processRegion(w, region, (id) => {
    objEvent(w, id, { type: 'RECOVER' }, 0);
    return 0;
  });
}
