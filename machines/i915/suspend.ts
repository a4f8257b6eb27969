/**
 * The i915 device across system suspend / resume (spec C.6, C.7): the power-management
 * sequence of `i915_gem_backup_suspend` (four steps) and `i915_gem_resume` (three
 * steps), and the state of the GT (idle after `i915_gem_suspend`, wedged when it could
 * not be idled or re-initialised). The device also keeps its LMEM regions (one per tile
 * of a multi-tile part, INTEL_REGION_LMEM_0…), each with its capacity, its LRU order
 * (the objects in it, least recently used first), for eviction under memory pressure,
 * and its object list (`mr->objects.list`), the order the suspend and resume passes
 * walk. Each step of the sequences walks every LMEM region in order (lmem_suspend,
 * lmem_restore: `for_each_memory_region`, the first failing region stops the step).
 *
 * Region `pm` walks the steps: the `i915.suspend` handler sends SUSPEND, then STEP_OK
 * after each step that succeeds or STEP_FAILED (then RECOVERED once every backup is
 * freed); `i915.resume` sends RESUME, STEP_OK per step, and STEP_FAILED when the GT
 * cannot be re-initialised (the last step is skipped). Region `gt` follows the GT.
 */
import { produce } from 'immer';
import { assign, setup } from 'xstate';
import { contextSchema, listRefs } from '../context-schema.js';

/** LMEM regions a device may have: INTEL_REGION_LMEM_0 to _3 (intel_memory_region.h), one per tile. */
export const I915_MAX_LMEM_REGIONS = 4;

/** One LMEM region (struct intel_memory_region of type INTEL_MEMORY_LOCAL). */
export interface I915LmemRegion {
  /** Pages of the region. */
  pages: number;
  /** World ids of the objects placed in the region, least recently used first. */
  lru: string[];
  /**
   * mr->objects.list, first entry first: i915_gem_object_init_memory_region adds an object
   * at the head when it is created in the region or moves back into it, so a full walk
   * meets the newest first; a walk that stops puts what it processed at the tail.
   */
  objects: string[];
}

export interface I915DeviceContext {
  /** The LMEM regions, in for_each_memory_region order (region r is INTEL_REGION_LMEM_r). */
  regions: I915LmemRegion[];
}

/** I915DeviceContext read back from a snapshot (machines/context-schema.ts). */
export const i915DeviceContextSpec = contextSchema<I915DeviceContext>()(
  ({ z, u32, worldId }) =>
    z.strictObject({
      // i915.probe creates 1 … I915_MAX_LMEM_REGIONS regions; the first other i915 call, one.
      regions: z
        .array(z.strictObject({ pages: u32, lru: z.array(worldId), objects: z.array(worldId) }))
        .min(1)
        .max(I915_MAX_LMEM_REGIONS),
    }),
  (c) =>
    c.regions.flatMap((r, i) => [
      ...listRefs(`regions[${i}].lru`, r.lru, 'objects', 'i915.lmem_object'),
      ...listRefs(`regions[${i}].objects`, r.objects, 'objects', 'i915.lmem_object'),
    ]),
);

export interface I915DeviceInput {
  /** Pages of each LMEM region. */
  lmem_pages: number;
  /** How many LMEM regions (tiles) the device has. */
  regions: number;
}

export type I915DeviceEvent =
  | { type: 'SUSPEND' }
  | { type: 'RESUME' }
  | { type: 'STEP_OK' }
  | { type: 'STEP_FAILED' }
  | { type: 'RECOVERED' }
  | { type: 'GT_IDLE' }
  | { type: 'GT_UNPARK' }
  | { type: 'GT_WEDGE' }
  | { type: 'GT_RESET' }
  | { type: 'USED'; obj: string; region: number }
  | { type: 'FORGET'; obj: string }
  | { type: 'PLACED'; obj: string; region: number }
  | { type: 'WALK_STOPPED'; region: number; processed: string[] };

export const i915DeviceMachine = setup({
  types: {} as { context: I915DeviceContext; events: I915DeviceEvent; input: I915DeviceInput },
  actions: {
    /** Move the object to the most-recently-used end of its region's LRU. */
    touch: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'USED') return;
        const r = d.regions[event.region]!;
        r.lru = r.lru.filter((o) => o !== event.obj);
        r.lru.push(event.obj);
      }),
    ),
    /** The object left LMEM (evicted, destroyed): off its region's LRU and list. */
    forget: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'FORGET') return;
        for (const r of d.regions) {
          r.lru = r.lru.filter((o) => o !== event.obj);
          r.objects = r.objects.filter((o) => o !== event.obj);
        }
      }),
    ),
    /** i915_gem_object_init_memory_region: list_add at the head of the region's list. */
    placed: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'PLACED') return;
        const r = d.regions[event.region]!;
        r.objects = [event.obj, ...r.objects.filter((o) => o !== event.obj)];
      }),
    ),
    /**
     * i915_gem_process_region stopped at an error: list_splice_tail of still_in_list puts the
     * objects it processed (those still in the region) after the ones it did not reach.
     */
    walkStopped: assign(({ context, event }) =>
      produce(context, (d) => {
        if (event.type !== 'WALK_STOPPED') return;
        const r = d.regions[event.region]!;
        const done = new Set(event.processed);
        r.objects = [...r.objects.filter((o) => !done.has(o)), ...event.processed.filter((o) => r.objects.includes(o))];
      }),
    ),
  },
}).createMachine({
  id: 'i915_device',
  type: 'parallel',
  context: ({ input }) => ({
    regions: Array.from({ length: input.regions }, () => ({ pages: input.lmem_pages, lru: [], objects: [] })),
  }),
  on: {
    USED: { actions: 'touch' },
    FORGET: { actions: 'forget' },
    PLACED: { actions: 'placed' },
    WALK_STOPPED: { actions: 'walkStopped' },
  },
  states: {
    pm: {
      initial: 'running',
      states: {
        running: { on: { SUSPEND: 'suspending' } },
        /** i915_gem_backup_suspend (from i915_drm_prepare), C.6. */
        suspending: {
          initial: 'evictUnpinned',
          states: {
            /** 1. lmem_suspend(ALLOW_GPU): evict unpinned objects with the blitter, region by region. */
            evictUnpinned: { on: { STEP_OK: 'idleGt' } },
            /** 2. i915_gem_suspend: flush, idle the GT (it may end wedged). */
            idleGt: { on: { STEP_OK: 'evictPinned' } },
            /** 3. lmem_suspend(ALLOW_GPU | PINNED): evict again, back up pinned non-EARLY objects (memcpy if wedged). */
            evictPinned: { on: { STEP_OK: 'backupEarly' } },
            /** 4. lmem_suspend(PINNED): back up what is left (PM_EARLY) with memcpy. */
            backupEarly: { on: { STEP_OK: '#i915_device.pm.suspended' } },
          },
          on: { STEP_FAILED: 'recovering' },
        },
        /** lmem_recover: a step failed in some region; every backup object of every LMEM region is freed, the suspend is aborted. */
        recovering: { on: { RECOVERED: 'running' } },
        /** The device is powered down: LMEM content is gone, backups hold what was saved. */
        suspended: { on: { RESUME: 'resuming' } },
        /** i915_gem_resume, C.7. */
        resuming: {
          initial: 'restoreEarly',
          states: {
            /** 1. lmem_restore(0): memcpy restore of PM_EARLY objects, region by region (a failing region stops it, WARN only). */
            restoreEarly: { on: { STEP_OK: 'resumeGt' } },
            /** 2. intel_gt_resume on every GT; a failure wedges the GT and skips step 3. */
            resumeGt: { on: { STEP_OK: 'restoreLate', STEP_FAILED: '#i915_device.pm.running' } },
            /** 3. lmem_restore(ALLOW_GPU): blitter restore of everything else. */
            restoreLate: { on: { STEP_OK: '#i915_device.pm.running' } },
          },
        },
      },
    },
    gt: {
      initial: 'active',
      states: {
        active: { on: { GT_IDLE: 'idle', GT_WEDGE: 'wedged' } },
        /** Parked by i915_gem_suspend; the migrate context still copies. */
        idle: { on: { GT_UNPARK: 'active', GT_WEDGE: 'wedged', GT_RESET: 'active' } },
        /** intel_gt_set_wedged: no GPU copies (memcpy fallback), no GPU access. */
        wedged: { on: { GT_RESET: 'active' } },
      },
    },
  },
});
