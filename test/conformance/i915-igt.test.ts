/**
 * Scenarios in the spirit of the IGT tests of spec C.11 (S17): content written before
 * suspend reads back after resume (gem_exec_suspend), LMEM oversubscribed with
 * verification (gem_lmem_swapping), and the Xe equivalents (xe_pm, xe_evict).
 * Content is one u32 per page here, so "dword i" of the IGT tests is page i.
 */
import { describe, expect, it } from 'vitest';
import { checkI915, checkXe } from '../../src/invariants/i915.js';
import { I915_LMEM_PAGES } from '../../src/ioctls/i915/lmem.js';
import { Sim } from './ttm-harness.js';

/** A deterministic LCG (the log header's seed plays this role in replay). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

describe('spec C.11 gem_exec_suspend (lmem region)', () => {
  function basic(opts: { hang?: boolean; pinned?: boolean }) {
    const s = new Sim();
    const DWORDS = 1024;
    const obj = s.call('i915.create', { pages: DWORDS, flags: opts.pinned ? ['PINNED'] : ['USER'] }).out.obj as number;
    for (let i = 0; i < DWORDS; i++) expect(s.ret('gpu_write', { obj, page: i, value: i })).toBe(0);
    if (opts.hang) s.fault('i915.gt_wedged');
    expect(s.ret('i915.suspend')).toBe(0);
    expect(s.ret('i915.resume')).toBe(0);
    // check_bo: map[i] == i for all 1024.
    for (let i = 0; i < DWORDS; i++) expect(s.read({ obj, page: i })).toEqual({ ret: 0, value: i });
    expect(checkI915(s.world)).toEqual([]);
    // "re-runs the test after resume"
    for (let i = 0; i < DWORDS; i += 97) expect(s.ret('gpu_write', { obj, page: i, value: i + 1 })).toBe(0);
    expect(s.ret('i915.suspend')).toBe(0);
    expect(s.ret('i915.resume')).toBe(0);
    for (let i = 0; i < DWORDS; i += 97) expect(s.read({ obj, page: i })).toEqual({ ret: 0, value: i + 1 });
  }

  it('spec C.11 basic-S3: 1024 values written by the GPU before suspend all read back after resume', () => basic({}));
  it('spec C.11 fixed-S3 (a pinned object): the same through the blitter backup', () => basic({ pinned: true }));
  it('spec C.11 hang-S3: with a pending GPU hang (the GT is wedged while suspending) content survives (memcpy fallback, C.6 step 3)', () =>
    basic({ hang: true }));
});

describe('spec C.11 gem_lmem_swapping', () => {
  function swapping(opts: { heavy?: boolean; suspendMidway?: boolean }) {
    const s = new Sim();
    const OBJ_PAGES = 128;
    // working set = ceil(lmem / objsize) × 1.5 objects (× 2 for heavy)
    const n = Math.ceil(I915_LMEM_PAGES / OBJ_PAGES) * (opts.heavy ? 3 : 1.5);
    const rnd = lcg(0x5eed);
    const objs: { obj: number; seed: number }[] = [];
    let seed = 1;
    for (let k = 0; k < n; k++) {
      const r = s.call('i915.create', { pages: OBJ_PAGES, flags: ['USER'] });
      expect(r.ret).toBe(0);
      const o = { obj: r.out.obj as number, seed };
      // verify variants: write seed++ patterns through the mapping
      for (let p = 0; p < OBJ_PAGES; p++) expect(s.ret('gpu_write', { obj: o.obj, page: p, value: seed++ })).toBe(0);
      objs.push(o);
    }
    for (let loop = 0; loop < 4 * n; loop++) {
      if (opts.suspendMidway && loop === 2 * n) {
        expect(s.ret('i915.suspend')).toBe(0);
        expect(s.ret('i915.resume')).toBe(0);
      }
      const o = objs[rnd() % objs.length]!;
      const page = rnd() % OBJ_PAGES;
      // "Object mismatch at offset …": a random dword per page after moving back.
      expect(s.read({ obj: o.obj, page })).toEqual({ ret: 0, value: o.seed + page });
    }
    expect(checkI915(s.world)).toEqual([]);
    return s;
  }

  it('spec C.11 verify-random: 1.5 × LMEM of objects, every read back after eviction and migration matches', () => {
    swapping({});
  });
  it('spec C.11 heavy-verify-random: 3 × LMEM', () => {
    swapping({ heavy: true });
  });
  it('spec C.11 + C.6: an oversubscribed region across suspend / resume keeps every object', () => {
    swapping({ suspendMidway: true });
  });
});

describe('spec C.11 xe_pm / xe_evict (Xe)', () => {
  it('spec C.11 s3-basic-exec: BOs store 0xc0ffee before the suspend point and read it back after', () => {
    const s = new Sim();
    const bos = [[], ['PINNED'], ['PINNED', 'LATE_RESTORE'], ['PINNED', 'USER']].map(
      (flags) => s.call('xe.create', { pages: 4, flags }).out.obj as number,
    );
    for (const obj of bos)
      for (let p = 0; p < 4; p++) expect(s.ret('gpu_write', { obj, page: p, value: 0xc0ffee })).toBe(0);
    expect(s.ret('xe.evict_all')).toBe(0);
    expect(s.ret('xe.restore_early')).toBe(0);
    expect(s.ret('xe.restore_late')).toBe(0);
    for (const obj of bos)
      for (let p = 0; p < 4; p++) expect(s.read({ obj, page: p })).toEqual({ ret: 0, value: 0xc0ffee });
    expect(checkXe(s.world)).toEqual([]);
  });

  // xe_evict itself over-subscribes VRAM during execution (BOs of VRAM×mul/div); the Xe model has
  // no VRAM capacity (docs/ttm-i915-events.md "What the model leaves out"), so this keeps only its
  // assertion, "content must survive eviction", for the eviction the model has: xe.evict_all.
  it("spec C.11 [DERIVED] xe_evict's assertion, content survives eviction, for suspend eviction: 64 user BOs across two suspend cycles", () => {
    const s = new Sim();
    const bos = Array.from({ length: 64 }, () => s.call('xe.create', { pages: 2, flags: [] }).out.obj as number);
    bos.forEach((obj, i) => expect(s.ret('gpu_write', { obj, page: 1, value: 0xc0ffee + i })).toBe(0));
    for (let cycle = 0; cycle < 2; cycle++) {
      expect(s.ret('xe.evict_all')).toBe(0);
      expect(s.ret('xe.restore_early')).toBe(0);
      expect(s.ret('xe.restore_late')).toBe(0);
    }
    bos.forEach((obj, i) => expect(s.read({ obj, page: 1 })).toEqual({ ret: 0, value: 0xc0ffee + i }));
  });
});
