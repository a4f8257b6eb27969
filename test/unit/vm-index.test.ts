/**
 * The VM mapping index (src/world/vm.ts), kept beside the world in sorted chunks, against a
 * plain list: random inserts of disjoint ranges and removals, past the chunk size, give the
 * same first overlap and the same overlapping ranges for random queries, and the index
 * equals that list and no other (vmIndexEquals, which amdgpu.vm-index asks).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VmRange } from '../../src/world/types.js';
import {
  emptyVm,
  vmFirstOverlap,
  vmIndexed,
  vmIndexEquals,
  vmInsert,
  vmOverlapping,
  vmRemove,
} from '../../src/world/vm.js';
import { createWorld } from '../../src/world/world.js';

const world = createWorld({ page_size: 4096, gpus: [], processes: [] });

describe('the VM mapping index equals a sorted list', () => {
  it('random inserts, removals and queries over 1,500 ranges (several chunks)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 2 })), {
          minLength: 1200,
          maxLength: 1500,
        }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12_100 }), fc.integer({ min: 0, max: 20 })), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 400 }),
        (slots, queries, removals) => {
          const vm = emptyVm();
          const list: VmRange[] = [];
          // Slot s holds [3s, 3s + len]: disjoint by construction; inserted in random order.
          const seen = new Set<number>();
          for (const [s, len] of slots) {
            if (seen.has(s)) continue;
            seen.add(s);
            const r = { start: BigInt(3 * s), last: BigInt(3 * s + len), bo_va: `bo_va#${s}` };
            vmInsert(world, vm, r);
            list.push(r);
          }
          for (const k of removals) {
            if (list.length === 0) break;
            const [r] = list.splice(k % list.length, 1);
            vmRemove(world, vm, r!.start, r!.bo_va);
          }
          list.sort((a, b) => (a.start < b.start ? -1 : 1));
          expect(vmIndexed(vm)).toEqual(list);
          // What amdgpu.vm-index asks: equal to this list, and to no list that differs from it.
          expect(vmIndexEquals(vm, list)).toBe(true);
          if (list.length > 0) {
            const k = list.length >> 1;
            const r = list[k]!;
            expect(vmIndexEquals(vm, list.slice(1))).toBe(false);
            expect(vmIndexEquals(vm, [...list, { start: 1n << 40n, last: 1n << 40n, bo_va: 'x' }])).toBe(false);
            for (const changed of [
              { ...r, last: r.last + 1n },
              { ...r, start: r.start - 1n },
              { ...r, bo_va: 'other' },
            ])
              expect(vmIndexEquals(vm, list.with(k, changed))).toBe(false);
          }
          for (const [q, len] of queries) {
            const [start, last] = [BigInt(q), BigInt(q + len)];
            const hits = list.filter((r) => r.start <= last && r.last >= start);
            expect(vmOverlapping(world, vm, start, last)).toEqual(hits);
            expect(vmFirstOverlap(world, vm, start, last)).toEqual(hits[0]);
          }
        },
      ),
      { numRuns: 25, seed: 0x7a },
    );
  });

  it('an overlapping insert and the removal of a range that is not there are refused', () => {
    const vm = emptyVm();
    vmInsert(world, vm, { start: 10n, last: 19n, bo_va: 'a' });
    expect(() => vmInsert(world, vm, { start: 19n, last: 25n, bo_va: 'b' })).toThrow(/overlaps/);
    expect(() => vmRemove(world, vm, 10n, 'b')).toThrow(/no mapping of b/);
  });
});
