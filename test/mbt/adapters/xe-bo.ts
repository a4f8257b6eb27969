/**
 * Adapters for xe_bo (machines/xe/pinned-bo.ts) and xe_device (machines/xe/device.ts),
 * driven through xe.create, xe.evict_all, xe.restore_early, xe.restore_late,
 * xe.destroy and gpu_write / gpu_read {obj}, with the xe.copy fault site:
 *
 *   PLACE           ← xe.create
 *   EVICT_USER      ← xe.evict_all step 1 (a user BO in VRAM)
 *   EVICT_PINNED    ← xe.evict_all steps 2, 3, 5
 *   POWER_OFF       ← a successful xe.evict_all
 *   RESTORE_PINNED  ← xe.restore_early (early list), xe.restore_late (late, external)
 *   MIGRATE         ← gpu_write / gpu_read of a user BO in system memory
 *   WRITE, DESTROY  ← gpu_write, xe.destroy
 * One model instance per list: a user BO, an early and a late kernel BO, a
 * NORESTORE late BO and an external BO (with a second, late BO created after it, whose
 * failing copy leaves the external BO evicted while the device keeps running).
 */
import type { XeBoContext, XeBoEvent, XeBoInput } from '../../../machines/xe/pinned-bo.js';
import { xeBoMachine } from '../../../machines/xe/pinned-bo.js';
import { type XeDeviceEvent, xeDeviceMachine } from '../../../machines/xe/device.js';
import type { Adapter, EventPattern, Macro } from '../../../src/mbt/run.js';
import type { FaultPlan } from '../../../src/world/faults.js';
import { Sim } from '../../conformance/ttm-harness.js';

export class XeSut extends Sim {
  subject: string | undefined;
}

interface Env {
  created: boolean;
  device: 'running' | 'suspended' | 'early';
  companion: boolean;
}

const EIO = 5;
const C0: FaultPlan = { 'xe.copy': { errno: EIO, after: 0, count: 1 } };
const C1: FaultPlan = { 'xe.copy': { errno: EIO, after: 1, count: 1 } };

function arm(s: XeSut, plan: FaultPlan): void {
  s.disarm();
  for (const [site, f] of Object.entries(plan))
    s.fault(site, { errno: String(f!.errno), after: f!.after, count: f!.count });
}

function ok(call: string, r: number, want = 0): void {
  if (r !== want) throw new Error(`${call} returned ${r}, expected ${want}`);
}

type Snap = { matches: (s: never) => boolean; context: unknown };
const ctx = (snap: Snap) => snap.context as XeBoContext;
const is = (snap: Snap, s: string) => snap.matches(s as never);
const running = (env: Env) => env.created && env.device === 'running';

function evictAll(s: XeSut, plan: FaultPlan, want: number): void {
  arm(s, plan);
  ok('xe.evict_all', s.ret('xe.evict_all'), want);
}

const E = (type: string, faults: FaultPlan = {}): EventPattern => ({ type, faults });

const macros: Macro<XeSut, Env>[] = [
  {
    name: 'xe.evict_all (user BO in VRAM)',
    effect: [E('EVICT_USER'), 'POWER_OFF'],
    when: (env, snap) => running(env) && is(snap, 'unpinned.vram'),
    next: (env) => ({ ...env, device: 'suspended' }),
    run: (s) => evictAll(s, {}, 0),
  },
  {
    name: 'xe.evict_all (user BO in system memory)',
    effect: ['POWER_OFF'],
    when: (env, snap) => running(env) && is(snap, 'unpinned.system'),
    next: (env) => ({ ...env, device: 'suspended' }),
    run: (s) => evictAll(s, {}, 0),
  },
  {
    name: 'xe.evict_all (pinned BO present, or external BO)',
    effect: [E('EVICT_PINNED'), 'POWER_OFF'],
    when: (env, snap) =>
      running(env) && (is(snap, 'pinned.present') || (is(snap, 'pinned.evicted') && ctx(snap).list === 'external')),
    next: (env) => ({ ...env, device: 'suspended' }),
    run: (s) => evictAll(s, {}, 0),
  },
  {
    name: 'xe.evict_all (kernel BO left on an evicted list: not visited)',
    effect: ['POWER_OFF'],
    when: (env, snap) => running(env) && is(snap, 'pinned.evicted') && ctx(snap).list !== 'external',
    next: (env) => ({ ...env, device: 'suspended' }),
    run: (s) => evictAll(s, {}, 0),
  },
  {
    name: 'xe.evict_all (this BO’s copy fails)',
    effect: [{ type: 'EVICT_USER', faults: C0 }],
    when: (env, snap) => running(env) && is(snap, 'unpinned.vram'),
    run: (s) => evictAll(s, C0, -EIO),
  },
  {
    name: 'xe.evict_all (this pinned BO’s copy fails)',
    effect: [E('EVICT_PINNED', C0)],
    when: (env, snap) =>
      running(env) &&
      (is(snap, 'pinned.present') || (is(snap, 'pinned.evicted') && ctx(snap).list === 'external')) &&
      !ctx(snap).norestore,
    run: (s) => evictAll(s, C0, -EIO),
  },
  {
    name: 'xe.evict_all (the later late BO’s copy fails)',
    effect: [E('EVICT_PINNED', C1)],
    when: (env, snap) =>
      running(env) &&
      env.companion &&
      (is(snap, 'pinned.present') || (is(snap, 'pinned.evicted') && ctx(snap).list === 'external')),
    run: (s) => evictAll(s, C1, -EIO),
  },
  {
    name: 'xe.create (a late kernel BO after this one)',
    effect: [],
    when: (env) => running(env) && !env.companion,
    next: (env) => ({ ...env, companion: true }),
    run: (s) => ok('xe.create', s.call('xe.create', { pages: 1, flags: ['PINNED', 'LATE_RESTORE'] }).ret),
  },
  {
    name: 'xe.restore_early (early BO)',
    effect: [E('RESTORE_PINNED')],
    when: (env, snap) => env.device === 'suspended' && is(snap, 'pinned.evicted') && ctx(snap).list === 'early',
    next: (env) => ({ ...env, device: 'early' }),
    run: (s) => (s.disarm(), ok('xe.restore_early', s.ret('xe.restore_early'))),
  },
  {
    name: 'xe.restore_early (early BO, copy fails)',
    effect: [E('RESTORE_PINNED', C0)],
    when: (env, snap) =>
      env.device === 'suspended' && is(snap, 'pinned.evicted') && ctx(snap).list === 'early' && !ctx(snap).norestore,
    run: (s) => (arm(s, C0), ok('xe.restore_early', s.ret('xe.restore_early'), -EIO)),
  },
  {
    name: 'xe.restore_early (not an evicted early BO)',
    effect: [],
    when: (env, snap) => env.device === 'suspended' && !(is(snap, 'pinned.evicted') && ctx(snap).list === 'early'),
    next: (env) => ({ ...env, device: 'early' }),
    run: (s) => (s.disarm(), ok('xe.restore_early', s.ret('xe.restore_early'))),
  },
  {
    name: 'xe.restore_late (late or external BO)',
    effect: [E('RESTORE_PINNED')],
    when: (env, snap) =>
      env.device === 'early' && is(snap, 'pinned.evicted') && ctx(snap).list !== 'early' && !env.companion,
    next: (env) => ({ ...env, device: 'running' }),
    run: (s) => (s.disarm(), ok('xe.restore_late', s.ret('xe.restore_late'))),
  },
  {
    name: 'xe.restore_late (late or external BO, copy fails)',
    effect: [E('RESTORE_PINNED', C0)],
    when: (env, snap) =>
      env.device === 'early' &&
      is(snap, 'pinned.evicted') &&
      ctx(snap).list !== 'early' &&
      !ctx(snap).norestore &&
      !env.companion,
    run: (s) => (arm(s, C0), ok('xe.restore_late', s.ret('xe.restore_late'), -EIO)),
  },
  {
    name: 'xe.restore_late (nothing of this BO to restore)',
    effect: [],
    when: (env, snap) =>
      env.device === 'early' && !(is(snap, 'pinned.evicted') && ctx(snap).list !== 'early') && !env.companion,
    next: (env) => ({ ...env, device: 'running' }),
    run: (s) => (s.disarm(), ok('xe.restore_late', s.ret('xe.restore_late'))),
  },
  {
    name: 'gpu_write',
    effect: ['WRITE'],
    when: (env, snap) => running(env) && !is(snap, 'unpinned.system'),
    run: (s) => ok('gpu_write', s.ret('gpu_write', { obj: 2, page: 0, value: 4 })),
  },
  {
    name: 'gpu_write (user BO in system memory: moved back first)',
    effect: [E('MIGRATE'), 'WRITE'],
    when: (env, snap) => running(env) && is(snap, 'unpinned.system'),
    run: (s) => (s.disarm(), ok('gpu_write', s.ret('gpu_write', { obj: 2, page: 0, value: 4 }))),
  },
  {
    name: 'gpu_read (user BO in system memory, the move fails)',
    effect: [E('MIGRATE', C0)],
    when: (env, snap) => running(env) && is(snap, 'unpinned.system'),
    run: (s) => (arm(s, C0), ok('gpu_read', s.read({ obj: 2, page: 0 }).ret, -EIO)),
  },
  {
    name: 'xe.destroy',
    effect: ['DESTROY'],
    when: running,
    run: (s) => ok('xe.destroy', s.ret('xe.destroy', { obj: 2 })),
  },
];

const events: XeBoEvent[] = [
  { type: 'PLACE' },
  { type: 'EVICT_USER', faults: {} },
  { type: 'EVICT_USER', faults: C0 },
  { type: 'MIGRATE', faults: {} },
  { type: 'MIGRATE', faults: C0 },
  { type: 'EVICT_PINNED', faults: {} },
  { type: 'EVICT_PINNED', faults: C0 },
  { type: 'EVICT_PINNED', faults: C1 },
  { type: 'RESTORE_PINNED', faults: {} },
  { type: 'RESTORE_PINNED', faults: C0 },
  { type: 'POWER_OFF' },
  { type: 'WRITE', page: 0, value: 4 },
  { type: 'DESTROY' },
];

function adapter(name: string, flags: string[], input: XeBoInput, companion: boolean): Adapter<XeSut, Env> {
  return {
    name,
    machine: xeBoMachine,
    input,
    events,
    project: ((c: XeBoContext) => c) as never,
    initialEnv: { created: false, device: 'running', companion: false },
    macros: [
      {
        name: `xe.create ${flags.join('|') || '(user BO)'}`,
        effect: ['PLACE'],
        when: (env) => !env.created,
        next: (env) => ({ ...env, created: true }),
        run: (s) => {
          const r = s.call('xe.create', { pages: 2, flags });
          ok('xe.create', r.ret);
          s.subject = `xe.bo#${r.out.obj}`;
        },
      },
      ...macros.filter((m) => companion || (!m.name.includes('later late') && !m.name.includes('after this one'))),
    ],
    setup: () => new XeSut(),
    subject: (s) => s.subject,
  };
}

export const xeUserAdapter = adapter('xe_bo (user BO)', [], { pages: 2, list: null, norestore: false }, false);
export const xeEarlyAdapter = adapter(
  'xe_bo (early kernel BO)',
  ['PINNED'],
  { pages: 2, list: 'early', norestore: false },
  false,
);
export const xeLateAdapter = adapter(
  'xe_bo (late kernel BO)',
  ['PINNED', 'LATE_RESTORE'],
  { pages: 2, list: 'late', norestore: false },
  false,
);
export const xeNorestoreAdapter = adapter(
  'xe_bo (NORESTORE late kernel BO)',
  ['PINNED', 'LATE_RESTORE', 'NORESTORE'],
  { pages: 2, list: 'late', norestore: true },
  false,
);
export const xeExternalAdapter = adapter(
  'xe_bo (external BO, a late BO after it)',
  ['PINNED', 'USER'],
  { pages: 2, list: 'external', norestore: false },
  true,
);

/** xe_device: the power state the three sequences move. */
export const xeDeviceAdapter: Adapter<XeSut, { created: boolean }> = {
  name: 'xe_device (no BOs)',
  machine: xeDeviceMachine,
  events: [{ type: 'EVICTED_ALL' }, { type: 'RESTORED_EARLY' }, { type: 'RESTORED_LATE' }] as XeDeviceEvent[],
  initialEnv: { created: false },
  macros: [
    {
      name: 'xe.evict_all (creates the device)',
      effect: ['EVICTED_ALL'],
      when: (env) => !env.created,
      next: () => ({ created: true }),
      run: (s) => {
        ok('xe.evict_all', s.ret('xe.evict_all'));
        s.subject = 'xe.device#1';
      },
    },
    {
      name: 'xe.evict_all',
      effect: ['EVICTED_ALL'],
      when: (env, snap) => env.created && snap.matches('running' as never),
      run: (s) => ok('xe.evict_all', s.ret('xe.evict_all')),
    },
    {
      name: 'xe.restore_early',
      effect: ['RESTORED_EARLY'],
      when: (env, snap) => env.created && snap.matches('suspended' as never),
      run: (s) => ok('xe.restore_early', s.ret('xe.restore_early')),
    },
    {
      name: 'xe.restore_late',
      effect: ['RESTORED_LATE'],
      when: (env, snap) => env.created && snap.matches('earlyRestored' as never),
      run: (s) => ok('xe.restore_late', s.ret('xe.restore_late')),
    },
  ],
  setup: () => new XeSut(),
  subject: (s) => s.subject,
};
