/**
 * Property test (fast-check): random workloads on an i915 region (objects of every kind
 * created, written, pinned, unpinned, destroyed, LMEM oversubscribed) interleaved with
 * suspend / resume and the region passes on their own, with random faults, keep every
 * i915 invariant (spec C.9) after every step in the final variant. Reads always return
 * what was last written (or 0 for content discarded by PM_VOLATILE or a WARN).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { LmemObjectContext } from '../../machines/i915/lmem-object.js';
import { checkI915 } from '../../src/invariants/i915.js';
import { Sim } from '../conformance/ttm-harness.js';

const FLAGS = [['USER'], ['PINNED'], ['PINNED', 'PM_EARLY'], ['PINNED', 'PM_VOLATILE'], []] as const;
const SITES = ['i915.copy', 'i915.populate', 'i915.gt_wedged'] as const;

const step = fc.record({
  op: fc.constantFrom(
    'create',
    'write',
    'read',
    'pin',
    'unpin',
    'destroy',
    'suspend+resume',
    'suspend',
    'resume',
    'backup',
    'restore',
    'recover',
    'gt_idle',
  ),
  which: fc.nat(20),
  pages: fc.integer({ min: 1, max: 600 }),
  flags: fc.nat(FLAGS.length - 1),
  bool: fc.boolean(),
  value: fc.integer({ min: 1, max: 1000 }),
  fault: fc.option(
    fc.record({ site: fc.constantFrom(...SITES), after: fc.nat(4), count: fc.integer({ min: 1, max: 2 }) }),
    { freq: 3 },
  ),
});

describe('spec C.9: random region workloads with random faults', () => {
  it('spec C.9: every invariant holds after every step, and reads return what was written (final variant)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const s = new Sim();
        const objs: number[] = [];
        for (const st of steps) {
          if (st.fault) s.fault(st.fault.site, { after: st.fault.after, count: st.fault.count });
          const obj = objs.length ? objs[st.which % objs.length]! : 999;
          switch (st.op) {
            case 'create': {
              const r = s.call('i915.create', { pages: st.pages, flags: [...FLAGS[st.flags]!] });
              if (r.ret === 0) objs.push(r.out.obj as number);
              break;
            }
            case 'write':
              s.ret('gpu_write', { obj, page: st.which % 4, value: st.value });
              break;
            case 'read': {
              const r = s.read({ obj, page: st.which % 4 });
              const rec = s.world.objects[`i915.lmem_object#${obj}`];
              if (r.ret === 0 && rec) {
                const want = (rec.context as LmemObjectContext).expected[st.which % 4] ?? 0;
                if (r.value !== want) throw new Error(`read ${r.value}, written ${want}`);
              }
              break;
            }
            case 'pin':
              s.ret('i915.pin', { obj });
              break;
            case 'unpin':
              s.ret('i915.unpin', { obj });
              break;
            case 'destroy':
              s.ret('i915.destroy', { obj });
              break;
            case 'suspend+resume':
              if (s.ret('i915.suspend') === 0) s.ret('i915.resume');
              break;
            case 'suspend':
              s.ret('i915.suspend');
              break;
            case 'resume':
              s.ret('i915.resume');
              break;
            case 'backup':
              s.ret('i915.backup_region', { allow_gpu: st.bool, pinned: st.which % 2 === 0 });
              break;
            case 'restore':
              s.ret('i915.restore_region', { allow_gpu: st.bool });
              break;
            case 'recover':
              s.ret('i915.recover_region');
              break;
            case 'gt_idle':
              s.ret('i915.gt_idle');
              break;
          }
          const v = checkI915(s.world);
          if (v.length) throw new Error(`after ${st.op}: ${JSON.stringify(v)}`);
        }
      }),
      { numRuns: 300, seed: 0x1915 },
    );
  });
});
