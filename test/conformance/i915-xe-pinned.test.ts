/**
 * Spec C.10 (and B.5 xe_bo_evict_kunit): the Xe pinned-BO lists across
 * xe_bo_evict_all / xe_bo_restore_early / xe_bo_restore_late.
 */
import { describe, expect, it } from 'vitest';
import type { XeBoContext } from '../../machines/xe/pinned-bo.js';
import { checkXe, XE_INVARIANTS } from '../../src/invariants/i915.js';
import { E, Sim, stateOf } from './ttm-harness.js';

const id = (obj: number) => `xe.bo#${obj}`;
const ctx = (s: Sim, obj: number) => s.world.objects[id(obj)]!.context as XeBoContext;

function bo(s: Sim, flags: string[], value: number): number {
  const r = s.call('xe.create', { pages: 2, flags });
  expect(r.ret).toBe(0);
  const obj = r.out.obj as number;
  expect(s.ret('gpu_write', { obj, page: 0, value })).toBe(0);
  return obj;
}

/** One BO on each list, in creation order: user, external, late kernel, early kernel. */
function device() {
  const s = new Sim();
  return {
    s,
    user: bo(s, [], 1),
    external: bo(s, ['PINNED', 'USER'], 2),
    late: bo(s, ['PINNED', 'LATE_RESTORE'], 3),
    early: bo(s, ['PINNED'], 4),
  };
}

describe('spec C.10 xe_bo_evict_all', () => {
  it('spec C.10: user BOs go to system memory; every pinned BO gets a backup object and moves to its evicted list (external stays on late.external)', () => {
    const { s, user, external, late, early } = device();
    expect(s.ret('xe.evict_all')).toBe(0);
    expect(stateOf(s, id(user))).toBe('unpinned.system');
    for (const o of [external, late, early]) {
      expect(stateOf(s, id(o))).toBe('pinned.evicted');
      expect(ctx(s, o).backup).not.toBeNull();
    }
    expect(ctx(s, external).list).toBe('external');
    expect(stateOf(s, 'xe.device#1')).toBe('suspended');
  });

  it('spec C.10 order: user BOs, then late.external, then late.kernel_bo_present, then early (the n-th copy fails → which BO)', () => {
    const order: number[] = [];
    for (let k = 0; k < 4; k++) {
      const d = device();
      d.s.fault('xe.copy', { after: k });
      expect(d.s.ret('xe.evict_all')).toBe(E.EIO);
      const failed = [d.user, d.external, d.late, d.early].find(
        (o) => stateOf(d.s, id(o)) === 'unpinned.vram' || stateOf(d.s, id(o)) === 'pinned.present',
      )!;
      order.push(failed);
    }
    const d = device();
    expect(order).toEqual([d.user, d.external, d.late, d.early]);
  });

  it('spec C.10 [DERIVED]: an error is returned at once and nothing is unwound: BOs already processed keep their backup on the evicted list, the device keeps running', () => {
    const { s, external, late, early } = device();
    s.fault('xe.copy', { after: 2 });
    expect(s.ret('xe.evict_all')).toBe(E.EIO);
    expect(stateOf(s, id(external))).toBe('pinned.evicted');
    expect(stateOf(s, id(late))).toBe('pinned.present');
    expect(stateOf(s, id(early))).toBe('pinned.present');
    expect(stateOf(s, 'xe.device#1')).toBe('running');
    expect(ctx(s, external).backup).not.toBeNull();
  });

  it('spec C.10 step 4: a failure in the late passes skips the early pass', () => {
    const { s, early } = device();
    s.fault('xe.copy', { after: 1 });
    expect(s.ret('xe.evict_all')).toBe(E.EIO);
    expect(stateOf(s, id(early))).toBe('pinned.present');
  });
});

describe('spec C.10 restore', () => {
  it('spec C.10, B.5: restore_early then restore_late: pinned BOs come back with their content; the user BO stays in system memory until used', () => {
    const { s, user, external, late, early } = device();
    s.ret('xe.evict_all');
    expect(s.ret('xe.restore_early')).toBe(0);
    expect(stateOf(s, id(early))).toBe('pinned.present');
    expect(stateOf(s, id(late))).toBe('pinned.evicted');
    expect(stateOf(s, 'xe.device#1')).toBe('earlyRestored');
    expect(s.ret('xe.restore_late')).toBe(0);
    for (const o of [external, late]) expect(stateOf(s, id(o))).toBe('pinned.present');
    expect(stateOf(s, id(user))).toBe('unpinned.system');
    for (const [o, v] of [
      [user, 1],
      [external, 2],
      [late, 3],
      [early, 4],
    ] as const)
      expect(s.read({ obj: o, page: 0 })).toEqual({ ret: 0, value: v });
    expect(stateOf(s, id(user))).toBe('unpinned.vram');
    expect(checkXe(s.world)).toEqual([]);
  });

  it('spec B.5 xe_bo_evict_kunit: the cycle twice', () => {
    const { s, external, late } = device();
    for (let i = 0; i < 2; i++) {
      expect(s.ret('xe.evict_all')).toBe(0);
      expect(s.ret('xe.restore_early')).toBe(0);
      expect(s.ret('xe.restore_late')).toBe(0);
      expect(stateOf(s, id(external))).toBe('pinned.present');
      expect(s.read({ obj: late, page: 0 })).toEqual({ ret: 0, value: 3 });
    }
  });

  it('spec C.10: XE_BO_FLAG_PINNED_NORESTORE gets no backup; its content is lost across the power-down (by design)', () => {
    const s = new Sim();
    const n = bo(s, ['PINNED', 'LATE_RESTORE', 'NORESTORE'], 9);
    s.ret('xe.evict_all');
    expect(ctx(s, n).backup).toBeNull();
    s.ret('xe.restore_early');
    s.ret('xe.restore_late');
    expect(s.read({ obj: n, page: 0 })).toEqual({ ret: 0, value: 0 });
    expect(checkXe(s.world)).toEqual([]);
  });

  it('spec C.10: a restore copy error is returned; that BO stays on its evicted list and a second call restores it', () => {
    const { s, early } = device();
    s.ret('xe.evict_all');
    s.fault('xe.copy');
    expect(s.ret('xe.restore_early')).toBe(E.EIO);
    expect(stateOf(s, id(early))).toBe('pinned.evicted');
    expect(s.ret('xe.restore_early')).toBe(0);
    expect(s.ret('xe.restore_late')).toBe(0);
    expect(s.read({ obj: early, page: 0 })).toEqual({ ret: 0, value: 4 });
  });

  it('model: the resume order of xe_pm_resume: restore_late before restore_early, or either without a suspend → -EBUSY', () => {
    const { s } = device();
    expect(s.ret('xe.restore_early')).toBe(E.EBUSY);
    expect(s.ret('xe.restore_late')).toBe(E.EBUSY);
    s.ret('xe.evict_all');
    expect(s.ret('xe.restore_late')).toBe(E.EBUSY);
    expect(s.ret('xe.restore_early')).toBe(0);
    expect(s.ret('xe.restore_early')).toBe(E.EBUSY);
    expect(s.ret('xe.restore_late')).toBe(0);
  });

  it('model: no access and no second evict_all while suspended (-EBUSY)', () => {
    const { s, late } = device();
    s.ret('xe.evict_all');
    expect(s.ret('xe.evict_all')).toBe(E.EBUSY);
    expect(s.read({ obj: late, page: 0 }).ret).toBe(E.EBUSY);
    expect(s.call('xe.create', { pages: 1 }).ret).toBe(E.EBUSY);
  });
});

describe('spec C.10 [DERIVED] finding: a failed xe_bo_evict_all is not unwound', () => {
  it('a late kernel BO left on late.evicted by a failed evict_all is not backed up again: content written after the failure is lost on the next suspend/resume', () => {
    const s = new Sim();
    const a = bo(s, ['PINNED', 'LATE_RESTORE'], 0x10);
    bo(s, ['PINNED', 'LATE_RESTORE'], 0x20);
    s.fault('xe.copy', { after: 1 });
    expect(s.ret('xe.evict_all')).toBe(E.EIO);
    expect(stateOf(s, id(a))).toBe('pinned.evicted');
    // The device keeps running; the GPU updates the BO.
    expect(s.ret('gpu_write', { obj: a, page: 0, value: 0x11 })).toBe(0);
    expect(checkXe(s.world)).toEqual([]);
    expect(s.ret('xe.evict_all')).toBe(0);
    expect(s.ret('xe.restore_early')).toBe(0);
    expect(s.ret('xe.restore_late')).toBe(0);
    // The stale backup (0x10) was copied back over the update.
    expect(s.read({ obj: a, page: 0 })).toEqual({ ret: 0, value: 0x10 });
    expect(XE_INVARIANTS['xe.content-kept']!(s.world).map((v) => v.object)).toEqual([id(a)]);
  });
});
