/**
 * A render-node file's prime bookkeeping (drm_prime.c, spec §8.2): drm_prime_lookup_buf_handle
 * gives the lowest handle recorded for a dma-buf, whatever was added, replaced and removed
 * before. gpucr answers it from an index kept beside the world (src/ioctls/drm/prime-index.ts);
 * it must agree with a scan of the world's own record, and a copy of the world (no index yet)
 * must give the same answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../src/ioctls/all.js';
import { primeAdd, primeHandleOf, primeRemove } from '../../src/ioctls/drm/file.js';
import { parseTopology } from '../../src/world/topology.js';
import type { World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';

const FILE = 'file#render';
const DMABUFS = ['file#d1', 'file#d2', 'file#d3'];

/** The reference: the lowest handle whose entry names the dma-buf, by a scan of the record. */
function scan(w: World, dmabuf: string): number | undefined {
  const prime = w.drm?.[FILE]?.prime ?? {};
  const hs = Object.keys(prime)
    .map(Number)
    .filter((h) => prime[h] === dmabuf);
  return hs.length ? Math.min(...hs) : undefined;
}

type Op = { add: [number, number] } | { remove: number };

const ops = fc.array(
  fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 })).map((add): Op => ({ add })),
    fc.integer({ min: 1, max: 8 }).map((remove): Op => ({ remove })),
  ),
  { minLength: 5, maxLength: 40, size: 'max' },
);

describe('drm_prime_lookup_buf_handle (spec §8.2): the lowest handle of a dma-buf in a file', () => {
  it('agrees with a scan of the record after any adds, replacements and removals, and in a copy', () => {
    fc.assert(
      fc.property(ops, (seq) => {
        const w = createWorld(parseTopology({ gpus: [{ gpu_id: 1, render_minor: 128 }] }, []));
        // dma-buf files that stay open whatever the entries do (their last reference is not the cache's)
        for (const id of DMABUFS) w.files[id] = { id, kind: 'dmabuf', gem: 'gem#none', flags: 0, refs: 100 };
        for (const op of seq) {
          if ('add' in op) primeAdd(w, FILE, DMABUFS[op.add[1]]!, op.add[0]);
          else primeRemove(w, FILE, op.remove);
          for (const d of DMABUFS) expect(primeHandleOf(w, FILE, d), d).toBe(scan(w, d));
        }
        const copy = structuredClone(w);
        for (const d of DMABUFS) expect(primeHandleOf(copy, FILE, d)).toBe(scan(w, d));
      }),
      { numRuns: 300 },
    );
  });
});
