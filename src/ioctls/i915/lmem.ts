/**
 * The `i915.*` events (docs/ttm-i915-events.md): i915 LMEM objects and the suspend /
 * resume sequence that backs them up (spec C.1–C.9). Kernel-internal: no pid.
 *
 * The model has one i915 device with one LMEM region of I915_LMEM_PAGES pages; its
 * objects are iterated in creation order (i915_gem_process_region, C.5: the first
 * error stops the walk). The device object (machines/i915/suspend.ts) is created on
 * first use.
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
import { type FaultSite, faultHit, planOf, storePlan } from '../../world/faults.js';
import { canSend, contextOf, createObject, inState, registerMachine, send } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import { register } from '../registry.js';
import { bool, flags, u32 } from '../schema.js';

export const OBJ_KIND = 'i915.lmem_object';
export const DEVICE_KIND = 'i915.device';
registerMachine(OBJ_KIND, lmemObjectMachine);
registerMachine(DEVICE_KIND, i915DeviceMachine);

/** Pages of the model's LMEM region (4 MiB of 4 KiB pages). */
export const I915_LMEM_PAGES = 1024;

/**
 * i915.create flags: the kernel's I915_BO_ALLOC_* bits (i915_gem_object_types.h, spec
 * C.1) and PINNED, a model flag (no kernel bit) for an object pinned at creation.
 */
export const I915_CREATE_FLAGS = {
  USER: 1 << 3,
  PM_VOLATILE: 1 << 4,
  PM_EARLY: 1 << 5,
  PINNED: 1 << 30,
} as const;

/** The singleton device's world id, created on first use. */
export function i915Device(w: World): string {
  for (const [id, rec] of Object.entries(w.objects)) if (rec.kind === DEVICE_KIND) return id;
  return createObject(w, DEVICE_KIND, { lmem_pages: I915_LMEM_PAGES });
}

function numberOf(id: string): number {
  return Number(id.slice(id.indexOf('#') + 1));
}

/** The live objects of the region in creation order. */
export function regionObjects(w: World): string[] {
  return Object.keys(w.objects)
    .filter((id) => w.objects[id]!.kind === OBJ_KIND && !inState(w, id, 'destroyed'))
    .sort((a, b) => numberOf(a) - numberOf(b));
}

/** The world id of object number `n` if it is a live i915 object. */
export function i915ObjId(w: World, n: number): string | undefined {
  const id = `${OBJ_KIND}#${n}`;
  return w.objects[id]?.kind === OBJ_KIND && !inState(w, id, 'destroyed') ? id : undefined;
}

const SITES: Partial<Record<LmemObjectEvent['type'], readonly FaultSite[]>> = {
  EVICT: ['i915.copy'],
  MIGRATE: ['i915.copy'],
  BACKUP: ['i915.populate', 'i915.copy'],
  RESTORE: ['i915.populate', 'i915.copy'],
};

type NoFaults<E> = E extends { faults: unknown } ? Omit<E, 'faults'> : E;

/** Run one object event; `refused` is returned when the machine does not take it. */
export function objEvent(w: World, id: string, e: NoFaults<LmemObjectEvent>, refused: number): number {
  const sites = SITES[e.type] ?? [];
  const event = (sites.length ? { ...e, faults: planOf(w, sites) } : e) as LmemObjectEvent;
  if (!canSend(w, id, event)) return refused;
  const r = lmemResult(contextOf<LmemObjectContext>(w, id), event);
  send(w, id, event);
  if (sites.length) storePlan(w, sites, r.plan);
  return r.ret;
}

function dev(w: World, e: I915DeviceEvent): void {
  const d = i915Device(w);
  if (canSend(w, d, e)) send(w, d, e);
}

export function deviceSuspended(w: World): boolean {
  const d = i915Device(w);
  return !inState(w, d, 'pm.running');
}

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

/** i915_gem_suspend: idle the GT; it may end wedged (fault site i915.gt_wedged). */
function gemSuspend(w: World): void {
  if (gtWedged(w)) return;
  if (faultHit(w, 'i915.gt_wedged')) dev(w, { type: 'GT_WEDGE' });
  else dev(w, { type: 'GT_IDLE' });
}

const NO_OBJ = 'obj not a live i915 object → -EINVAL (model)';
const SUSPENDED = 'the device is suspended (or between suspend steps) → -EBUSY (model: processes are frozen)';

/**
 * An internal call on one live object (`obj`, no outputs): NO_OBJ and SUSPENDED are
 * checked first, in that order, then `run` with the object's world id; `checks` lists
 * what `run` checks after them.
 */
function registerObjectCall(def: {
  name: string;
  models: string;
  checks: string[];
  run: (w: World, id: string) => number;
}) {
  return register<{ obj: number }>({
    name: def.name,
    kind: 'internal',
    needsPid: false,
    models: def.models,
    checks: [NO_OBJ, SUSPENDED, ...def.checks],
    args: { obj: u32 },
    out: [],
    run({ w }, a) {
      const id = i915ObjId(w, a.obj);
      if (!id) return -ERRNO.EINVAL;
      if (deviceSuspended(w)) return -ERRNO.EBUSY;
      return def.run(w, id);
    },
  });
}

export const i915Create = register<{ pages: number; flags: number; obj?: number }>({
  name: 'i915.create',
  kind: 'internal',
  needsPid: false,
  models:
    'i915_gem_object_create_lmem with I915_BO_ALLOC_* flags (spec C.1), placed in LMEM at once; PINNED pins it (kernel objects such as page tables)',
  checks: [
    'pages 0 → -EINVAL',
    SUSPENDED,
    'no room in LMEM after evicting every unpinned object (least recently used first) → -ENOSPC; an eviction copy fails (i915.copy) → that errno',
  ],
  args: { pages: u32, flags: flags(I915_CREATE_FLAGS, 'I915_BO_ALLOC_') },
  out: ['obj'],
  run({ w }, a) {
    if (a.pages === 0) return -ERRNO.EINVAL;
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    const r = makeRoom(w, a.pages);
    if (r) return r;
    const id = createObject(w, OBJ_KIND, {
      pages: a.pages,
      early: (a.flags & I915_CREATE_FLAGS.PM_EARLY) !== 0,
      volatile: (a.flags & I915_CREATE_FLAGS.PM_VOLATILE) !== 0,
      user: (a.flags & I915_CREATE_FLAGS.USER) !== 0,
      variant: w.variants.i915 ?? 'final',
    });
    touch(w, id);
    if (a.flags & I915_CREATE_FLAGS.PINNED) send(w, id, { type: 'PIN' });
    a.obj = numberOf(id);
    return 0;
  },
});

export const i915Pin = registerObjectCall({
  name: 'i915.pin',
  models: 'i915_gem_object_pin_pages on an LMEM object (moved back to LMEM first if evicted)',
  checks: [
    'backed up, or left without backup by a pinned pass → -EBUSY (model: its suspend is under way)',
    'evicted and no room in LMEM → -ENOSPC; the move fails (i915.copy) → that errno',
  ],
  run(w, id) {
    const r = bringBack(w, id);
    if (r) return r;
    const ret = objEvent(w, id, { type: 'PIN' }, -ERRNO.EBUSY);
    if (ret === 0) touch(w, id);
    return ret;
  },
});

export const i915Unpin = registerObjectCall({
  name: 'i915.unpin',
  models: 'i915_gem_object_unpin_pages',
  checks: ['not pinned → -EINVAL (model)', 'backed up, or left without backup by a pinned pass → -EBUSY (model)'],
  run(w, id) {
    if (inState(w, id, 'resident') || inState(w, id, 'evicted')) return -ERRNO.EINVAL;
    return objEvent(w, id, { type: 'UNPIN' }, -ERRNO.EBUSY);
  },
});

export const i915Destroy = registerObjectCall({
  name: 'i915.destroy',
  models: 'the object’s release: i915_ttm_backup_free (put the backup, clear the pointer), free the object (spec C.4)',
  checks: [],
  run(w, id) {
    const r = objEvent(w, id, { type: 'DESTROY' }, -ERRNO.EBUSY);
    dev(w, { type: 'FORGET', obj: id });
    return r;
  },
});

export const i915Suspend = register<Record<string, never>>({
  name: 'i915.suspend',
  kind: 'internal',
  needsPid: false,
  models:
    'i915_drm_prepare → i915_gem_backup_suspend (spec C.6), then the device powers down (LMEM content is lost): 1. lmem_suspend(ALLOW_GPU), 2. i915_gem_suspend, 3. lmem_suspend(ALLOW_GPU | PINNED), 4. lmem_suspend(PINNED); an error → lmem_recover and the error',
  checks: [
    'not running (already suspended) → -EBUSY (model: the PM core never suspends a suspended device)',
    'a step fails (i915.copy on an eviction or backup copy, i915.populate on a backup object) → every backup freed (lmem_recover), that errno; the device keeps running',
    'step 2: the GT cannot be idled (i915.gt_wedged) → it is wedged; later blitter copies fall back to memcpy',
  ],
  args: {},
  out: [],
  run({ w }) {
    const d = i915Device(w);
    if (!inState(w, d, 'pm.running')) return -ERRNO.EBUSY;
    dev(w, { type: 'SUSPEND' });
    const fail = (r: number) => {
      dev(w, { type: 'STEP_FAILED' });
      recoverRegion(w);
      dev(w, { type: 'RECOVERED' });
      return r;
    };
    let r = backupRegion(w, true, false);
    if (r) return fail(r);
    dev(w, { type: 'STEP_OK' });
    gemSuspend(w);
    dev(w, { type: 'STEP_OK' });
    r = backupRegion(w, true, true);
    if (r) return fail(r);
    dev(w, { type: 'STEP_OK' });
    r = backupRegion(w, false, true);
    if (r) return fail(r);
    dev(w, { type: 'STEP_OK' });
    // After step 4 every object is in SMEM, backed up or PM_VOLATILE: LMEM powers down.
    for (const id of regionObjects(w)) send(w, id, { type: 'POWER_OFF' });
    return 0;
  },
});

export const i915Resume = register<Record<string, never>>({
  name: 'i915.resume',
  kind: 'internal',
  needsPid: false,
  models:
    'i915_gem_resume (spec C.7): 1. lmem_restore(0) (memcpy, PM_EARLY), 2. intel_gt_resume, 3. lmem_restore(ALLOW_GPU); restore errors only WARN',
  checks: [
    'not suspended → -EBUSY (model)',
    'a restore error (i915.populate, i915.copy) → WARN, the walk of that pass stops; resume still returns 0',
    'step 2: the GT cannot be re-initialised (i915.gt_wedged) → wedged, step 3 skipped; returns 0',
  ],
  args: {},
  out: [],
  run({ w }) {
    const d = i915Device(w);
    if (!inState(w, d, 'pm.suspended')) return -ERRNO.EBUSY;
    dev(w, { type: 'RESUME' });
    restoreRegion(w, false);
    dev(w, { type: 'STEP_OK' });
    if (faultHit(w, 'i915.gt_wedged')) {
      dev(w, { type: 'GT_WEDGE' });
      dev(w, { type: 'STEP_FAILED' });
      return 0;
    }
    dev(w, { type: 'GT_RESET' });
    dev(w, { type: 'STEP_OK' });
    restoreRegion(w, true);
    dev(w, { type: 'STEP_OK' });
    return 0;
  },
});

export const i915BackupRegion = register<{ allow_gpu: boolean; pinned: boolean }>({
  name: 'i915.backup_region',
  kind: 'internal',
  needsPid: false,
  models: 'i915_ttm_backup_region(LMEM, ALLOW_GPU? | PINNED?) on its own (spec C.2, C.5)',
  checks: [
    'the device is suspended → -EBUSY (model: use i915.resume)',
    'per object, in order: in SMEM or already backed up → skip; allow_gpu and unpinned → evict to SMEM; not a pinned pass, or allow_gpu and PM_EARLY → skip; PM_VOLATILE → skip; else back up (i915.populate, i915.copy)',
    'the first object error stops the walk and is returned',
  ],
  args: { allow_gpu: bool, pinned: bool },
  out: [],
  run({ w }, a) {
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    return backupRegion(w, a.allow_gpu, a.pinned);
  },
});

export const i915RestoreRegion = register<{ allow_gpu: boolean }>({
  name: 'i915.restore_region',
  kind: 'internal',
  needsPid: false,
  models: 'i915_ttm_restore_region(LMEM, ALLOW_GPU?) on its own (spec C.3, C.5)',
  checks: [
    'the device is suspended → -EBUSY (model: use i915.resume)',
    'per object, in order: no backup → skip; not allow_gpu and not PM_EARLY → skip; backup populate fails (i915.populate) → that errno, the backup kept (final) or its reference dropped with the pointer kept (v2-restore-put); a copy error only WARNs (content lost)',
    'the first object error stops the walk and is returned',
  ],
  args: { allow_gpu: bool },
  out: [],
  run({ w }, a) {
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    return restoreRegion(w, a.allow_gpu);
  },
});

export const i915RecoverRegion = register<Record<string, never>>({
  name: 'i915.recover_region',
  kind: 'internal',
  needsPid: false,
  models: 'i915_ttm_recover_region(LMEM) (spec C.4): i915_ttm_backup_free on every object',
  checks: ['the device is suspended → -EBUSY (model)'],
  args: {},
  out: [],
  run({ w }) {
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    recoverRegion(w);
    return 0;
  },
});

export const i915GtIdle = register<Record<string, never>>({
  name: 'i915.gt_idle',
  kind: 'internal',
  needsPid: false,
  models: 'i915_gem_suspend on its own (spec C.6 step 2): the GT is idled, or wedged (i915.gt_wedged)',
  checks: ['the device is suspended → -EBUSY (model)', 'already wedged → 0 (no-op)'],
  args: {},
  out: [],
  run({ w }) {
    if (deviceSuspended(w)) return -ERRNO.EBUSY;
    gemSuspend(w);
    return 0;
  },
});
