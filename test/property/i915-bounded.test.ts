/**
 * Bounded exhaustive check of the i915 invariants (spec C.9) and of the Xe list
 * invariants (C.10): every sequence of up to N suspend / resume / region-pass / workload
 * actions, with the fault sites armed at every position, keeps every invariant in the
 * final variant; the v2-restore-put variant (spec C.8) breaks C.9 and the shortest such
 * sequence is a replayable log.
 */
import { describe, expect, it } from 'vitest';
import { checkI915, checkXe } from '../../src/invariants/i915.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { type Action, boundedSearch, Sim } from '../conformance/ttm-harness.js';

function act(name: string, call: string, args: Record<string, unknown> = {}, fault?: [string, number]): Action {
  return {
    name,
    run: (s) => {
      s.disarm();
      if (fault) s.fault(fault[0], { after: fault[1] });
      s.call(call, args);
    },
  };
}

const KERNEL = 2;
const USER = 3;

const I915_ACTIONS: Action[] = [
  act('suspend', 'i915.suspend'),
  act('suspend, 1st populate fails', 'i915.suspend', {}, ['i915.populate', 0]),
  act('suspend, 1st copy fails', 'i915.suspend', {}, ['i915.copy', 0]),
  act('suspend, 2nd copy fails', 'i915.suspend', {}, ['i915.copy', 1]),
  act('suspend, GT wedged', 'i915.suspend', {}, ['i915.gt_wedged', 0]),
  act('resume', 'i915.resume'),
  act('resume, populate fails', 'i915.resume', {}, ['i915.populate', 0]),
  act('resume, copy fails', 'i915.resume', {}, ['i915.copy', 0]),
  act('resume, GT wedged', 'i915.resume', {}, ['i915.gt_wedged', 0]),
  act('backup_region(gpu, pinned)', 'i915.backup_region', { allow_gpu: true, pinned: true }),
  act('backup_region(memcpy, pinned)', 'i915.backup_region', { allow_gpu: false, pinned: true }),
  act('restore_region(gpu)', 'i915.restore_region', { allow_gpu: true }),
  act('restore_region(gpu), populate fails', 'i915.restore_region', { allow_gpu: true }, ['i915.populate', 0]),
  act('recover_region', 'i915.recover_region'),
  act('gt_idle', 'i915.gt_idle'),
  act('write kernel', 'gpu_write', { obj: KERNEL, page: 0, value: 7 }),
  act('write user', 'gpu_write', { obj: USER, page: 1, value: 8 }),
  act('unpin kernel', 'i915.unpin', { obj: KERNEL }),
  act('pin user', 'i915.pin', { obj: USER }),
  act('destroy kernel', 'i915.destroy', { obj: KERNEL }),
];

function start(variant: 'final' | 'v2-restore-put'): Sim {
  const s = new Sim({ i915: variant });
  expect(s.call('i915.create', { pages: 2, flags: ['PINNED'] }).out.obj).toBe(KERNEL);
  expect(s.call('i915.create', { pages: 2, flags: ['USER'] }).out.obj).toBe(USER);
  s.ret('gpu_write', { obj: KERNEL, page: 1, value: 5 });
  s.ret('gpu_write', { obj: USER, page: 0, value: 6 });
  return s;
}

describe('i915 invariants on every reachable state within bounds', () => {
  it('spec C.9: the final variant keeps every invariant in every sequence of ≤ 4 actions', () => {
    const r = boundedSearch(start('final'), I915_ACTIONS, 4, checkI915);
    expect(
      r.counterexample ? { actions: r.counterexample.actions, v: r.counterexample.violations } : undefined,
    ).toBeUndefined();
    expect(r.states).toBeGreaterThan(200);
    console.log(`i915 final: ${r.states} states within 4 actions, no violation`);
  });

  it('spec C.8: v2-restore-put breaks C.9 (backup pointer without its reference) after suspend and a resume whose restore cannot populate', () => {
    const r = boundedSearch(start('v2-restore-put'), I915_ACTIONS, 4, checkI915);
    const cx = r.counterexample!;
    expect(cx).toBeDefined();
    expect(cx.actions).toEqual(['suspend', 'resume, populate fails']);
    expect(cx.violations.map((v) => v.invariant)).toContain('i915.backup-reference');
    const log = cx.sim.jsonl();
    console.log(`i915 v2-restore-put shortest counterexample: ${cx.actions.join(' → ')}\n${log}`);
    const { header, events } = readLog(log, 'c8.jsonl');
    const rep = replay(header, events);
    expect(rep.ok).toBe(true);
    expect(checkI915(rep.world).map((v) => v.invariant)).toContain('i915.backup-reference');
    const fixed = readLog(log.replace('"v2-restore-put"', '"final"'), 'c8-final.jsonl');
    const repFixed = replay(fixed.header, fixed.events);
    expect(repFixed.ok).toBe(true);
    expect(checkI915(repFixed.world)).toEqual([]);
  });
});

const XE_ACTIONS: Action[] = [
  act('evict_all', 'xe.evict_all'),
  act('evict_all, 1st copy fails', 'xe.evict_all', {}, ['xe.copy', 0]),
  act('evict_all, 2nd copy fails', 'xe.evict_all', {}, ['xe.copy', 1]),
  act('restore_early', 'xe.restore_early'),
  act('restore_early, copy fails', 'xe.restore_early', {}, ['xe.copy', 0]),
  act('restore_late', 'xe.restore_late'),
  act('restore_late, copy fails', 'xe.restore_late', {}, ['xe.copy', 0]),
  act('read user', 'gpu_read', { obj: 2, page: 0 }),
];

describe('Xe list invariants within bounds', () => {
  it('spec C.10: without writes between a failed evict_all and the next suspend, every ≤ 5-action sequence keeps the Xe invariants', () => {
    const s = new Sim();
    for (const flags of [[], ['PINNED'], ['PINNED', 'LATE_RESTORE'], ['PINNED', 'USER'], ['PINNED', 'NORESTORE']]) {
      const obj = s.call('xe.create', { pages: 1, flags }).out.obj as number;
      s.ret('gpu_write', { obj, page: 0, value: obj });
    }
    const r = boundedSearch(s, XE_ACTIONS, 5, checkXe);
    expect(
      r.counterexample ? { actions: r.counterexample.actions, v: r.counterexample.violations } : undefined,
    ).toBeUndefined();
    console.log(`xe: ${r.states} states within 5 actions, no violation`);
  });
});
