/**
 * The `xe.*` events (docs/ttm-i915-events.md): Xe buffer objects and the pinned-BO
 * list walks of suspend / resume (spec C.10). Kernel-internal: no pid.
 *
 * Lists are walked in BO creation order (the kernel's list order after earlier moves
 * is not modelled). `xe_bo_apply_to_pinned` stops at the first error; the BOs already
 * processed stay on the destination list, the failing one and the rest on the source
 * list; nothing is unwound (spec C.10: the suspend error path does not restore them).
 */
import {
  type XeBoContext,
  xeBoContextSpec,
  type XeBoEvent,
  xeBoMachine,
  xeBoResult,
} from '../../../machines/xe/pinned-bo.js';
import { xeDeviceContextSpec, xeDeviceMachine } from '../../../machines/xe/device.js';
import { ERRNO } from '../../uapi/errno.js';
import { canSend, contextOf, createObject, inState, registerMachine, send } from '../../world/objects.js';
import type { World } from '../../world/types.js';
import {
  liveObjectId,
  liveObjects,
  type NoFaults,
  objectNumber,
  registerInternal,
  sendWithFaults,
  singletonObject,
} from '../internal-objects.js';
import { flags, u32 } from '../schema.js';

export const XE_BO_KIND = 'xe.bo';
export const XE_DEVICE_KIND = 'xe.device';
registerMachine(XE_BO_KIND, xeBoMachine, xeBoContextSpec);
registerMachine(XE_DEVICE_KIND, xeDeviceMachine, xeDeviceContextSpec);

/**
 * xe.create flags (model bits; the kernel's XE_BO_FLAG_* values are not used): PINNED
 * (a kernel BO on pinned.early unless LATE_RESTORE), USER (with PINNED: an external
 * BO on pinned.late.external), LATE_RESTORE (XE_BO_FLAG_PINNED_LATE_RESTORE),
 * NORESTORE (XE_BO_FLAG_PINNED_NORESTORE).
 */
export const XE_CREATE_FLAGS = { PINNED: 1, USER: 2, LATE_RESTORE: 4, NORESTORE: 8 } as const;

/** The singleton device's world id, created on first use. */
export function xeDevice(w: World): string {
  return singletonObject(w, XE_DEVICE_KIND, undefined);
}

/** The world id of BO number `n` if it is a live Xe BO. */
export function xeBoId(w: World, n: number): string | undefined {
  return liveObjectId(w, XE_BO_KIND, n);
}

/** Live BOs in creation order. */
export function xeBos(w: World): string[] {
  return liveObjects(w, XE_BO_KIND);
}

/** Run one BO event (site xe.copy for the events that copy the BO); the walks never send one the BO refuses. */
function boEvent(w: World, id: string, e: NoFaults<XeBoEvent>): number {
  const copies =
    e.type === 'EVICT_USER' || e.type === 'MIGRATE' || e.type === 'EVICT_PINNED' || e.type === 'RESTORE_PINNED';
  return sendWithFaults(w, id, e, copies ? ['xe.copy'] : [], xeBoResult, (event) => {
    throw new Error(`xe: ${id} refuses ${event.type}`);
  });
}

/** xe_bo_apply_to_pinned over the BOs of `list` in state `from`: stops at the first error. */
function applyToPinned(
  w: World,
  list: XeBoContext['list'],
  from: 'present' | 'evicted' | 'any',
  type: 'EVICT_PINNED' | 'RESTORE_PINNED',
): number {
  for (const id of xeBos(w)) {
    if (contextOf<XeBoContext>(w, id).list !== list) continue;
    if (from !== 'any' && !inState(w, id, `pinned.${from}`)) continue;
    const r = boEvent(w, id, { type });
    if (r) return r;
  }
  return 0;
}

function deviceRunning(w: World): boolean {
  return inState(w, xeDevice(w), 'running');
}

function devSend(w: World, type: 'EVICTED_ALL' | 'RESTORED_EARLY' | 'RESTORED_LATE'): void {
  const d = xeDevice(w);
  if (canSend(w, d, { type })) send(w, d, { type });
}

const SUSPENDED = 'the device is suspended (between xe.evict_all and xe.restore_late) → -EBUSY (model)';

export const xeCreate = registerInternal<{ pages: number; flags: number; obj?: number }>({
  name: 'xe.create',
  models:
    'an Xe BO in VRAM: a user BO, or a pinned one on its list (xe_bo_pinned_init lists, spec C.10): kernel BOs on pinned.early (pinned.late with LATE_RESTORE), pinned user BOs on pinned.late.external',
  checks: [
    'pages 0 → -EINVAL',
    SUSPENDED,
    'USER, LATE_RESTORE or NORESTORE without PINNED other than USER alone → -EINVAL (model)',
  ],
  args: { pages: u32, flags: flags(XE_CREATE_FLAGS, 'XE_BO_FLAG_') },
  out: ['obj'],
  run(w, a) {
    if (a.pages === 0) return -ERRNO.EINVAL;
    if (!deviceRunning(w)) return -ERRNO.EBUSY;
    const pinned = (a.flags & XE_CREATE_FLAGS.PINNED) !== 0;
    const user = (a.flags & XE_CREATE_FLAGS.USER) !== 0;
    const late = (a.flags & XE_CREATE_FLAGS.LATE_RESTORE) !== 0;
    const norestore = (a.flags & XE_CREATE_FLAGS.NORESTORE) !== 0;
    if (!pinned && (late || norestore)) return -ERRNO.EINVAL;
    const list = !pinned ? null : user ? 'external' : late ? 'late' : 'early';
    const id = createObject(w, XE_BO_KIND, { pages: a.pages, list, norestore });
    send(w, id, { type: 'PLACE' });
    a.obj = objectNumber(id);
    return 0;
  },
});

export const xeDestroy = registerInternal<{ obj: number }>({
  name: 'xe.destroy',
  models: 'the BO’s release (unpin and put; its backup object is freed with it)',
  checks: ['obj not a live Xe BO → -EINVAL (model)', SUSPENDED],
  args: { obj: u32 },
  run(w, a) {
    const id = xeBoId(w, a.obj);
    if (!id) return -ERRNO.EINVAL;
    if (!deviceRunning(w)) return -ERRNO.EBUSY;
    return boEvent(w, id, { type: 'DESTROY' });
  },
});

export const xeEvictAll = registerInternal<Record<string, never>>({
  name: 'xe.evict_all',
  models:
    'xe_bo_evict_all (spec C.10), then the device powers down (VRAM content is lost): 1. evict user BOs from VRAM, 2. pinned.late.external (blitter), 3. pinned.late.kernel_bo_present → late.evicted, 4. migrate wait, 5. pinned.early.kernel_bo_present → early.evicted (CPU copy)',
  checks: [
    'already suspended → -EBUSY (model)',
    'a copy fails (xe.copy) → that errno at once, nothing unwound: BOs already processed keep their backup and stay on the evicted list; the device keeps running',
  ],
  run(w) {
    if (!deviceRunning(w)) return -ERRNO.EBUSY;
    for (const id of xeBos(w)) {
      if (!inState(w, id, 'unpinned.vram')) continue;
      const r = boEvent(w, id, { type: 'EVICT_USER' });
      if (r) return r;
    }
    let r = applyToPinned(w, 'external', 'any', 'EVICT_PINNED');
    if (!r) r = applyToPinned(w, 'late', 'present', 'EVICT_PINNED');
    if (r) return r;
    r = applyToPinned(w, 'early', 'present', 'EVICT_PINNED');
    if (r) return r;
    devSend(w, 'EVICTED_ALL');
    for (const id of xeBos(w)) boEvent(w, id, { type: 'POWER_OFF' });
    return 0;
  },
});

export const xeRestoreEarly = registerInternal<Record<string, never>>({
  name: 'xe.restore_early',
  models:
    'xe_bo_restore_early (spec C.10): pinned.early.evicted → early.kernel_bo_present with xe_bo_restore_and_map_ggtt (CPU copy), before the GT is initialised',
  checks: [
    'the device is not suspended (xe.evict_all did not succeed, or restore_early already ran) → -EBUSY (model: xe_pm_resume runs it once, first)',
    'a copy fails (xe.copy) → that errno at once; that BO and the rest stay on early.evicted, the device stays suspended',
  ],
  run(w) {
    if (!inState(w, xeDevice(w), 'suspended')) return -ERRNO.EBUSY;
    const r = applyToPinned(w, 'early', 'evicted', 'RESTORE_PINNED');
    if (r) return r;
    devSend(w, 'RESTORED_EARLY');
    return 0;
  },
});

export const xeRestoreLate = registerInternal<Record<string, never>>({
  name: 'xe.restore_late',
  models:
    'xe_bo_restore_late (spec C.10): pinned.late.evicted → late.kernel_bo_present, then (dGPU) pinned.late.external with xe_bo_restore_pinned; user BOs stay in system memory until used',
  checks: [
    'xe.restore_early has not run since the suspend → -EBUSY (model: xe_pm_resume runs restore_early, the GT resume, then restore_late)',
    'a copy fails (xe.copy) → that errno at once; nothing after it is restored, the device stays between the two',
  ],
  run(w) {
    if (!inState(w, xeDevice(w), 'earlyRestored')) return -ERRNO.EBUSY;
    let r = applyToPinned(w, 'late', 'evicted', 'RESTORE_PINNED');
    if (!r) r = applyToPinned(w, 'external', 'evicted', 'RESTORE_PINNED');
    if (r) return r;
    devSend(w, 'RESTORED_LATE');
    return 0;
  },
});

/** A GPU access to an Xe BO: -EINVAL no such page, -EBUSY suspended; a user BO in system memory moves back to VRAM. */
function xeAccess(w: World, n: number, page: number): string | number {
  const id = xeBoId(w, n);
  if (!id) return -ERRNO.EINVAL;
  if (page >= contextOf<XeBoContext>(w, id).pages) return -ERRNO.EINVAL;
  if (!deviceRunning(w)) return -ERRNO.EBUSY;
  if (inState(w, id, 'unpinned.system')) {
    const r = boEvent(w, id, { type: 'MIGRATE' });
    if (r) return r;
  }
  return id;
}

export function xeWritePage(w: World, n: number, page: number, value: number): number {
  const id = xeAccess(w, n, page);
  if (typeof id === 'number') return id;
  return boEvent(w, id, { type: 'WRITE', page, value });
}

export function xeReadPage(w: World, n: number, page: number): { ret: number; value?: number } {
  const id = xeAccess(w, n, page);
  if (typeof id === 'number') return { ret: id };
  return { ret: 0, value: contextOf<XeBoContext>(w, id).content[page] ?? 0 };
}
