/**
 * Adapters for i915_lmem_object (machines/i915/lmem-object.ts), driven through the
 * `i915.*` events, gpu_write / gpu_read {obj} and fault injection:
 *
 *   PIN             ← i915.pin; i915.create PINNED
 *   UNPIN           ← i915.unpin
 *   EVICT           ← i915.create of a second object that fills LMEM (then destroyed)
 *   MIGRATE         ← i915.pin, gpu_write, gpu_read of an evicted object
 *   BACKUP          ← i915.backup_region; i915.suspend (three passes, then POWER_OFF)
 *   RESTORE         ← i915.restore_region; i915.resume (two passes)
 *   RECOVER         ← i915.recover_region; a failing i915.suspend
 *   POWER_OFF       ← i915.suspend (an evicted object gets only this: it is not on the LMEM list)
 *   WRITE           ← gpu_write {obj}
 *   DESTROY         ← i915.destroy
 * Model instances by creation flags: a user object, a pinned kernel object, a pinned
 * PM_VOLATILE one and a pinned PM_EARLY one. The environment tracks whether the object
 * exists and whether the device is suspended.
 */
import {
  type LmemObjectContext,
  type LmemObjectEvent,
  type LmemObjectInput,
  lmemObjectMachine,
  lmemResult,
} from '../../../machines/i915/lmem-object.js';
import type { Adapter, EventPattern, Macro, MacroRun } from '../../../src/mbt/run.js';
import type { FaultPlan } from '../../../src/world/faults.js';
import { Sim } from '../../conformance/ttm-harness.js';

export class I915Sut extends Sim {
  subject: string | undefined;
  /** The object number i915.create returned. */
  obj = 0;
}

interface Env {
  created: boolean;
  suspended: boolean;
}

const EIO = 5;
const ENOMEM = 12;
const COPY: FaultPlan = { 'i915.copy': { errno: EIO, after: 0, count: 1 } };
const POPULATE: FaultPlan = { 'i915.populate': { errno: ENOMEM, after: 0, count: 1 } };

function arm(s: I915Sut, plan: FaultPlan): void {
  s.disarm();
  for (const [site, f] of Object.entries(plan))
    s.fault(site, { errno: String(f!.errno), after: f!.after, count: f!.count });
}

function expectRet(call: string, r: number, want: number): void {
  if (r !== want) throw new Error(`${call} returned ${r}, expected ${want}`);
}

/** The machine's own result of the macro's (only) event: what the handler must return. */
function modelRet(m: MacroRun<Env>): number {
  return lmemResult(m.before.context as LmemObjectContext, m.events[0] as LmemObjectEvent).ret;
}

const running = (env: Env) => env.created && !env.suspended;
const inState =
  (...states: string[]) =>
  (env: Env, snap: { matches: (s: never) => boolean }) =>
    running(env) && states.some((s) => snap.matches(s as never));

const B = (allow_gpu: boolean, pinned: boolean, faults: FaultPlan = {}): EventPattern => ({
  type: 'BACKUP',
  allow_gpu,
  pinned,
  engine: allow_gpu ? 'blt' : 'memcpy',
  faults,
});
const R = (allow_gpu: boolean, faults: FaultPlan = {}): EventPattern => ({
  type: 'RESTORE',
  allow_gpu,
  engine: allow_gpu ? 'blt' : 'memcpy',
  faults,
});

const macros: Macro<I915Sut, Env>[] = [
  {
    name: 'i915.pin',
    effect: ['PIN'],
    when: inState('resident', 'pinned', 'restored'),
    run: (s) => expectRet('i915.pin', s.ret('i915.pin', { obj: s.obj }), 0),
  },
  {
    name: 'i915.pin (evicted: moved back first)',
    effect: [{ type: 'MIGRATE', faults: {} }, 'PIN'],
    when: inState('evicted'),
    run: (s) => {
      s.disarm();
      expectRet('i915.pin', s.ret('i915.pin', { obj: s.obj }), 0);
    },
  },
  {
    name: 'i915.pin (evicted, the move back fails)',
    effect: [{ type: 'MIGRATE', faults: COPY }],
    when: inState('evicted'),
    run: (s) => {
      arm(s, COPY);
      expectRet('i915.pin', s.ret('i915.pin', { obj: s.obj }), -EIO);
    },
  },
  {
    name: 'i915.unpin',
    effect: ['UNPIN'],
    when: inState('pinned', 'restored'),
    run: (s) => expectRet('i915.unpin', s.ret('i915.unpin', { obj: s.obj }), 0),
  },
  {
    name: 'gpu_write',
    effect: ['WRITE'],
    when: inState('resident', 'pinned', 'restored'),
    run: (s, m) => {
      const e = m.events[0] as Extract<LmemObjectEvent, { type: 'WRITE' }>;
      expectRet('gpu_write', s.ret('gpu_write', { obj: s.obj, page: e.page, value: e.value }), 0);
    },
  },
  {
    name: 'gpu_write (evicted: moved back first)',
    effect: [{ type: 'MIGRATE', faults: {} }, 'WRITE'],
    when: inState('evicted'),
    run: (s, m) => {
      s.disarm();
      const e = m.events[1] as Extract<LmemObjectEvent, { type: 'WRITE' }>;
      expectRet('gpu_write', s.ret('gpu_write', { obj: s.obj, page: e.page, value: e.value }), 0);
    },
  },
  {
    name: 'gpu_read (evicted: moved back)',
    effect: [{ type: 'MIGRATE', faults: {} }],
    when: inState('evicted'),
    run: (s) => {
      s.disarm();
      expectRet('gpu_read', s.read({ obj: s.obj, page: 0 }).ret, 0);
    },
  },
  {
    name: 'i915.create filling LMEM, then i915.destroy of it',
    effect: ['EVICT'],
    when: inState('resident'),
    run: (s, m) => {
      const e = m.events[0] as Extract<LmemObjectEvent, { type: 'EVICT' }>;
      arm(s, e.faults);
      const r = s.call('i915.create', { pages: 1024 });
      expectRet('i915.create', r.ret, modelRet(m));
      if (r.ret === 0) expectRet('i915.destroy', s.ret('i915.destroy', { obj: r.out.obj }), 0);
    },
  },
  {
    name: 'i915.backup_region',
    effect: ['BACKUP'],
    when: running,
    run: (s, m) => {
      const e = m.events[0] as Extract<LmemObjectEvent, { type: 'BACKUP' }>;
      arm(s, e.faults);
      const r = s.ret('i915.backup_region', { allow_gpu: e.allow_gpu, pinned: e.pinned });
      expectRet('i915.backup_region', r, modelRet(m));
    },
  },
  {
    name: 'i915.restore_region',
    effect: ['RESTORE'],
    when: running,
    run: (s, m) => {
      const e = m.events[0] as Extract<LmemObjectEvent, { type: 'RESTORE' }>;
      arm(s, e.faults);
      expectRet('i915.restore_region', s.ret('i915.restore_region', { allow_gpu: e.allow_gpu }), modelRet(m));
    },
  },
  {
    name: 'i915.recover_region',
    effect: ['RECOVER'],
    when: running,
    run: (s) => expectRet('i915.recover_region', s.ret('i915.recover_region'), 0),
  },
  {
    name: 'i915.suspend',
    effect: [B(true, false), B(true, true), B(false, true), 'POWER_OFF'],
    when: running,
    next: (env) => ({ ...env, suspended: true }),
    run: (s) => {
      s.disarm();
      expectRet('i915.suspend', s.ret('i915.suspend'), 0);
    },
  },
  {
    // An evicted object is on the SMEM region's list: the three passes do not meet it.
    name: 'i915.suspend (evicted: not on the LMEM region list)',
    effect: ['POWER_OFF'],
    when: (env, snap) => running(env) && snap.matches('evicted' as never),
    next: (env) => ({ ...env, suspended: true }),
    run: (s) => {
      s.disarm();
      expectRet('i915.suspend', s.ret('i915.suspend'), 0);
    },
  },
  {
    name: 'i915.suspend (step 3: the backup object cannot be populated)',
    effect: [B(true, false, POPULATE), B(true, true, POPULATE), 'RECOVER'],
    when: (env, snap) => {
      const c = snap.context as unknown as LmemObjectContext;
      return inState('pinned', 'restored')(env, snap) && !c.early && !c.volatile;
    },
    run: (s) => {
      arm(s, POPULATE);
      expectRet('i915.suspend', s.ret('i915.suspend'), -ENOMEM);
    },
  },
  {
    name: 'i915.resume',
    effect: [R(false), R(true)],
    when: (env) => env.created && env.suspended,
    next: (env) => ({ ...env, suspended: false }),
    run: (s) => {
      s.disarm();
      expectRet('i915.resume', s.ret('i915.resume'), 0);
    },
  },
  {
    name: 'i915.resume (the backup object cannot be populated)',
    effect: [R(false, POPULATE), R(true, POPULATE)],
    when: (env, snap) =>
      env.created &&
      env.suspended &&
      snap.matches('backedUp' as never) &&
      !(snap.context as unknown as LmemObjectContext).early,
    next: (env) => ({ ...env, suspended: false }),
    run: (s) => {
      arm(s, POPULATE);
      expectRet('i915.resume', s.ret('i915.resume'), 0);
    },
  },
  {
    name: 'i915.destroy',
    effect: ['DESTROY'],
    when: running,
    run: (s) => expectRet('i915.destroy', s.ret('i915.destroy', { obj: s.obj }), 0),
  },
];

function create(flags: string[]) {
  return (s: I915Sut) => {
    const r = s.call('i915.create', { pages: 2, flags });
    expectRet('i915.create', r.ret, 0);
    s.obj = r.out.obj as number;
    s.subject = `i915.lmem_object#${s.obj}`;
  };
}

const events = (extra: LmemObjectEvent[] = []): LmemObjectEvent[] => {
  const out: LmemObjectEvent[] = [
    { type: 'PIN' },
    { type: 'UNPIN' },
    { type: 'WRITE', page: 1, value: 3 },
    { type: 'EVICT', faults: {} },
    { type: 'EVICT', faults: COPY },
    { type: 'MIGRATE', faults: {} },
    { type: 'MIGRATE', faults: COPY },
    { type: 'RECOVER' },
    { type: 'POWER_OFF' },
    { type: 'DESTROY' },
  ];
  for (const allow of [true, false]) {
    for (const pinned of [true, false])
      for (const faults of [{}, COPY, POPULATE])
        out.push({ type: 'BACKUP', allow_gpu: allow, pinned, engine: allow ? 'blt' : 'memcpy', faults });
    for (const faults of [{}, COPY, POPULATE])
      out.push({ type: 'RESTORE', allow_gpu: allow, engine: allow ? 'blt' : 'memcpy', faults });
  }
  return [...out, ...extra];
};

const project = (c: LmemObjectContext) => c;
/** Pin counts above 2 behave like 2 (the guards read 0, 1, more). */
const abstract = (c: LmemObjectContext) => ({ ...c, pin_count: Math.min(c.pin_count, 2) });

function adapter(name: string, flags: string[], input: LmemObjectInput): Adapter<I915Sut, Env> {
  const pinned = flags.includes('PINNED');
  return {
    name,
    machine: lmemObjectMachine,
    input,
    events: events(),
    abstract: abstract as never,
    project: project as never,
    initialEnv: { created: false, suspended: false },
    macros: [
      pinned
        ? {
            name: `i915.create ${flags.join('|')}`,
            effect: ['PIN'],
            when: (env) => !env.created,
            next: (env) => ({ ...env, created: true }),
            run: create(flags),
          }
        : {
            name: `i915.create ${flags.join('|') || '(no flags)'}`,
            effect: [],
            when: (env) => !env.created,
            next: (env) => ({ ...env, created: true }),
            run: create(flags),
          },
      ...macros,
    ],
    setup: () => new I915Sut({ i915: input.variant }),
    subject: (s) => s.subject,
  };
}

const base = { pages: 2, region: 0, early: false, volatile: false, user: false, variant: 'final' as const };

export const userObjectAdapter = adapter('i915 object (USER)', ['USER'], { ...base, user: true });
export const pinnedObjectAdapter = adapter('i915 object (PINNED)', ['PINNED'], base);
export const volatileObjectAdapter = adapter('i915 object (PINNED, PM_VOLATILE)', ['PINNED', 'PM_VOLATILE'], {
  ...base,
  volatile: true,
});
export const unpinnedVolatileAdapter = adapter('i915 object (PM_VOLATILE)', ['PM_VOLATILE'], {
  ...base,
  volatile: true,
});
export const earlyObjectAdapter = adapter('i915 object (PINNED, PM_EARLY)', ['PINNED', 'PM_EARLY'], {
  ...base,
  early: true,
});
