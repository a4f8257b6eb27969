/**
 * Property test (fast-check): random sequences of populate / writes / backup (purge or
 * not) / restore / unpopulate / clear_backed_up / fini on a tt of 1–6 pages, with random
 * faults armed at random sites before random steps, keep every TTM invariant (spec A.8,
 * A.7) after every step in the fixed variant; every page read back after a successful
 * restore is what was written last (unless purged).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTtm } from '../../src/invariants/ttm.js';
import { Sim, ttCtx } from '../conformance/ttm-harness.js';

const OPS = ['populate', 'unpopulate', 'write', 'backup', 'purge', 'shrink', 'restore', 'clear', 'fini'] as const;
const SITES = ['ttm.backup_page', 'ttm.copy_page', 'ttm.restore_alloc', 'ttm.no_swap'] as const;
const ERRNOS = ['ENOMEM', 'EINTR', 'ENOSPC', 'EIO'] as const;

const step = fc.record({
  op: fc.constantFrom(...OPS),
  page: fc.nat(7),
  value: fc.integer({ min: 1, max: 0xffff }),
  fault: fc.option(
    fc.record({
      site: fc.constantFrom(...SITES),
      errno: fc.constantFrom(...ERRNOS),
      after: fc.nat(5),
      count: fc.integer({ min: 1, max: 3 }),
    }),
    { freq: 3 },
  ),
});

describe('spec A.8: random operation sequences with random faults', () => {
  it('spec A.8 1–7, A.7: every invariant holds after every step (fixed variant)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.array(step, { maxLength: 40 }),
        (pages, dma, steps) => {
          const s = new Sim();
          const tt = s.createTt({ num_pages: pages, caching: 'wc', backup: true, dma_alloc: dma && pages === 1 });
          const written: Record<number, number> = {};
          for (const st of steps) {
            if (st.fault)
              s.fault(st.fault.site, { errno: st.fault.errno, after: st.fault.after, count: st.fault.count });
            const page = st.page % pages;
            switch (st.op) {
              case 'populate':
                s.ret('ttm.populate', { tt });
                break;
              case 'unpopulate':
                s.ret('ttm.unpopulate', { tt });
                break;
              case 'write':
                if (s.ret('gpu_write', { tt, page, value: st.value }) === 0) written[page] = st.value;
                break;
              case 'backup':
                s.ret('ttm.backup', { tt });
                break;
              case 'purge':
                s.ret('ttm.backup', { tt, purge: true });
                break;
              case 'shrink':
                s.ret('ttm.shrink', { tt, writeback: true });
                break;
              case 'restore':
                s.ret('ttm.restore', { tt, interruptible: true });
                break;
              case 'clear':
                s.ret('ttm.clear_backed_up', { tt });
                break;
              case 'fini':
                s.ret('ttm.fini', { tt });
                break;
            }
            const v = checkTtm(s.world);
            if (v.length) throw new Error(`after ${st.op}: ${JSON.stringify(v)}`);
            // What the workload reads is what the model says was written and not discarded.
            const c = ttCtx(s, tt);
            if (c.flags.populated)
              for (let p = 0; p < pages; p++)
                expect(s.read({ tt, page: p })).toEqual({ ret: 0, value: c.content[p] ?? 0 });
            // Nothing but purge, unpopulate and fini discards content.
            if (!['purge', 'unpopulate', 'fini', 'populate', 'clear'].includes(st.op) && c.flags.populated)
              for (const [p, val] of Object.entries(written)) expect(c.content[Number(p)]).toBe(val);
            if (['purge', 'unpopulate', 'fini'].includes(st.op) && Object.keys(c.content).length === 0)
              for (const k of Object.keys(written)) delete written[Number(k)];
          }
        },
      ),
      { numRuns: 500, seed: 0x7717 },
    );
  });
});
