/**
 * One i915 GEM object of a local-memory (LMEM) region across suspend / resume
 * (spec C.1–C.5, C.9): `i915_ttm_backup` (C.2), `i915_ttm_restore` (C.3),
 * `i915_ttm_recover` / `i915_ttm_backup_free` (C.4), plus what the suspend sequence
 * and the workload do to it (pin, eviction to system memory, loss of LMEM power).
 *
 * As for the ttm_tt machine, the per-object kernel functions are pure functions of the
 * context and the event (with the fault plan of the sites they pass through); guards
 * read their result to choose the target state and the `apply` action stores it.
 *
 * Content: `content` is what the object's pages hold where they are (LMEM or, when
 * evicted, SMEM); `backup.content` what its SMEM backup object holds; `expected` what
 * the workload wrote and nothing discarded on purpose. `loss` records a discard that
 * the kernel does on purpose (PM_VOLATILE) or only with a WARN (a restore copy error).
 */
import { current, isDraft } from 'immer';
import { assign, setup } from 'xstate';
import { consumePass, type FaultPlan } from '../../src/world/faults.js';
import { memoPerContextEvent } from '../memo.js';

export type I915Variant = 'final' | 'v2-restore-put';

/** The SMEM backup object `obj->ttm.backup` points to, with its reference count. */
export interface I915Backup {
  /** References held on the backup object (the object's pointer holds one while it is set). */
  refs: number;
  content: Record<number, number>;
  /** How the content was copied: the blitter (allow_gpu, GT not wedged) or memcpy. */
  method: 'blt' | 'memcpy';
}

export interface LmemObjectContext {
  pages: number;
  /** I915_BO_ALLOC_PM_EARLY: restored early with memcpy (C.1). */
  early: boolean;
  /** I915_BO_ALLOC_PM_VOLATILE: may lose its content across suspend, even if pinned (C.1). */
  volatile: boolean;
  /** I915_BO_ALLOC_USER */
  user: boolean;
  variant: I915Variant;
  pin_count: number;
  placement: 'lmem' | 'smem';
  content: Record<number, number>;
  /** obj->ttm.backup: null, or the backup object (a pointer to a freed one when refs ≤ 0). */
  backup: I915Backup | null;
  expected: Record<number, number>;
  loss: null | 'volatile' | 'warned';
  /** The LMEM pages hold the object's content (false from a power-down until a restore copies it back). */
  lmem_valid: boolean;
  /** Puts of a backup object that had no reference left (double put). */
  bad_puts: number;
  /** Uses (lock, populate, copy) of a backup object that had no reference left. */
  uaf: number;
  destroyed: boolean;
}

export interface LmemObjectInput {
  pages: number;
  early: boolean;
  volatile: boolean;
  user: boolean;
  variant: I915Variant;
}

/** The copy engine a region pass may use: the blitter unless allow_gpu is off or the GT is wedged. */
export type CopyEngine = 'blt' | 'memcpy';

export type LmemObjectEvent =
  | { type: 'PIN' }
  | { type: 'UNPIN' }
  | { type: 'EVICT'; faults: FaultPlan }
  | { type: 'MIGRATE'; faults: FaultPlan }
  | { type: 'BACKUP'; allow_gpu: boolean; pinned: boolean; engine: CopyEngine; faults: FaultPlan }
  | { type: 'RESTORE'; allow_gpu: boolean; engine: CopyEngine; faults: FaultPlan }
  | { type: 'RECOVER' }
  | { type: 'POWER_OFF' }
  | { type: 'WRITE'; page: number; value: number }
  | { type: 'DESTROY' };

export interface LmemResult {
  ctx: LmemObjectContext;
  ret: number;
  plan: FaultPlan;
}

export function initialLmemObject(input: LmemObjectInput): LmemObjectContext {
  return {
    pages: input.pages,
    early: input.early,
    volatile: input.volatile,
    user: input.user,
    variant: input.variant,
    pin_count: 0,
    placement: 'lmem',
    content: {},
    backup: null,
    expected: {},
    loss: null,
    lmem_valid: true,
    bad_puts: 0,
    uaf: 0,
    destroyed: false,
  };
}

function copy<T>(v: T): T {
  return structuredClone(isDraft(v) ? (current(v as never) as T) : v);
}

class Op {
  readonly c: LmemObjectContext;
  readonly plan: FaultPlan;
  constructor(ctx: LmemObjectContext, plan: FaultPlan) {
    this.c = copy(ctx);
    this.plan = copy(plan);
  }
  done(ret: number): LmemResult {
    return { ctx: this.c, ret, plan: this.plan };
  }
  /** i915_gem_object_put(backup) */
  put(): void {
    const b = this.c.backup;
    if (!b) return;
    if (b.refs <= 0) this.c.bad_puts += 1;
    b.refs -= 1;
  }
  /** A use of the backup object behind the pointer (lock, populate, copy). */
  use(): void {
    if (this.c.backup && this.c.backup.refs <= 0) this.c.uaf += 1;
  }
}

/** i915_gem_object_evictable: no pins. */
export function evictable(c: LmemObjectContext): boolean {
  return c.pin_count === 0;
}

/** i915_ttm_backup(apply, obj) (C.2). Sites: i915.copy (eviction move, backup copy), i915.populate (backup tt). */
export function lmemBackup(
  ctx: LmemObjectContext,
  e: { allow_gpu: boolean; pinned: boolean; engine: CopyEngine },
  plan: FaultPlan,
): LmemResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  // 1. in system memory already, or already backed up
  if (c.placement === 'smem' || c.backup) return op.done(0);
  // 2. evict an unpinned object to system with ttm_bo_validate
  if (e.allow_gpu && evictable(c)) {
    const err = consumePass(op.plan, 'i915.copy');
    if (err) return op.done(err);
    c.placement = 'smem';
    return op.done(0);
  }
  // 3. pinned objects only in pinned passes; PM_EARLY ones only in the memcpy pass
  if (!e.pinned || (e.allow_gpu && c.early)) return op.done(0);
  // 4. PM_VOLATILE: allowed to lose the content
  if (c.volatile) return op.done(0);
  // 6.–8. create the SMEM backup object, populate its tt
  const perr = consumePass(op.plan, 'i915.populate');
  if (perr) return op.done(perr);
  // 9. copy (blitter when allowed and the GT is not wedged, else memcpy)
  const cerr = consumePass(op.plan, 'i915.copy');
  if (cerr) return op.done(cerr);
  // 10.
  c.backup = { refs: 1, content: { ...c.content }, method: e.engine };
  return op.done(0);
}

/** i915_ttm_restore(apply, obj) (C.3). Sites: i915.populate (backup tt), i915.copy (copy back, errors only WARN). */
export function lmemRestore(
  ctx: LmemObjectContext,
  e: { allow_gpu: boolean; engine: CopyEngine },
  plan: FaultPlan,
): LmemResult {
  const op = new Op(ctx, plan);
  const c = op.c;
  const backup = c.backup;
  if (!backup) return op.done(0);
  if (!e.allow_gpu && !c.early) return op.done(0);
  op.use(); // lock
  const perr = consumePass(op.plan, 'i915.populate');
  let err = perr;
  if (!perr) {
    op.use(); // copy from the backup
    const cerr = consumePass(op.plan, 'i915.copy');
    if (backup.refs <= 0) {
      // A copy from a freed backup object: whatever the memory holds now (silently).
      c.content = {};
    } else if (cerr) {
      // GEM_WARN_ON(err): the content is not copied back; the object keeps what LMEM holds.
      c.content = {};
      c.expected = {};
      c.loss = 'warned';
    } else c.content = { ...backup.content };
    c.lmem_valid = true;
    err = 0;
  }
  if (!err) {
    op.put();
    c.backup = null;
  } else if (c.variant === 'v2-restore-put') {
    // v2: the reference is dropped on failure too, while obj->ttm.backup is kept (C.8).
    op.put();
  }
  return op.done(err);
}

/** i915_ttm_recover → i915_ttm_backup_free (C.4). */
export function lmemRecover(ctx: LmemObjectContext): LmemResult {
  const op = new Op(ctx, {});
  const c = op.c;
  if (c.backup && !c.lmem_valid) {
    // The backup held the only copy: LMEM lost power and the restore at resume failed
    // (GEM_WARN_ON) or was skipped (GT wedged, dev_err). Recovering frees that copy.
    c.content = {};
    c.expected = {};
    c.loss = 'warned';
    c.lmem_valid = true;
  }
  op.put();
  c.backup = null;
  return op.done(0);
}

/** Loss of LMEM power: the pages of every object still in LMEM lose their content. */
export function lmemPowerOff(ctx: LmemObjectContext): LmemResult {
  const op = new Op(ctx, {});
  const c = op.c;
  if (c.placement !== 'lmem') return op.done(0);
  c.content = {};
  // Only a backed-up object has a copy to come back from; the others now hold what LMEM holds.
  c.lmem_valid = c.backup === null;
  if (c.volatile && !c.backup) {
    c.expected = {};
    c.loss = 'volatile';
  }
  return op.done(0);
}

/** An eviction to SMEM under LMEM pressure (ttm eviction of an unpinned object). Site: i915.copy. */
export function lmemEvict(ctx: LmemObjectContext, plan: FaultPlan): LmemResult {
  const op = new Op(ctx, plan);
  const err = consumePass(op.plan, 'i915.copy');
  if (!err) op.c.placement = 'smem';
  return op.done(err);
}

/** A move back to LMEM (on GPU access or pin). Site: i915.copy. */
export function lmemMigrate(ctx: LmemObjectContext, plan: FaultPlan): LmemResult {
  const op = new Op(ctx, plan);
  const err = consumePass(op.plan, 'i915.copy');
  if (!err) op.c.placement = 'lmem';
  return op.done(err);
}

function lmemSimple(ctx: LmemObjectContext, e: LmemObjectEvent): LmemResult {
  const op = new Op(ctx, {});
  const c = op.c;
  switch (e.type) {
    case 'PIN':
      c.pin_count += 1;
      break;
    case 'UNPIN':
      c.pin_count -= 1;
      break;
    case 'WRITE':
      if (e.value === 0) {
        delete c.content[e.page];
        delete c.expected[e.page];
      } else {
        c.content[e.page] = e.value;
        c.expected[e.page] = e.value;
      }
      break;
    case 'DESTROY':
      op.put();
      c.backup = null;
      c.destroyed = true;
      c.content = {};
      c.expected = {};
      break;
  }
  return op.done(0);
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
        RESTORE: {},
        RECOVER: {},
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** LMEM_PINNED */
    pinned: {
      on: {
        PIN: { actions: 'apply' },
        UNPIN: [
          { guard: 'lastPin', target: 'resident', actions: 'apply' },
          { guard: 'morePins', actions: 'apply' },
        ],
        WRITE: { guard: 'pageInRange', actions: 'apply' },
        BACKUP: [
          { guard: 'backedUp', target: 'backedUp', actions: 'apply' },
          { guard: 'skippedVolatile', target: 'volatileSkipped' },
          { guard: 'failed' },
          {},
        ],
        RESTORE: {},
        RECOVER: {},
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** EVICTED_TO_SMEM: moved to system memory (no backup object); moves back on use. */
    evicted: {
      on: {
        MIGRATE: [{ guard: 'succeeded', target: 'resident', actions: 'apply' }, { guard: 'failed' }],
        BACKUP: {},
        RESTORE: {},
        RECOVER: {},
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
        PIN: { actions: 'apply' },
        UNPIN: [
          { guard: 'lastPin', target: 'resident', actions: 'apply' },
          { guard: 'morePins', actions: 'apply' },
        ],
        WRITE: { guard: 'pageInRange', actions: 'apply' },
        BACKUP: [{ guard: 'backedUp', target: 'backedUp', actions: 'apply' }, { guard: 'failed' }, {}],
        RESTORE: {},
        RECOVER: {},
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** Freed (kept as a tombstone so that a double put stays visible). */
    destroyed: {},
  },
});
