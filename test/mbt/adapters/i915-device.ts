/**
 * Adapter for i915_device (machines/i915/suspend.ts): the suspend / resume sequence and
 * the GT, driven by i915.suspend, i915.resume, i915.gt_idle and the workload, with one
 * pinned object in LMEM (so that a failing backup can abort the suspend):
 *
 *   SUSPEND, STEP_OK…, STEP_FAILED, RECOVERED  ← i915.suspend (C.6)
 *   RESUME, STEP_OK…, STEP_FAILED              ← i915.resume (C.7)
 *   GT_IDLE / GT_WEDGE                         ← step 2 of i915.suspend; i915.gt_idle (site i915.gt_wedged)
 *   GT_RESET / GT_WEDGE                        ← step 2 of i915.resume
 *   GT_UNPARK                                  ← gpu_write on an idle GT
 *   USED / FORGET                              ← i915.create, gpu_write / i915.destroy of the object
 *   PLACED                                     ← i915.create (the head of the region's list)
 *   WALK_STOPPED                               ← a region pass that stops at an error (step 3's backup)
 */
import { type I915DeviceContext, type I915DeviceEvent, i915DeviceMachine } from '../../../machines/i915/suspend.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { Sim } from '../../conformance/ttm-harness.js';

export class DeviceSut extends Sim {
  subject: string | undefined;
}

interface Env {
  created: boolean;
  /** The pinned object still exists. */
  obj: boolean;
}

const OBJ = 'i915.lmem_object#2';
const gt = (snap: { matches: (s: never) => boolean }, s: string) => snap.matches({ gt: s } as never);
const pm = (snap: { matches: (s: never) => boolean }, s: string) => snap.matches({ pm: s } as never);

function ok(call: string, r: number, want = 0): void {
  if (r !== want) throw new Error(`${call} returned ${r}, expected ${want}`);
}

function wedgeNext(s: DeviceSut): void {
  s.disarm();
  s.fault('i915.gt_wedged');
}

const macros: Macro<DeviceSut, Env>[] = [
  {
    name: 'i915.create PINNED (the first i915 call creates the device)',
    effect: [
      { type: 'USED', obj: OBJ, region: 0 },
      { type: 'PLACED', obj: OBJ, region: 0 },
    ],
    when: (env) => !env.created,
    next: (env) => ({ ...env, created: true, obj: true }),
    run: (s) => {
      const r = s.call('i915.create', { pages: 4, flags: ['PINNED'] });
      ok('i915.create', r.ret);
      s.subject = 'i915.device#1';
    },
  },
  {
    name: 'i915.suspend (GT active)',
    effect: ['SUSPEND', 'STEP_OK', 'GT_IDLE', 'STEP_OK', 'STEP_OK', 'STEP_OK'],
    when: (env, snap) => env.created && pm(snap, 'running') && gt(snap, 'active'),
    run: (s) => (s.disarm(), ok('i915.suspend', s.ret('i915.suspend'))),
  },
  {
    name: 'i915.suspend (GT already idle)',
    effect: ['SUSPEND', 'STEP_OK', 'STEP_OK', 'STEP_OK', 'STEP_OK'],
    when: (env, snap) => env.created && pm(snap, 'running') && gt(snap, 'idle'),
    run: (s) => (s.disarm(), ok('i915.suspend', s.ret('i915.suspend'))),
  },
  {
    name: 'i915.suspend (the GT is wedged at step 2)',
    effect: ['SUSPEND', 'STEP_OK', 'GT_WEDGE', 'STEP_OK', 'STEP_OK', 'STEP_OK'],
    when: (env, snap) => env.created && pm(snap, 'running') && !gt(snap, 'wedged'),
    run: (s) => (wedgeNext(s), ok('i915.suspend', s.ret('i915.suspend'))),
  },
  {
    name: 'i915.suspend (step 3 fails: backup object populate)',
    effect: [
      'SUSPEND',
      'STEP_OK',
      'GT_IDLE',
      { type: 'WALK_STOPPED', region: 0, processed: [OBJ] },
      'STEP_FAILED',
      'RECOVERED',
    ],
    when: (env, snap) => env.created && env.obj && pm(snap, 'running') && gt(snap, 'active'),
    run: (s) => {
      s.disarm();
      s.fault('i915.populate');
      ok('i915.suspend', s.ret('i915.suspend'), -12);
    },
  },
  {
    name: 'i915.resume',
    effect: ['RESUME', 'STEP_OK', 'GT_RESET', 'STEP_OK', 'STEP_OK'],
    when: (env, snap) => env.created && pm(snap, 'suspended'),
    run: (s) => (s.disarm(), ok('i915.resume', s.ret('i915.resume'))),
  },
  {
    name: 'i915.resume (the GT cannot be re-initialised)',
    effect: ['RESUME', 'STEP_OK', 'GT_WEDGE', 'STEP_FAILED'],
    when: (env, snap) => env.created && pm(snap, 'suspended') && !gt(snap, 'wedged'),
    run: (s) => (wedgeNext(s), ok('i915.resume', s.ret('i915.resume'))),
  },
  {
    name: 'i915.resume (the GT stays wedged)',
    effect: ['RESUME', 'STEP_OK', 'STEP_FAILED'],
    when: (env, snap) => env.created && pm(snap, 'suspended') && gt(snap, 'wedged'),
    run: (s) => (wedgeNext(s), ok('i915.resume', s.ret('i915.resume'))),
  },
  {
    name: 'i915.gt_idle',
    effect: ['GT_IDLE'],
    when: (env, snap) => env.created && pm(snap, 'running') && gt(snap, 'active'),
    run: (s) => (s.disarm(), ok('i915.gt_idle', s.ret('i915.gt_idle'))),
  },
  {
    name: 'i915.gt_idle (the GT is wedged)',
    effect: ['GT_WEDGE'],
    when: (env, snap) => env.created && pm(snap, 'running') && !gt(snap, 'wedged'),
    run: (s) => (wedgeNext(s), ok('i915.gt_idle', s.ret('i915.gt_idle'))),
  },
  {
    name: 'gpu_write (GT idle: unparks it)',
    effect: ['GT_UNPARK', { type: 'USED', obj: OBJ, region: 0 }],
    when: (env, snap) => env.obj && pm(snap, 'running') && gt(snap, 'idle'),
    run: (s) => ok('gpu_write', s.ret('gpu_write', { obj: 2, page: 0, value: 1 })),
  },
  {
    name: 'gpu_write (GT active)',
    effect: [{ type: 'USED', obj: OBJ, region: 0 }],
    when: (env, snap) => env.obj && pm(snap, 'running') && gt(snap, 'active'),
    run: (s) => ok('gpu_write', s.ret('gpu_write', { obj: 2, page: 0, value: 2 })),
  },
  {
    name: 'i915.destroy',
    effect: [{ type: 'FORGET', obj: OBJ }],
    when: (env, snap) => env.obj && pm(snap, 'running'),
    next: (env) => ({ ...env, obj: false }),
    run: (s) => ok('i915.destroy', s.ret('i915.destroy', { obj: 2 })),
  },
];

const events: I915DeviceEvent[] = [
  { type: 'SUSPEND' },
  { type: 'RESUME' },
  { type: 'STEP_OK' },
  { type: 'STEP_FAILED' },
  { type: 'RECOVERED' },
  { type: 'GT_IDLE' },
  { type: 'GT_UNPARK' },
  { type: 'GT_WEDGE' },
  { type: 'GT_RESET' },
  { type: 'USED', obj: OBJ, region: 0 },
  { type: 'FORGET', obj: OBJ },
  { type: 'PLACED', obj: OBJ, region: 0 },
  { type: 'WALK_STOPPED', region: 0, processed: [OBJ] },
];

export const i915DeviceAdapter: Adapter<DeviceSut, Env> = {
  name: 'i915_device (one pinned object)',
  machine: i915DeviceMachine,
  input: { lmem_pages: 1024, regions: 1 },
  events,
  project: ((c: I915DeviceContext) => c) as never,
  initialEnv: { created: false, obj: false },
  macros,
  setup: () => new DeviceSut(),
  subject: (s) => s.subject,
};
