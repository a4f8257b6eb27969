/**
 * One `struct ttm_tt` (spec A.2, A.7): the page vector of a TTM buffer object and its
 * life through populate, partial backup to shmem, purge, resumable restore and the
 * legacy whole-tt swap.
 *
 * The kernel algorithms are pure functions in machines/ttm/pool.ts; every transition
 * runs the algorithm of its event on the context (with the fault plan the handler put
 * in the event), its guard reads the result to choose the target state, and its
 * action stores the result. Errors that change nothing are targetless transitions;
 * calls the kernel refuses before doing anything (-EINVAL of a backed-up tt's
 * populate, …) are not transitions at all: the handler returns the errno.
 */
import { assign, setup } from 'xstate';
import type { FaultPlan } from '../../src/world/faults.js';
import {
  initialTt,
  restoreValid,
  type TtContext,
  type TtInput,
  type TtResult,
  ttBackup,
  ttClearBackedUp,
  ttFini,
  ttPopulate,
  ttRestore,
  ttSwapout,
  ttUnpopulate,
  ttWrite,
} from './pool.js';
import { memoPerContextEvent } from '../memo.js';

export type TtEvent =
  | { type: 'POPULATE'; faults: FaultPlan }
  | { type: 'UNPOPULATE' }
  | { type: 'BACKUP'; purge: boolean; writeback: boolean; faults: FaultPlan }
  | { type: 'RESTORE'; interruptible: boolean; faults: FaultPlan }
  | { type: 'CLEAR_BACKED_UP' }
  | { type: 'SWAPOUT'; faults: FaultPlan }
  | { type: 'FINI' }
  | { type: 'WRITE'; page: number; value: number };

function ttStep(context: TtContext, event: TtEvent): TtResult {
  switch (event.type) {
    case 'POPULATE':
      return ttPopulate(context, event.faults);
    case 'UNPOPULATE':
      return ttUnpopulate(context);
    case 'BACKUP':
      return ttBackup(context, { purge: event.purge }, event.faults);
    case 'RESTORE':
      return ttRestore(context, event.faults);
    case 'CLEAR_BACKED_UP':
      return ttClearBackedUp(context);
    case 'SWAPOUT':
      return ttSwapout(context, event.faults);
    case 'FINI':
      return ttFini(context);
    case 'WRITE':
      return ttWrite(context, event.page, event.value);
  }
}

/** The result of an event's algorithm on a context (memoised per context and event object). */
export const ttResult = memoPerContextEvent(ttStep);

type Args = { context: TtContext; event: TtEvent };

const result = ({ context, event }: Args) => ttResult(context, event);

export const ttMachine = setup({
  types: {} as { context: TtContext; events: TtEvent; input: TtInput },
  guards: {
    /** ttm_tt_backup{purge} freed at least one page (ret > 0). */
    purgedPages: (a: Args) => a.event.type === 'BACKUP' && a.event.purge && result(a).ret > 0,
    /** ttm_tt_backup backed up every page (ret > 0, no page left in the vector). */
    backedUpAll: (a: Args) => {
      const r = result(a);
      return a.event.type === 'BACKUP' && r.ret > 0 && r.ctx.slots.every((s) => s?.t !== 'page');
    },
    /** ttm_tt_backup backed up some pages, then a page failed (ret > 0, pages retained). */
    backedUpSome: (a: Args) => {
      const r = result(a);
      return a.event.type === 'BACKUP' && r.ret > 0 && r.ctx.slots.some((s) => s?.t === 'page');
    },
    /**
     * ttm_tt_backup failed (ret < 0) after ttm_pool_backup's step 3 made the pages write-back
     * (set_pages_array_wb): the tt stays populated, its pages no longer in tt->caching (A.4.2 Notes).
     */
    failedAfterSetPagesWb: (a: Args) => {
      const r = result(a);
      return a.event.type === 'BACKUP' && r.ret < 0 && r.ctx.pages_caching !== a.context.pages_caching;
    },
    /** The call succeeded (ret ≥ 0). */
    succeeded: (a: Args) => result(a).ret >= 0,
    /** The restore failed with an allocated block partly restored (ttm_pool_restore_valid). */
    failedBlockOpen: (a: Args) => {
      const r = result(a);
      return r.ret < 0 && restoreValid(r.ctx.restore);
    },
    /** The restore failed with tt->restore attached and no open block. */
    failedBetweenBlocks: (a: Args) => {
      const r = result(a);
      return r.ret < 0 && r.ctx.restore !== null && !restoreValid(r.ctx.restore);
    },
    /** The call failed and changed nothing the machine tracks (ret < 0). */
    failed: (a: Args) => result(a).ret < 0,
    /** Legacy swapout is allowed: not EXTERNAL (ttm_bo_swapout skips EXTERNAL tts). */
    notExternal: ({ context }: Args) => !context.external,
    /** Writes need the page in the vector. */
    pageInRange: ({ context, event }: Args) => event.type === 'WRITE' && event.page < context.num_pages,
  },
  actions: {
    /** Store the algorithm's result. */
    apply: assign((a: Args) => result(a).ctx),
  },
}).createMachine({
  id: 'ttm_tt',
  initial: 'unpopulated',
  context: ({ input }) => initialTt(input),
  states: {
    /** No page, no handle, no flag (ttm_tt_init). */
    unpopulated: {
      on: {
        // ttm_pool_alloc fails (ttm.alloc at order 0): what it took is freed, nothing changes
        POPULATE: [{ guard: 'succeeded', target: 'populated', actions: 'apply' }, {}],
        UNPOPULATE: {},
        BACKUP: {},
        CLEAR_BACKED_UP: {},
        FINI: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** PRIV_POPULATED: every slot a real page. */
    populated: {
      on: {
        POPULATE: {},
        UNPOPULATE: { target: 'unpopulated', actions: 'apply' },
        BACKUP: [
          { guard: 'purgedPages', target: 'purged', actions: 'apply' },
          { guard: 'backedUpAll', target: 'backedUp.full', actions: 'apply' },
          { guard: 'backedUpSome', target: 'backedUp.partial', actions: 'apply' },
          { guard: 'failedAfterSetPagesWb', actions: 'apply' },
          {},
        ],
        CLEAR_BACKED_UP: {},
        SWAPOUT: [{ guard: 'succeeded', target: 'swapped', actions: 'apply' }, { guard: 'notExternal' }],
        WRITE: { guard: 'pageInRange', actions: 'apply' },
        FINI: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** BACKED_UP, no restore under way: every page a handle (full) or some retained (partial). */
    backedUp: {
      initial: 'full',
      states: { full: {}, partial: {} },
      on: {
        RESTORE: [
          { guard: 'succeeded', target: 'populated', actions: 'apply' },
          { guard: 'failedBlockOpen', target: 'restoring.blockOpen', actions: 'apply' },
          { guard: 'failedBetweenBlocks', target: 'restoring.betweenBlocks', actions: 'apply' },
          { guard: 'failed' },
        ],
        UNPOPULATE: {},
        FINI: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** BACKED_UP with every slot NULL: the pages were freed without backup on request. */
    purged: {
      on: {
        RESTORE: [
          { guard: 'succeeded', target: 'populated', actions: 'apply' },
          { guard: 'failedBetweenBlocks', target: 'restoring.betweenBlocks', actions: 'apply' },
          { guard: 'failed' },
        ],
        CLEAR_BACKED_UP: { target: 'unpopulated', actions: 'apply' },
        UNPOPULATE: {},
        FINI: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** BACKED_UP with tt->restore attached: an interrupted restore that the next RESTORE resumes. */
    restoring: {
      initial: 'betweenBlocks',
      states: {
        /** The last allocated block is complete, or was freed because none of its pages was restored. */
        betweenBlocks: {},
        /** ttm_pool_restore_valid(): a block is allocated and partly restored (handle-0 markers in its slots). */
        blockOpen: {},
      },
      on: {
        RESTORE: [
          { guard: 'succeeded', target: 'populated', actions: 'apply' },
          { guard: 'failedBlockOpen', target: '.blockOpen', actions: 'apply' },
          { guard: 'failedBetweenBlocks', target: '.betweenBlocks', actions: 'apply' },
        ],
        UNPOPULATE: {},
        FINI: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** TTM_TT_FLAG_SWAPPED: the legacy whole-tt swap file holds the content. */
    swapped: {
      on: {
        POPULATE: [{ guard: 'succeeded', target: 'populated', actions: 'apply' }, {}],
        UNPOPULATE: {},
        BACKUP: {},
        CLEAR_BACKED_UP: {},
        FINI: { target: 'destroyed', actions: 'apply' },
      },
    },
    /** After ttm_tt_fini: kept as a tombstone so that leaks stay visible to the invariants. */
    destroyed: {},
  },
});
