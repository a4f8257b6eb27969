/**
 * src/world/idr.ts against lib/idr.c's contract: idr_alloc(idr, ptr, start, end) hands out
 * the lowest free id in [start, end), -ENOSPC (null) when there is none; idr_remove frees an
 * id. The search hints kept beside a record (the next id to search from, and the ids freed
 * below it) must never change which id is handed out, whatever was removed or taken exactly
 * in between: a copy of the record (no hints) allocates the same ids.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idrAllocIn, idrRemoveIn } from '../../src/world/idr.js';

/** Allocate the lowest free id, remove an id, or take an exact id as idrAllocAt and GEM_CHANGE_HANDLE do. */
type Op = { alloc: true } | { alloc: false; id: number } | { exact: number };

/** The reference: scan from start for the lowest id not taken. */
function lowestFree(taken: Set<number>, start: number, end: number): number | null {
  for (let h = start; h < end; h++) if (!taken.has(h)) return h;
  return null;
}

const ops = fc.array(
  fc.oneof(
    fc.constant<Op>({ alloc: true }),
    fc.integer({ min: 0, max: 12 }).map((id): Op => ({ alloc: false, id })),
    fc.integer({ min: 0, max: 12 }).map((id): Op => ({ exact: id })),
  ),
  // Long enough that an id is allocated, freed, taken exactly and searched past in one run.
  { minLength: 10, maxLength: 60, size: 'max' },
);

describe('idr_alloc / idr_remove (lib/idr.c; pdd alloc_idr spec §7.2, render-node object_idr spec §8.2)', () => {
  it('hands out the lowest free id in [start, end), null when full, whatever was removed before', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 10 }), (seq, start, span) => {
        const end = start + span;
        const idr: Record<number, string> = {};
        const taken = new Set<number>();
        for (const op of seq) {
          if ('exact' in op) {
            // idr_alloc(idr, ptr, id, id + 1) writes the record directly (world/idr.ts idrAllocAt)
            if (!taken.has(op.exact)) {
              idr[op.exact] = `exact${op.exact}`;
              taken.add(op.exact);
            }
          } else if (op.alloc) {
            const want = lowestFree(taken, start, end);
            // A copy has no hint: it must agree with the hinted record.
            const copy = { ...idr };
            expect(idrAllocIn(copy, 'x', start, end)).toBe(want);
            expect(idrAllocIn(idr, `obj${want}`, start, end)).toBe(want);
            if (want !== null) {
              taken.add(want);
              expect(idr[want]).toBe(`obj${want}`);
            }
          } else {
            expect(idrRemoveIn(idr, op.id)).toBe(taken.delete(op.id));
            expect(idr[op.id]).toBeUndefined();
          }
        }
        expect(
          Object.keys(idr)
            .map(Number)
            .sort((a, b) => a - b),
        ).toEqual([...taken].sort((a, b) => a - b));
      }),
      { numRuns: 500 },
    );
  });

  it('render-node handles start at 1: idr_alloc(&file_priv->object_idr, NULL, 1, 0)', () => {
    const idr: Record<number, string> = {};
    expect(idrAllocIn(idr, 'gem#1', 1, 0x80000000)).toBe(1);
    expect(idrAllocIn(idr, 'gem#2', 1, 0x80000000)).toBe(2);
    expect(idrRemoveIn(idr, 1)).toBe(true);
    expect(idrRemoveIn(idr, 1)).toBe(false);
    expect(idrAllocIn(idr, 'gem#3', 1, 0x80000000)).toBe(1);
  });
});
