/**
 * Spec C.5 (i915_gem_process_region): the order in which the region passes meet objects. The
 * spec describes the walk (each object moved to still_in_list, the first error stops it,
 * still_in_list spliced back) without the list's order; the kernel source gives it:
 * - i915_gem_object_init_memory_region does `list_add(&obj->mm.region_link, &mem->objects.list)`:
 *   an object created in LMEM, or moved back into it, is at the head, so a walk meets the
 *   newest first;
 * - an object that leaves LMEM (evicted to system memory) is on the SMEM region's list, not
 *   walked by the LMEM passes;
 * - `list_splice_tail(&still_in_list, &mr->objects.list)` after a walk that stopped puts the
 *   objects it processed after those it did not reach, so the next walk starts with them.
 * The order shows when a fault stops a pass: which object fails, which were backed up first.
 */
import { describe, expect, it } from 'vitest';
import type { LmemObjectContext } from '../../machines/i915/lmem-object.js';
import type { I915DeviceContext } from '../../machines/i915/suspend.js';
import { E, Sim } from './ttm-harness.js';

const id = (obj: number) => `i915.lmem_object#${obj}`;
const ctx = (s: Sim, obj: number) => s.world.objects[id(obj)]!.context as LmemObjectContext;
const regionList = (s: Sim) => (s.world.objects['i915.device#1']!.context as I915DeviceContext).regions[0]!.objects;

function create(s: Sim, flags: string[]): number {
  const r = s.call('i915.create', { pages: 2, flags });
  expect(r.ret).toBe(0);
  return r.out.obj as number;
}

const backedUp = (s: Sim, objs: number[]) => objs.filter((o) => ctx(s, o).backup !== null);

describe('spec C.5: the order of a region pass (i915_gem_process_region)', () => {
  it('spec C.5: a pinned pass meets the newest object first: a populate fault on the second backup fails the older object', () => {
    const s = new Sim();
    const [a, b, c] = [create(s, ['PINNED']), create(s, ['PINNED']), create(s, ['PINNED'])];
    expect(regionList(s)).toEqual([id(c), id(b), id(a)]);
    s.fault('i915.populate', { after: 1 });
    expect(s.ret('i915.backup_region', { allow_gpu: false, pinned: true })).toBe(E.ENOMEM);
    // c (newest) was backed up, b failed, a was not reached.
    expect(backedUp(s, [a, b, c])).toEqual([c]);
    // still_in_list (c, b) goes to the tail: the next walk starts with a.
    expect(regionList(s)).toEqual([id(a), id(c), id(b)]);
    s.disarm();
    s.fault('i915.populate');
    expect(s.ret('i915.backup_region', { allow_gpu: false, pinned: true })).toBe(E.ENOMEM);
    expect(backedUp(s, [a, b, c])).toEqual([c]);
    // a failed first this time; c is skipped (already backed up) and b is reached after.
    expect(regionList(s)).toEqual([id(c), id(b), id(a)]);
  });

  it('spec C.5: a walk that does not stop keeps the order; an evicted object leaves the list and comes back at its head', () => {
    const s = new Sim();
    const [u, p] = [create(s, ['USER']), create(s, ['PINNED'])];
    expect(regionList(s)).toEqual([id(p), id(u)]);
    // An ALLOW_GPU pass evicts the unpinned object to system memory: the SMEM region's list.
    expect(s.ret('i915.backup_region', { allow_gpu: true, pinned: false })).toBe(0);
    expect(ctx(s, u).placement).toBe('smem');
    expect(regionList(s)).toEqual([id(p)]);
    // Pinning moves it back into LMEM: at the head, before the older pinned object.
    expect(s.ret('i915.pin', { obj: u })).toBe(0);
    expect(regionList(s)).toEqual([id(u), id(p)]);
    expect(s.ret('i915.destroy', { obj: p })).toBe(0);
    expect(regionList(s)).toEqual([id(u)]);
  });

  it('spec C.6 with C.5: a suspend aborted at step 3 processed the newer pinned object first; after lmem_recover no backup is left and the list is in processing order', () => {
    const s = new Sim();
    const [a, b] = [create(s, ['PINNED']), create(s, ['PINNED'])];
    s.ret('gpu_write', { obj: a, page: 0, value: 1 });
    s.ret('gpu_write', { obj: b, page: 0, value: 2 });
    // Step 3 backs up b first (newest), then fails on a's copy.
    s.fault('i915.copy', { after: 1 });
    expect(s.ret('i915.suspend')).toBe(E.EIO);
    expect(ctx(s, b).loss).toBeNull();
    expect(backedUp(s, [a, b])).toEqual([]);
    // Both were processed when the walk stopped (b backed up, a failing): still_in_list in that order.
    expect(regionList(s)).toEqual([id(b), id(a)]);
  });
});
