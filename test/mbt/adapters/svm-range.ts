/**
 * Adapter for kfd_svm_range (machines/kfd/svm-range.ts): the SVM range of the application
 * that starts at page S (XNACK off, so a range some GPU may access is mapped eagerly).
 *
 *   SET_ATTRS {map: true}   ← SVM SET_ATTR over the range with ACCESS for GPU A
 *   SET_ATTRS {map: false}  ← SVM SET_ATTR with NO_ACCESS for every GPU; the creating
 *                             SET_ATTR without access; RESUME replaying a range RESTORE saved
 *                             (kfd_criu_resume_svm, §5.5 step 3)
 *   RESIZE                  ← SVM SET_ATTR on the range's last page: svm_range_add splits the
 *                             range, which keeps its head (the tail becomes a new range)
 *   DESTROY                 ← exit (the model has no munmap / SVM unmap call)
 */
import type { SvmRangeContext, SvmRangeEvent } from '../../../machines/kfd/svm-range.js';
import { svmRangeMachine } from '../../../machines/kfd/svm-range.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { APP, GPU_A, GPU_B, KfdWorld, PAGE, svmPriv } from './world.js';

interface Env {
  created: boolean;
}

const START = 0x7e0000000n; // page of 0x7e0000000000
const NPAGES = 64n;
const UNDEFINED = 0xffffffff;
const HOST_ACCESS_COHERENT = 0x1 | 0x2;

function range(w: KfdWorld): SvmRangeContext {
  return w.world.objects[w.subject!]!.context as SvmRangeContext;
}

function setAttr(w: KfdWorld, start: bigint, npages: bigint, attrs: { type: string; value: number }[]): void {
  w.ioctl('AMDKFD_IOC_SVM', { start_addr: start * PAGE, size: npages * PAGE, op: 'SET_ATTR', attrs });
}

function findSubject(w: KfdWorld): void {
  w.subject = w.task().svm_ranges.find((id) => (w.world.objects[id]!.context as SvmRangeContext).start === START);
  if (!w.subject) throw new Error('no SVM range starts at page S');
}

const created = (env: Env) => env.created;
const create = (env: Env): Env => ({ ...env, created: true });

const macros: Macro<KfdWorld, Env>[] = [
  {
    name: 'SVM SET_ATTR ACCESS A (new range)',
    effect: [{ type: 'SET_ATTRS', map: true }],
    when: (env) => !env.created,
    next: create,
    run: (w) => {
      setAttr(w, START, NPAGES, [{ type: 'ACCESS', value: GPU_A }]);
      findSubject(w);
    },
  },
  {
    name: 'SVM SET_ATTR GRANULARITY (new range, no access)',
    effect: [{ type: 'SET_ATTRS', map: false }],
    when: (env) => !env.created,
    next: create,
    run: (w) => {
      setAttr(w, START, NPAGES, [{ type: 'GRANULARITY', value: 9 }]);
      findSubject(w);
    },
  },
  {
    name: 'CRIU_OP RESTORE (SVM range) + RESUME',
    effect: [{ type: 'SET_ATTRS', map: false }],
    when: (env) => !env.created,
    next: create,
    run: (w) => {
      w.restore({ objects: [svmPriv(START, NPAGES)] });
      if (w.task().svm_ranges.length !== 0)
        throw new Error('RESTORE created SVM ranges before RESUME (spec §5.4 step 5)');
      w.resume();
      findSubject(w);
    },
  },
  {
    name: 'SVM SET_ATTR ACCESS A',
    effect: [{ type: 'SET_ATTRS', map: true }],
    when: created,
    run: (w) => setAttr(w, range(w).start, range(w).npages, [{ type: 'ACCESS', value: GPU_A }]),
  },
  {
    name: 'SVM SET_ATTR NO_ACCESS A, B',
    effect: [{ type: 'SET_ATTRS', map: false }],
    when: created,
    run: (w) =>
      setAttr(w, range(w).start, range(w).npages, [
        { type: 'NO_ACCESS', value: GPU_A },
        { type: 'NO_ACCESS', value: GPU_B },
      ]),
  },
  {
    name: 'SVM SET_ATTR on the last page (split)',
    effect: ['RESIZE'],
    when: created,
    run: (w) => {
      const r = range(w);
      if (r.npages < 2n) throw new Error('the range is too small to split');
      setAttr(w, r.start + r.npages - 1n, 1n, [{ type: 'GRANULARITY', value: 9 }]);
    },
  },
  { name: 'exit', effect: ['DESTROY'], when: created, run: (w) => w.exit() },
];

export const svmRangeAdapter: Adapter<KfdWorld, Env> = {
  name: 'kfd_svm_range',
  machine: svmRangeMachine,
  input: {
    pid: APP,
    start: START,
    npages: NPAGES,
    preferred_loc: UNDEFINED,
    prefetch_loc: UNDEFINED,
    flags: HOST_ACCESS_COHERENT,
    granularity: 9,
    access: [],
    access_in_place: [],
  } satisfies SvmRangeContext,
  events: [
    { type: 'SET_ATTRS', attrs: { access: [GPU_A], access_in_place: [] }, map: true },
    { type: 'SET_ATTRS', attrs: { access: [], access_in_place: [] }, map: false },
    { type: 'RESIZE', start: START, npages: NPAGES - 1n },
    { type: 'DESTROY' },
  ] satisfies SvmRangeEvent[],
  abstract: () => null,
  project: (c: SvmRangeContext) => ({ start: c.start, access: c.access, access_in_place: c.access_in_place }),
  initialEnv: { created: false },
  setup: () => new KfdWorld(),
  subject: (w) => w.subject,
  macros,
};
