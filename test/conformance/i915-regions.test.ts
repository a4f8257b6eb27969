/**
 * Spec C.6, C.7 with several LMEM regions (one per tile): lmem_suspend and lmem_restore
 * iterate the LMEM regions in order (`for_each_memory_region`, `mr->type ==
 * INTEL_MEMORY_LOCAL`) and break on the first region that fails; any suspend error →
 * lmem_recover frees every backup object in every LMEM region and the suspend returns the
 * error; restore errors never fail resume (only WARN). Objects are created in a region
 * (`i915.create {region}`, default 0), the device is probed with its regions
 * (`i915.probe {regions}`, default one region).
 */
import { describe, expect, it } from 'vitest';
import type { LmemObjectContext } from '../../machines/i915/lmem-object.js';
import type { I915DeviceContext } from '../../machines/i915/suspend.js';
import { checkI915 } from '../../src/invariants/i915.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { E, Sim, stateOf } from './ttm-harness.js';

const id = (obj: number) => `i915.lmem_object#${obj}`;
const ctx = (s: Sim, obj: number) => s.world.objects[id(obj)]!.context as LmemObjectContext;
const device = (s: Sim) => s.world.objects['i915.device#1']!.context as I915DeviceContext;

function probed(regions: number): Sim {
  const s = new Sim();
  expect(s.ret('i915.probe', { regions })).toBe(0);
  return s;
}

/** An object of 2 pages in `region`, page 0 written with `value`. */
function create(s: Sim, region: number, flags: string[], value: number): number {
  const r = s.call('i915.create', { pages: 2, flags, region });
  expect(r.ret).toBe(0);
  const obj = r.out.obj as number;
  expect(s.ret('gpu_write', { obj, page: 0, value })).toBe(0);
  return obj;
}

describe('spec C.6: lmem_suspend region by region, lmem_recover of every region', () => {
  it('spec C.6: a failing second region stops the suspend and frees the first region’s backups', () => {
    const s = probed(2);
    const a = create(s, 0, ['PINNED'], 0xa0);
    const b = create(s, 1, ['PINNED'], 0xb1);
    // Step 3 backs up region 0's pinned object (first populate), then region 1's fails.
    s.fault('i915.populate', { after: 1 });
    expect(s.ret('i915.suspend')).toBe(E.ENOMEM);
    expect(stateOf(s, 'i915.device#1')).toBe('pm.running,gt.idle');
    // lmem_recover freed region 0's backup too: no backup left anywhere, no reference leaked.
    expect(ctx(s, a).backup).toBeNull();
    expect(ctx(s, b).backup).toBeNull();
    expect(stateOf(s, id(a))).toBe('pinned');
    expect(stateOf(s, id(b))).toBe('pinned');
    expect([ctx(s, a).bad_puts, ctx(s, b).bad_puts]).toEqual([0, 0]);
    // The device runs on with every content in LMEM.
    expect(s.read({ obj: a, page: 0 })).toEqual({ ret: 0, value: 0xa0 });
    expect(s.read({ obj: b, page: 0 })).toEqual({ ret: 0, value: 0xb1 });
    expect(checkI915(s.world)).toEqual([]);
  });

  it('spec C.6: the first failing region stops the step: a later region is never walked (its unpinned object is not evicted)', () => {
    const s = probed(3);
    const [u0, u1, u2] = [0, 1, 2].map((r) => create(s, r, ['USER'], 0x10 + r)) as [number, number, number];
    // Step 1 evicts region 0's object (first copy), region 1's eviction copy fails.
    s.fault('i915.copy', { after: 1 });
    expect(s.ret('i915.suspend')).toBe(E.EIO);
    // Objects evicted before the error stay in system memory [DERIVED]; region 2 was never reached.
    expect(stateOf(s, id(u0))).toBe('evicted');
    expect(stateOf(s, id(u1))).toBe('resident');
    expect(stateOf(s, id(u2))).toBe('resident');
    expect(device(s).regions.map((mr) => mr.objects)).toEqual([[], [id(u1)], [id(u2)]]);
    expect(checkI915(s.world)).toEqual([]);
  });

  it('spec C.6: step 4 failing in region 1 also frees the backup step 3 made in region 0 (lmem_recover: every backup of every region)', () => {
    const s = probed(2);
    const early = create(s, 1, ['PINNED', 'PM_EARLY'], 0xe1);
    const kernel = create(s, 0, ['PINNED'], 0xc0);
    // Step 3 backs up region 0's kernel object (first populate) and skips the PM_EARLY one;
    // step 4's first backup is region 1's PM_EARLY object: its populate fails.
    s.fault('i915.populate', { after: 1 });
    expect(s.ret('i915.suspend')).toBe(E.ENOMEM);
    expect(ctx(s, kernel).backup).toBeNull();
    expect(ctx(s, early).backup).toBeNull();
    expect(stateOf(s, id(kernel))).toBe('pinned');
    expect(s.read({ obj: kernel, page: 0 })).toEqual({ ret: 0, value: 0xc0 });
    expect(checkI915(s.world)).toEqual([]);
  });
});

describe('spec C.7: lmem_restore region by region, errors only WARN', () => {
  it('spec C.7: a failing region stops the restore of the later regions; their objects stay backed up and resume still returns 0', () => {
    const s = probed(3);
    const [p0, p1, p2] = [0, 1, 2].map((r) => create(s, r, ['PINNED'], 0x20 + r)) as [number, number, number];
    expect(s.ret('i915.suspend')).toBe(0);
    // Step 3 (lmem_restore(ALLOW_GPU)): region 0 restores, region 1's backup populate fails.
    s.fault('i915.populate', { after: 1 });
    expect(s.ret('i915.resume')).toBe(0);
    expect(stateOf(s, 'i915.device#1')).toBe('pm.running,gt.active');
    expect(stateOf(s, id(p0))).toBe('restored');
    expect(s.read({ obj: p0, page: 0 })).toEqual({ ret: 0, value: 0x20 });
    // Region 1 failed (the backup and its reference kept, C.3); region 2 was never walked.
    expect(stateOf(s, id(p1))).toBe('backedUp');
    expect(stateOf(s, id(p2))).toBe('backedUp');
    expect(ctx(s, p2).backup?.content).toEqual({ 0: 0x22 });
    expect(s.read({ obj: p2, page: 0 }).ret).toBe(E.EBUSY);
    expect(checkI915(s.world)).toEqual([]);
    // The region pass of its own restores the region the resume did not reach.
    expect(s.ret('i915.restore_region', { allow_gpu: true, region: 2 })).toBe(0);
    expect(s.read({ obj: p2, page: 0 })).toEqual({ ret: 0, value: 0x22 });
    expect(stateOf(s, id(p1))).toBe('backedUp');
  });

  it('spec C.7 step 1: the PM_EARLY restore stops at its first failing region too, and step 3 still runs for every region', () => {
    const s = probed(2);
    const e0 = create(s, 0, ['PINNED', 'PM_EARLY'], 0x30);
    const e1 = create(s, 1, ['PINNED', 'PM_EARLY'], 0x31);
    const k1 = create(s, 1, ['PINNED'], 0x41);
    expect(s.ret('i915.suspend')).toBe(0);
    // Step 1: region 0's PM_EARLY object fails; region 1 is not walked by step 1.
    // Step 3 (blitter) then walks every region again: the failed one retries, the rest restore.
    s.fault('i915.populate');
    expect(s.ret('i915.resume')).toBe(0);
    for (const [o, v] of [
      [e0, 0x30],
      [e1, 0x31],
      [k1, 0x41],
    ] as const)
      expect(s.read({ obj: o, page: 0 })).toEqual({ ret: 0, value: v });
    expect(checkI915(s.world)).toEqual([]);
  });
});

describe('spec C.6, C.5: regions of the device', () => {
  it('spec C.6: objects are created in their region (default 0); a region the device lacks → -ENODEV; the probe is checked', () => {
    const one = new Sim();
    const r = one.call('i915.create', { pages: 2, flags: ['USER'] });
    expect(r.ret).toBe(0);
    expect(ctx(one, r.out.obj as number).region).toBe(0);
    expect(one.ret('i915.create', { pages: 2, flags: ['USER'], region: 1 })).toBe(E.ENODEV);
    expect(one.ret('i915.backup_region', { allow_gpu: true, pinned: false, region: 1 })).toBe(E.ENODEV);
    // The first i915 call created a device with one region: it cannot be probed again.
    expect(one.ret('i915.probe', { regions: 2 })).toBe(E.EBUSY);
    // A call refused for its region creates no device: the probe still works after it.
    const fresh = new Sim();
    expect(fresh.ret('i915.create', { pages: 2, flags: ['USER'], region: 1 })).toBe(E.ENODEV);
    expect(fresh.ret('i915.recover_region', { region: 2 })).toBe(E.ENODEV);
    expect(fresh.ret('i915.probe', { regions: 2 })).toBe(0);
    expect(device(fresh).regions).toHaveLength(2);
    expect(new Sim().ret('i915.probe', { regions: 0 })).toBe(E.EINVAL);
    expect(new Sim().ret('i915.probe', { regions: 5 })).toBe(E.EINVAL);
    const s = probed(4);
    expect(device(s).regions).toHaveLength(4);
    const o = create(s, 3, ['USER'], 1);
    expect(device(s).regions[3]!.objects).toEqual([id(o)]);
  });

  it('spec C.5: each region has its own capacity and LRU: filling region 0 evicts only region 0’s unpinned objects', () => {
    const s = probed(2);
    const big = (region: number) => s.call('i915.create', { pages: 600, flags: ['USER'], region });
    const a0 = big(0).out.obj as number;
    const a1 = big(1).out.obj as number;
    expect(big(0).ret).toBe(0);
    expect(stateOf(s, id(a0))).toBe('evicted');
    expect(stateOf(s, id(a1))).toBe('resident');
    expect(checkI915(s.world)).toEqual([]);
  });

  it('spec C.5: i915.lmem-capacity holds per region: an object on another region’s list is a violation', () => {
    const s = probed(2);
    const o = create(s, 1, ['USER'], 1);
    expect(checkI915(s.world)).toEqual([]);
    const [r0, r1] = device(s).regions as [I915DeviceContext['regions'][number], I915DeviceContext['regions'][number]];
    s.world.objects['i915.device#1']!.context = { regions: [{ ...r0, objects: [...r0.objects, id(o)] }, r1] };
    const v = checkI915(s.world);
    expect(v.map((x) => x.invariant)).toEqual(['i915.lmem-capacity']);
    expect(v[0]!.message).toContain('LMEM region 0');
  });

  it('a log with i915.probe and regions replays deterministically, and an old log without them is region 0', () => {
    const s = probed(2);
    const p = create(s, 1, ['PINNED'], 7);
    s.fault('i915.populate', { after: 0 });
    s.ret('i915.suspend');
    s.disarm();
    expect(s.ret('i915.suspend')).toBe(0);
    expect(s.ret('i915.resume')).toBe(0);
    expect(s.read({ obj: p, page: 0 })).toEqual({ ret: 0, value: 7 });
    const { header, events } = readLog(s.jsonl(), 'regions.jsonl');
    expect(replay(header, events).ok).toBe(true);
    const old = [
      '{"gpucr":1,"topology":{"gpus":[]}}',
      '{"call":"i915.create","args":{"pages":1,"flags":["PINNED"]},"ret":0,"out":{"obj":2}}',
      '{"call":"i915.backup_region","args":{"allow_gpu":false,"pinned":true},"ret":0}',
      '{"call":"i915.recover_region","args":{},"ret":0}',
    ].join('\n');
    const log = readLog(`${old}\n`, 'old.jsonl');
    expect(replay(log.header, log.events).ok).toBe(true);
  });
});
