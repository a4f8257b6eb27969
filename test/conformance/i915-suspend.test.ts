/**
 * Spec C.2–C.9: i915 LMEM backup across suspend / resume, the per-object decisions of
 * i915_ttm_backup / i915_ttm_restore, recovery on error, and the C.8 variant.
 */
import { describe, expect, it } from 'vitest';
import type { LmemObjectContext } from '../../machines/i915/lmem-object.js';
import { checkI915, I915_INVARIANTS } from '../../src/invariants/i915.js';
import { E, Sim, stateOf } from './ttm-harness.js';

function create(s: Sim, flags: string[], pages = 2): number {
  const r = s.call('i915.create', { pages, flags });
  expect(r.ret).toBe(0);
  return r.out.obj as number;
}
const id = (obj: number) => `i915.lmem_object#${obj}`;
const ctx = (s: Sim, obj: number) => s.world.objects[id(obj)]!.context as LmemObjectContext;
const device = (s: Sim) => stateOf(s, 'i915.device#1');

/** A region with one object of each kind, each with page 1 written. */
function region(variants: ConstructorParameters<typeof Sim>[0] = {}) {
  const s = new Sim(variants);
  const user = create(s, ['USER']);
  const kernel = create(s, ['PINNED']);
  const early = create(s, ['PINNED', 'PM_EARLY']);
  const vol = create(s, ['PINNED', 'PM_VOLATILE']);
  for (const [o, v] of [
    [user, 0xa1],
    [kernel, 0xb2],
    [early, 0xc3],
    [vol, 0xd4],
  ] as const)
    expect(s.ret('gpu_write', { obj: o, page: 1, value: v })).toBe(0);
  return { s, user, kernel, early, vol };
}

describe('spec C.6 / C.7: suspend and resume of a region', () => {
  it('spec C.6: the four steps: the user object is evicted to SMEM, the pinned ones are backed up, PM_VOLATILE is skipped', () => {
    const { s, user, kernel, early, vol } = region();
    expect(s.ret('i915.suspend')).toBe(0);
    expect(stateOf(s, id(user))).toBe('evicted');
    expect(ctx(s, user).backup).toBeNull();
    expect(stateOf(s, id(kernel))).toBe('backedUp');
    expect(stateOf(s, id(early))).toBe('backedUp');
    expect(stateOf(s, id(vol))).toBe('volatileSkipped');
    expect(device(s)).toBe('pm.suspended,gt.idle');
  });

  it('spec C.6 steps 3–4: non-EARLY pinned objects are copied with the blitter, PM_EARLY ones with memcpy after the migrate context stops', () => {
    const { s, kernel, early } = region();
    s.ret('i915.suspend');
    expect(ctx(s, kernel).backup?.method).toBe('blt');
    expect(ctx(s, early).backup?.method).toBe('memcpy');
  });

  it('spec C.7: resume restores every backed-up object; content written before suspend reads back after resume', () => {
    const { s, user, kernel, early } = region();
    s.ret('i915.suspend');
    expect(s.ret('i915.resume')).toBe(0);
    expect(device(s)).toBe('pm.running,gt.active');
    expect(stateOf(s, id(kernel))).toBe('restored');
    expect(stateOf(s, id(early))).toBe('restored');
    expect(ctx(s, kernel).backup).toBeNull();
    for (const [o, v] of [
      [user, 0xa1],
      [kernel, 0xb2],
      [early, 0xc3],
    ] as const)
      expect(s.read({ obj: o, page: 1 })).toEqual({ ret: 0, value: v });
    expect(checkI915(s.world)).toEqual([]);
  });

  it('spec C.6 [DERIVED]: objects evicted in step 1 stay in system memory after resume and migrate back on use', () => {
    const { s, user } = region();
    s.ret('i915.suspend');
    s.ret('i915.resume');
    expect(stateOf(s, id(user))).toBe('evicted');
    s.read({ obj: user, page: 1 });
    expect(stateOf(s, id(user))).toBe('resident');
  });

  it('spec C.1: a PM_VOLATILE object loses its content across suspend, even though pinned', () => {
    const { s, vol } = region();
    s.ret('i915.suspend');
    s.ret('i915.resume');
    expect(stateOf(s, id(vol))).toBe('pinned');
    expect(s.read({ obj: vol, page: 1 })).toEqual({ ret: 0, value: 0 });
    expect(ctx(s, vol).loss).toBe('volatile');
    expect(checkI915(s.world)).toEqual([]);
  });

  it('spec C.3 step 2, C.7 step 1: the memcpy restore pass (allow_gpu off) restores only PM_EARLY objects', () => {
    const t = new Sim();
    const k = create(t, ['PINNED']);
    const e = create(t, ['PINNED', 'PM_EARLY']);
    expect(t.ret('i915.backup_region', { allow_gpu: false, pinned: true })).toBe(0);
    expect(stateOf(t, id(k))).toBe('backedUp');
    expect(stateOf(t, id(e))).toBe('backedUp');
    expect(t.ret('i915.restore_region', { allow_gpu: false })).toBe(0);
    expect(stateOf(t, id(k))).toBe('backedUp');
    expect(stateOf(t, id(e))).toBe('restored');
    expect(t.ret('i915.restore_region', { allow_gpu: true })).toBe(0);
    expect(stateOf(t, id(k))).toBe('restored');
  });

  it('model: a second suspend of a suspended device, or resume of a running one → -EBUSY; no access while suspended', () => {
    const { s, user } = region();
    expect(s.ret('i915.resume')).toBe(E.EBUSY);
    s.ret('i915.suspend');
    expect(s.ret('i915.suspend')).toBe(E.EBUSY);
    expect(s.read({ obj: user, page: 0 }).ret).toBe(E.EBUSY);
  });
});

describe('spec C.2: i915_ttm_backup per object', () => {
  it('spec C.2 step 1: an object already backed up (or in SMEM) is skipped: backing up twice keeps one backup and one reference', () => {
    const s = new Sim();
    const o = create(s, ['PINNED']);
    s.ret('gpu_write', { obj: o, page: 0, value: 5 });
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: true })).toBe(0);
    const first = ctx(s, o).backup;
    expect(s.ret('i915.backup_region', { allow_gpu: false, pinned: true })).toBe(0);
    expect(ctx(s, o).backup).toEqual(first);
    expect(ctx(s, o).backup?.refs).toBe(1);
  });

  it('spec C.2 step 3: a non-pinned pass backs up no pinned object', () => {
    const s = new Sim();
    const o = create(s, ['PINNED']);
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: false })).toBe(0);
    expect(stateOf(s, id(o))).toBe('pinned');
  });

  it('spec C.2 steps 6–9: the backup object cannot be populated, or the copy fails → that errno, no backup kept', () => {
    for (const site of ['i915.populate', 'i915.copy']) {
      const s = new Sim();
      const o = create(s, ['PINNED']);
      s.fault(site, { errno: 'ENOMEM' });
      expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: true })).toBe(E.ENOMEM);
      expect(stateOf(s, id(o))).toBe('pinned');
      expect(ctx(s, o).backup).toBeNull();
    }
  });

  it('spec C.5: the walk stops at the first error: later objects are not processed', () => {
    const s = new Sim();
    const a = create(s, ['PINNED']);
    const b = create(s, ['PINNED']);
    s.fault('i915.populate');
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: true })).toBe(E.ENOMEM);
    expect(stateOf(s, id(a))).toBe('pinned');
    expect(stateOf(s, id(b))).toBe('pinned');
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: true })).toBe(0);
    expect(stateOf(s, id(b))).toBe('backedUp');
  });

  it('spec C.2 step 2: an unpinned object is evicted with the blitter; an eviction error is returned', () => {
    const s = new Sim();
    const o = create(s, ['USER']);
    s.fault('i915.copy');
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: false })).toBe(E.EIO);
    expect(stateOf(s, id(o))).toBe('resident');
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: false })).toBe(0);
    expect(stateOf(s, id(o))).toBe('evicted');
  });
});

describe('spec C.6: errors abort the suspend and recover every region', () => {
  it('spec C.6: a backup failure in step 4 → that errno; every backup freed (lmem_recover); step-1 evictions stay in SMEM; the device keeps running', () => {
    const { s, user, kernel, early } = region();
    // Passes of i915.populate: step 3 backs up the kernel object (pass 0), step 4 the early one (pass 1).
    s.fault('i915.populate', { after: 1, errno: 'ENOMEM' });
    expect(s.ret('i915.suspend')).toBe(E.ENOMEM);
    expect(stateOf(s, id(kernel))).toBe('pinned');
    expect(stateOf(s, id(early))).toBe('pinned');
    expect(ctx(s, kernel).backup).toBeNull();
    expect(stateOf(s, id(user))).toBe('evicted');
    expect(device(s)).toBe('pm.running,gt.idle');
    expect(s.read({ obj: kernel, page: 1 })).toEqual({ ret: 0, value: 0xb2 });
    expect(checkI915(s.world)).toEqual([]);
    // A later suspend succeeds.
    expect(s.ret('i915.suspend')).toBe(0);
  });

  it('spec C.6 step 3: a GT wedged by i915_gem_suspend → backups fall back to memcpy; the suspend succeeds', () => {
    const { s, kernel } = region();
    s.fault('i915.gt_wedged');
    expect(s.ret('i915.suspend')).toBe(0);
    expect(device(s)).toBe('pm.suspended,gt.wedged');
    expect(ctx(s, kernel).backup?.method).toBe('memcpy');
    expect(s.ret('i915.resume')).toBe(0);
    expect(s.read({ obj: kernel, page: 1 })).toEqual({ ret: 0, value: 0xb2 });
  });
});

describe('spec C.7: resume only WARNs', () => {
  it('spec C.7 step 2: the GT cannot be re-initialised → wedged, step 3 skipped: non-EARLY objects stay backed up; resume returns 0', () => {
    const { s, kernel, early } = region();
    s.ret('i915.suspend');
    s.fault('i915.gt_wedged');
    expect(s.ret('i915.resume')).toBe(0);
    expect(device(s)).toBe('pm.running,gt.wedged');
    expect(stateOf(s, id(early))).toBe('restored');
    expect(stateOf(s, id(kernel))).toBe('backedUp');
    expect(s.read({ obj: kernel, page: 1 }).ret).toBe(E.EIO);
    expect(checkI915(s.world)).toEqual([]);
  });

  it('spec C.3 step 7, C.8 (final): a backup object that cannot be populated → resume returns 0, the object keeps its backup and reference; a retry restores it', () => {
    const s = new Sim();
    const o = create(s, ['PINNED']);
    s.ret('gpu_write', { obj: o, page: 0, value: 77 });
    s.ret('i915.suspend');
    s.fault('i915.populate');
    expect(s.ret('i915.resume')).toBe(0);
    expect(stateOf(s, id(o))).toBe('backedUp');
    expect(ctx(s, o).backup?.refs).toBe(1);
    expect(checkI915(s.world)).toEqual([]);
    expect(s.ret('i915.restore_region', { allow_gpu: true })).toBe(0);
    expect(s.read({ obj: o, page: 0 })).toEqual({ ret: 0, value: 77 });
  });

  it('spec C.3 step 5: a copy error on restore is only WARNed: the backup is dropped, the content lost (0)', () => {
    const s = new Sim();
    const o = create(s, ['PINNED']);
    s.ret('gpu_write', { obj: o, page: 0, value: 77 });
    s.ret('i915.suspend');
    s.fault('i915.copy');
    expect(s.ret('i915.resume')).toBe(0);
    expect(stateOf(s, id(o))).toBe('restored');
    expect(ctx(s, o).backup).toBeNull();
    expect(ctx(s, o).loss).toBe('warned');
    expect(s.read({ obj: o, page: 0 })).toEqual({ ret: 0, value: 0 });
  });
});

describe('spec C.3, C.6 [DERIVED] finding: a failed restore keeps the only copy in the backup, and a later lmem_recover frees it', () => {
  it('resume with a backup that cannot be populated (WARN), then a suspend that fails: lmem_recover frees the backup; the content is gone', () => {
    const s = new Sim();
    const k = create(s, ['PINNED']);
    const u = create(s, ['USER']);
    s.ret('gpu_write', { obj: k, page: 0, value: 0x77 });
    s.ret('i915.suspend');
    s.fault('i915.populate');
    expect(s.ret('i915.resume')).toBe(0);
    expect(stateOf(s, id(k))).toBe('backedUp');
    // The next suspend skips k (already backed up, C.2 step 1) and fails on another object.
    s.ret('gpu_write', { obj: u, page: 0, value: 1 });
    s.fault('i915.copy');
    expect(s.ret('i915.suspend')).toBe(E.EIO);
    expect(ctx(s, k).backup).toBeNull();
    expect(ctx(s, k).loss).toBe('warned');
    expect(s.read({ obj: k, page: 0 })).toEqual({ ret: 0, value: 0 });
  });
});

describe('spec C.4: recover', () => {
  it('spec C.4 [DERIVED]: recover after a standalone backup clears the pointer, puts the backup, and the content is still in LMEM', () => {
    const s = new Sim();
    const o = create(s, ['PINNED']);
    s.ret('gpu_write', { obj: o, page: 1, value: 9 });
    s.ret('i915.backup_region', { allow_gpu: true, pinned: true });
    expect(s.ret('i915.recover_region')).toBe(0);
    expect(stateOf(s, id(o))).toBe('pinned');
    expect(ctx(s, o).backup).toBeNull();
    expect(s.read({ obj: o, page: 1 })).toEqual({ ret: 0, value: 9 });
  });

  it('spec C.4: destroying a backed-up object frees its backup (i915_ttm_backup_free)', () => {
    const s = new Sim();
    const o = create(s, ['PINNED']);
    s.ret('i915.backup_region', { allow_gpu: true, pinned: true });
    expect(s.ret('i915.destroy', { obj: o })).toBe(0);
    expect(ctx(s, o).backup).toBeNull();
    expect(ctx(s, o).bad_puts).toBe(0);
    expect(s.ret('i915.destroy', { obj: o })).toBe(E.EINVAL);
  });
});

describe('spec C.8: the v2 restore put (variant i915: "v2-restore-put")', () => {
  it('spec C.8: v2 drops the backup reference on a failed restore while keeping obj->ttm.backup: the C.9 invariant breaks; final keeps both', () => {
    for (const variant of ['final', 'v2-restore-put'] as const) {
      const s = new Sim({ i915: variant });
      const o = create(s, ['PINNED']);
      s.ret('gpu_write', { obj: o, page: 0, value: 1 });
      s.ret('i915.suspend');
      s.fault('i915.populate');
      expect(s.ret('i915.resume')).toBe(0);
      const v = I915_INVARIANTS['i915.backup-reference']!(s.world);
      if (variant === 'final') expect(v).toEqual([]);
      else {
        expect(v.map((x) => x.object)).toEqual([id(o)]);
        expect(ctx(s, o).backup?.refs).toBe(0);
        // "potential uaf later": a recovery puts the freed backup again.
        s.ret('i915.recover_region');
        expect(ctx(s, o).bad_puts).toBe(1);
      }
    }
  });
});

describe('LMEM capacity', () => {
  it('model: objects beyond the LMEM size evict unpinned ones (least recently used first); only pinned left → -ENOSPC', () => {
    const s = new Sim();
    const a = create(s, ['USER'], 600);
    const b = create(s, ['USER'], 300);
    s.ret('gpu_write', { obj: a, page: 0, value: 1 });
    const c = create(s, ['PINNED'], 400);
    expect(stateOf(s, id(b))).toBe('evicted');
    expect(stateOf(s, id(a))).toBe('resident');
    expect(s.call('i915.create', { pages: 1000, flags: ['PINNED'] }).ret).toBe(E.ENOSPC);
    expect(stateOf(s, id(c))).toBe('pinned');
    expect(checkI915(s.world)).toEqual([]);
  });
});
