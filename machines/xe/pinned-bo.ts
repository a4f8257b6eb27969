/**
 * One Xe buffer object across `xe_bo_evict_all` / `xe_bo_restore_early` /
 * `xe_bo_restore_late` (spec C.10, S13): the pinned-BO lists are its states.
 *
 *  - an unpinned (user) BO is in VRAM or, once `xe_bo_evict_all_user` moved it, in
 *    system memory, from where a GPU access moves it back;
 *  - a pinned BO is on one of the lists of `xe_bo_pinned_init`: `present` stands for
 *    `pinned.{early,late}.kernel_bo_present` (or `pinned.late.external` without a
 *    backup) and `evicted` for `pinned.{early,late}.evicted` (or `pinned.late.external`
 *    with a backup object); `list` says which (early, late, external).
 *
 * With the backup-object scheme (commit 86f69c26113c) a pinned BO is never moved:
 * `xe_bo_evict_pinned` copies it into `bo->backup_obj` (CPU copy for the early list,
 * blitter for late and external), `xe_bo_restore_pinned` copies back. A
 * `XE_BO_FLAG_PINNED_NORESTORE` BO gets no backup. When the backup object is freed
 * is [UNCONFIRMED] (spec D.5): here, when the restore has copied it back.
 */
import { assign, setup } from 'xstate';
import type { FaultPlan } from '../../src/world/faults.js';
import { type AlgorithmResult, AlgorithmRun } from '../algorithm.js';
import { freeBo, workloadStore } from '../bo-content.js';
import { contextSchema } from '../context-schema.js';
import { memoPerContextEvent } from '../memo.js';

export type XeList = 'early' | 'late' | 'external';

export interface XeBoContext {
  pages: number;
  /** Which pinned list (null: not pinned). */
  list: XeList | null;
  /** XE_BO_FLAG_PINNED_NORESTORE */
  norestore: boolean;
  placement: 'vram' | 'system';
  content: Record<number, number>;
  /** bo->backup_obj and its content. */
  backup: { content: Record<number, number> } | null;
  expected: Record<number, number>;
  /** Content discarded on purpose (NORESTORE across a power-down). */
  loss: null | 'norestore';
  destroyed: boolean;
}

/** XeBoContext read back from a snapshot (machines/context-schema.ts); it names no other member. */
export const xeBoContextSpec = contextSchema<XeBoContext>()(({ z, u32, pageValues }) =>
  z.strictObject({
    /** xe.create refuses 0 pages. */
    pages: u32.min(1),
    list: z.enum(['early', 'late', 'external']).nullable(),
    norestore: z.boolean(),
    placement: z.enum(['vram', 'system']),
    content: pageValues,
    backup: z.strictObject({ content: pageValues }).nullable(),
    expected: pageValues,
    loss: z.literal('norestore').nullable(),
    destroyed: z.boolean(),
  }),
);

export interface XeBoInput {
  pages: number;
  list: XeList | null;
  norestore: boolean;
}

export type XeBoEvent =
  | { type: 'PLACE' }
  | { type: 'EVICT_USER'; faults: FaultPlan }
  | { type: 'MIGRATE'; faults: FaultPlan }
  | { type: 'EVICT_PINNED'; faults: FaultPlan }
  | { type: 'RESTORE_PINNED'; faults: FaultPlan }
  | { type: 'POWER_OFF' }
  | { type: 'WRITE'; page: number; value: number }
  | { type: 'DESTROY' };

/** What a BO algorithm returns (machines/algorithm.ts). */
export type XeResult = AlgorithmResult<XeBoContext>;

export function initialXeBo(input: XeBoInput): XeBoContext {
  return {
    pages: input.pages,
    list: input.list,
    norestore: input.norestore,
    placement: 'vram',
    content: {},
    backup: null,
    expected: {},
    loss: null,
    destroyed: false,
  };
}

/**
 * A move of an unpinned BO (site xe.copy): to system memory by `xe_bo_evict_all_user`
 * (EVICT_USER), back to VRAM on a GPU access (MIGRATE). A failed copy leaves it where it was.
 */
export function xeBoMove(ctx: XeBoContext, to: XeBoContext['placement'], plan: FaultPlan): XeResult {
  const run = new AlgorithmRun(ctx, plan);
  const err = run.pass('xe.copy');
  if (!err) run.c.placement = to;
  return run.done(err);
}

/** `xe_bo_evict_pinned`: copy the BO into `bo->backup_obj` (site xe.copy). */
export function xeBoEvictPinned(ctx: XeBoContext, plan: FaultPlan): XeResult {
  const run = new AlgorithmRun(ctx, plan);
  const c = run.c;
  // xe_bo_evict_pinned: a NORESTORE BO gets no backup.
  if (c.norestore) return run.done(0);
  const err = run.pass('xe.copy');
  if (!err) c.backup = { content: { ...c.content } };
  return run.done(err);
}

/** `xe_bo_restore_pinned`: copy `bo->backup_obj` back and free it (site xe.copy). */
export function xeBoRestorePinned(ctx: XeBoContext, plan: FaultPlan): XeResult {
  const run = new AlgorithmRun(ctx, plan);
  const c = run.c;
  // xe_bo_restore_pinned: `if (!backup) return 0;`
  if (!c.backup) return run.done(0);
  const err = run.pass('xe.copy');
  if (!err) {
    c.content = { ...c.backup.content };
    c.backup = null;
  }
  return run.done(err);
}

/** Loss of VRAM power: a BO still in VRAM loses its content; a pinned NORESTORE BO on purpose. */
export function xeBoPowerOff(ctx: XeBoContext): XeResult {
  const run = new AlgorithmRun(ctx, {});
  const c = run.c;
  if (c.placement === 'vram') {
    c.content = {};
    if (c.list !== null && c.norestore) {
      c.expected = {};
      c.loss = 'norestore';
    }
  }
  return run.done(0);
}

/** The events that copy nothing and cannot fail: placement on the lists, a store, the release. */
function xeBoSimple(ctx: XeBoContext, e: Extract<XeBoEvent, { type: 'PLACE' | 'WRITE' | 'DESTROY' }>): XeResult {
  const run = new AlgorithmRun(ctx, {});
  const c = run.c;
  switch (e.type) {
    case 'WRITE':
      workloadStore(c, e.page, e.value);
      break;
    case 'PLACE':
      break;
    case 'DESTROY':
      c.backup = null;
      freeBo(c);
      break;
  }
  return run.done(0);
}

/** The algorithm of one event (site xe.copy: one pass per BO copied). */
export function xeBoStep(ctx: XeBoContext, e: XeBoEvent): XeResult {
  switch (e.type) {
    case 'EVICT_USER':
      return xeBoMove(ctx, 'system', e.faults);
    case 'MIGRATE':
      return xeBoMove(ctx, 'vram', e.faults);
    case 'EVICT_PINNED':
      return xeBoEvictPinned(ctx, e.faults);
    case 'RESTORE_PINNED':
      return xeBoRestorePinned(ctx, e.faults);
    case 'POWER_OFF':
      return xeBoPowerOff(ctx);
    default:
      return xeBoSimple(ctx, e);
  }
}

/** The result of an event's algorithm on a context (memoised per context and event object). */
export const xeBoResult = memoPerContextEvent(xeBoStep);

type Args = { context: XeBoContext; event: XeBoEvent };
const result = ({ context, event }: Args) => xeBoResult(context, event);

export const xeBoMachine = setup({
  types: {} as { context: XeBoContext; events: XeBoEvent; input: XeBoInput },
  guards: {
    /** The copy succeeded. */
    succeeded: (a: Args) => result(a).ret === 0,
    /** The copy failed (the BO stays where it was, on the list it came from). */
    failed: (a: Args) => result(a).ret < 0,
    /** Created pinned (on one of the pinned lists). */
    isPinned: ({ context }: Args) => context.list !== null,
    /** The page is within the BO. */
    pageInRange: ({ context, event }: Args) => event.type === 'WRITE' && event.page < context.pages,
  },
  actions: {
    apply: assign((a: Args) => result(a).ctx),
  },
}).createMachine({
  id: 'xe_bo',
  initial: 'created',
  context: ({ input }) => initialXeBo(input),
  states: {
    /** Transient: xe.create sends PLACE at once (xe_bo_create_pin_map puts a pinned BO on its list). */
    created: {
      on: {
        PLACE: [{ guard: 'isPinned', target: 'pinned.present' }, { target: 'unpinned.vram' }],
      },
    },
    unpinned: {
      initial: 'vram',
      states: {
        vram: {
          on: {
            EVICT_USER: [{ guard: 'succeeded', target: 'system', actions: 'apply' }, { guard: 'failed' }],
            WRITE: { guard: 'pageInRange', actions: 'apply' },
          },
        },
        /** Moved to system memory by xe_bo_evict_all_user; stays there until used. */
        system: {
          on: {
            MIGRATE: [{ guard: 'succeeded', target: 'vram', actions: 'apply' }, { guard: 'failed' }],
            POWER_OFF: {},
          },
        },
      },
      on: { DESTROY: { target: 'destroyed', actions: 'apply' } },
    },
    pinned: {
      initial: 'present',
      states: {
        /** On *.kernel_bo_present (or late.external) without a backup. */
        present: {
          on: {
            EVICT_PINNED: [{ guard: 'succeeded', target: 'evicted', actions: 'apply' }, { guard: 'failed' }],
          },
        },
        /** On *.evicted (or late.external) with its content in bo->backup_obj (none for NORESTORE). */
        evicted: {
          on: {
            EVICT_PINNED: [{ guard: 'succeeded', actions: 'apply' }, { guard: 'failed' }],
            RESTORE_PINNED: [{ guard: 'succeeded', target: 'present', actions: 'apply' }, { guard: 'failed' }],
            POWER_OFF: { actions: 'apply' },
          },
        },
      },
      on: {
        WRITE: { guard: 'pageInRange', actions: 'apply' },
        DESTROY: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** Freed (a tombstone). */
    destroyed: {},
  },
});
