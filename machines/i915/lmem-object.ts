/**
 * One i915 GEM object of a local-memory (LMEM) region across suspend / resume
 * (spec C.1–C.5, C.9): `i915_ttm_backup` (C.2), `i915_ttm_restore` (C.3),
 * `i915_ttm_recover` / `i915_ttm_backup_free` (C.4), plus what the suspend sequence
 * and the workload do to it (pin, eviction to system memory, loss of LMEM power).
 *
 * As for the ttm_tt machine, the per-object kernel functions are pure functions of the
 * context and the event (with the fault plan of the sites they pass through); guards
 * read their result to choose the target state and the `apply` action stores it. The
 * context is lmem-object-context.ts, the suspend-time functions gem-ttm-pm.ts; this
 * module holds the machine and the moves, power loss and stores of the workload.
 */
import { assign, setup } from 'xstate';
import type { FaultPlan } from '../../src/world/faults.js';
import { freeBo, workloadStore } from '../bo-content.js';
import { memoPerContextEvent } from '../memo.js';
import { evictable, I915Run, lmemBackup, lmemRecover, lmemRestore } from './gem-ttm-pm.js';
import {
  initialLmemObject,
  type LmemObjectContext,
  type LmemObjectEvent,
  type LmemObjectInput,
  type LmemResult,
} from './lmem-object-context.js';

export * from './lmem-object-context.js';
export { evictable, lmemBackup, lmemRecover, lmemRestore } from './gem-ttm-pm.js';

/** Loss of LMEM power: the pages of every object still in LMEM lose their content. */
export function lmemPowerOff(ctx: LmemObjectContext): LmemResult {
  const run = new I915Run(ctx, {});
  const c = run.c;
  if (c.placement !== 'lmem') return run.done(0);
  c.content = {};
  // Only a backed-up object has a copy to come back from; the others now hold what LMEM holds.
  c.lmem_valid = c.backup === null;
  if (c.volatile && !c.backup) {
    c.expected = {};
    c.loss = 'volatile';
  }
  return run.done(0);
}

/** An eviction to SMEM under LMEM pressure (ttm eviction of an unpinned object). Site: i915.copy. */
export function lmemEvict(ctx: LmemObjectContext, plan: FaultPlan): LmemResult {
  const run = new I915Run(ctx, plan);
  const err = run.pass('i915.copy');
  if (!err) run.c.placement = 'smem';
  return run.done(err);
}

/** A move back to LMEM (on GPU access or pin). Site: i915.copy. */
export function lmemMigrate(ctx: LmemObjectContext, plan: FaultPlan): LmemResult {
  const run = new I915Run(ctx, plan);
  const err = run.pass('i915.copy');
  if (!err) run.c.placement = 'lmem';
  return run.done(err);
}

function lmemSimple(ctx: LmemObjectContext, e: LmemObjectEvent): LmemResult {
  const run = new I915Run(ctx, {});
  const c = run.c;
  switch (e.type) {
    case 'PIN':
      c.pin_count += 1;
      break;
    case 'UNPIN':
      c.pin_count -= 1;
      break;
    case 'WRITE':
      workloadStore(c, e.page, e.value);
      break;
    case 'DESTROY':
      // The object's release: i915_ttm_backup_free, then the object is freed.
      run.put();
      c.backup = null;
      freeBo(c);
      break;
  }
  return run.done(0);
}

function lmemStep(context: LmemObjectContext, event: LmemObjectEvent): LmemResult {
  switch (event.type) {
    case 'BACKUP':
      return lmemBackup(context, event, event.faults);
    case 'RESTORE':
      return lmemRestore(context, event, event.faults);
    case 'RECOVER':
      return lmemRecover(context);
    case 'POWER_OFF':
      return lmemPowerOff(context);
    case 'EVICT':
      return lmemEvict(context, event.faults);
    case 'MIGRATE':
      return lmemMigrate(context, event.faults);
    default:
      return lmemSimple(context, event);
  }
}

/** The result of an event's algorithm on a context (memoised per context and event object). */
export const lmemResult = memoPerContextEvent(lmemStep);

type Args = { context: LmemObjectContext; event: LmemObjectEvent };
const result = ({ context, event }: Args) => lmemResult(context, event);

/**
 * What a pinned object in LMEM (LMEM_PINNED, and RESTORED after a resume) takes the
 * same way: another pin, an unpin (the last one leaves it LMEM_RESIDENT), a store.
 */
const pinnedInLmem = {
  PIN: { actions: 'apply' },
  UNPIN: [
    { guard: 'lastPin', target: 'resident', actions: 'apply' },
    { guard: 'morePins', actions: 'apply' },
  ],
  WRITE: { guard: 'pageInRange', actions: 'apply' },
} as const;

/**
 * An object in LMEM without a backup object: a restore pass has nothing to copy back
 * (i915_ttm_restore returns at once) and a recover pass nothing to free; it may be freed.
 */
const notBackedUp = {
  RESTORE: {},
  RECOVER: {},
  DESTROY: { target: 'destroyed', actions: 'apply' },
} as const;

export const lmemObjectMachine = setup({
  types: {} as { context: LmemObjectContext; events: LmemObjectEvent; input: LmemObjectInput },
  guards: {
    /** The object is pinned (pin_count > 0). */
    isPinned: ({ context }: Args) => context.pin_count > 0,
    /** The call succeeded (ret 0). */
    succeeded: (a: Args) => result(a).ret === 0,
    /** The call failed (ret < 0). */
    failed: (a: Args) => result(a).ret < 0,
    /** BACKUP moved the object to system memory (step 2, ttm_bo_validate). */
    movedToSmem: (a: Args) => {
      const r = result(a);
      return r.ret === 0 && r.ctx.placement === 'smem' && a.context.placement === 'lmem';
    },
    /** BACKUP created the backup object (steps 6–10). */
    backedUp: (a: Args) => {
      const r = result(a);
      return r.ret === 0 && r.ctx.backup !== null && a.context.backup === null;
    },
    /** BACKUP skipped a PM_VOLATILE object in a pinned pass (step 4): its content will be lost. */
    skippedVolatile: (a: Args) =>
      a.event.type === 'BACKUP' &&
      a.event.pinned &&
      !(a.event.allow_gpu && a.context.early) &&
      a.context.volatile &&
      !(a.event.allow_gpu && evictable(a.context)),
    /** RESTORE copied the content back and dropped the backup (steps 4–7) of a pinned object. */
    restoredPinned: (a: Args) => {
      const r = result(a);
      return r.ret === 0 && a.context.backup !== null && r.ctx.backup === null && a.context.pin_count > 0;
    },
    /** RESTORE copied the content back and dropped the backup of an unpinned object. */
    restoredUnpinned: (a: Args) => {
      const r = result(a);
      return r.ret === 0 && a.context.backup !== null && r.ctx.backup === null && a.context.pin_count === 0;
    },
    /** RESTORE in the blitter pass of a pinned object without backup: a volatile object's suspend is over. */
    volatileResumedPinned: (a: Args) => a.event.type === 'RESTORE' && a.event.allow_gpu && a.context.pin_count > 0,
    /** The same for an unpinned volatile object. */
    volatileResumed: (a: Args) => a.event.type === 'RESTORE' && a.event.allow_gpu,
    /** UNPIN drops the last pin. */
    lastPin: ({ context }: Args) => context.pin_count === 1,
    /** UNPIN of an object that keeps other pins. */
    morePins: ({ context }: Args) => context.pin_count > 1,
    /** The page is within the object. */
    pageInRange: ({ context, event }: Args) => event.type === 'WRITE' && event.page < context.pages,
  },
  actions: {
    apply: assign((a: Args) => result(a).ctx),
  },
}).createMachine({
  id: 'i915_lmem_object',
  initial: 'resident',
  context: ({ input }) => initialLmemObject(input),
  states: {
    /** LMEM_RESIDENT: unpinned in LMEM. */
    resident: {
      on: {
        PIN: { target: 'pinned', actions: 'apply' },
        WRITE: { guard: 'pageInRange', actions: 'apply' },
        EVICT: [{ guard: 'succeeded', target: 'evicted', actions: 'apply' }, { guard: 'failed' }],
        BACKUP: [
          { guard: 'movedToSmem', target: 'evicted', actions: 'apply' },
          { guard: 'backedUp', target: 'backedUp', actions: 'apply' },
          { guard: 'skippedVolatile', target: 'volatileSkipped' },
          {},
        ],
        ...notBackedUp,
      },
    },
    /** LMEM_PINNED */
    pinned: {
      on: {
        ...pinnedInLmem,
        BACKUP: [
          { guard: 'backedUp', target: 'backedUp', actions: 'apply' },
          { guard: 'skippedVolatile', target: 'volatileSkipped' },
          { guard: 'failed' },
          {},
        ],
        ...notBackedUp,
      },
    },
    /** EVICTED_TO_SMEM: moved to system memory (no backup object); moves back on use. */
    evicted: {
      on: {
        MIGRATE: [{ guard: 'succeeded', target: 'resident', actions: 'apply' }, { guard: 'failed' }],
        // No BACKUP, RESTORE or RECOVER: an evicted object is on the SMEM region's list, which
        // the LMEM passes (i915_gem_process_region) do not walk.
        POWER_OFF: {},
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** BACKED_UP: obj->ttm.backup set; the backup object holds the content. */
    backedUp: {
      on: {
        BACKUP: {},
        RESTORE: [
          { guard: 'restoredPinned', target: 'restored', actions: 'apply' },
          { guard: 'restoredUnpinned', target: 'resident', actions: 'apply' },
          { guard: 'failed', actions: 'apply' },
          {},
        ],
        RECOVER: [
          { guard: 'isPinned', target: 'pinned', actions: 'apply' },
          { target: 'resident', actions: 'apply' },
        ],
        POWER_OFF: { actions: 'apply' },
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** VOLATILE_SKIPPED: a PM_VOLATILE object left without backup by a pinned pass. */
    volatileSkipped: {
      on: {
        BACKUP: {},
        RESTORE: [
          { guard: 'volatileResumedPinned', target: 'pinned' },
          { guard: 'volatileResumed', target: 'resident' },
          {},
        ],
        RECOVER: [{ guard: 'isPinned', target: 'pinned' }, { target: 'resident' }],
        POWER_OFF: { actions: 'apply' },
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** RESTORED: the content was copied back from the backup, which was put (pinned in LMEM). */
    restored: {
      on: {
        ...pinnedInLmem,
        BACKUP: [{ guard: 'backedUp', target: 'backedUp', actions: 'apply' }, { guard: 'failed' }, {}],
        ...notBackedUp,
      },
    },
    /** Freed (kept as a tombstone so that a double put stays visible). */
    destroyed: {},
  },
});
