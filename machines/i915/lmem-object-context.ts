/**
 * One i915 GEM object of an LMEM region as the model holds it (spec C.1): its
 * I915_BO_ALLOC_* flags, pins and placement, its content, the SMEM backup object
 * `obj->ttm.backup` points to, and the evidence of double puts and uses after free;
 * with the events the suspend sequence and the workload send it.
 *
 * Content: `content` is what the object's pages hold where they are (LMEM or, when
 * evicted, SMEM); `backup.content` what its SMEM backup object holds; `expected` what
 * the workload wrote and nothing discarded on purpose. `loss` records a discard that
 * the kernel does on purpose (PM_VOLATILE) or only with a WARN (a restore copy error).
 */
import type { FaultPlan } from '../../src/world/faults.js';
import type { AlgorithmResult } from '../algorithm.js';
import { contextSchema } from '../context-schema.js';
import { I915_MAX_LMEM_REGIONS } from './suspend.js';

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
  /**
   * The LMEM region the object was created in (INTEL_REGION_LMEM_<region>, a tile's local
   * memory): obj->mm.region while it is in LMEM, and where it moves back to from SMEM.
   */
  region: number;
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

/** LmemObjectContext read back from a snapshot (machines/context-schema.ts). */
export const lmemObjectContextSpec = contextSchema<LmemObjectContext>()(({ z, u32, int, pageValues }) =>
  z.strictObject({
    // i915.create refuses 0 pages.
    pages: u32.min(1),
    // INTEL_REGION_LMEM_<region> of a device of at most I915_MAX_LMEM_REGIONS regions.
    region: u32.max(I915_MAX_LMEM_REGIONS - 1),
    early: z.boolean(),
    volatile: z.boolean(),
    user: z.boolean(),
    variant: z.enum(['final', 'v2-restore-put']),
    pin_count: u32,
    placement: z.enum(['lmem', 'smem']),
    content: pageValues,
    // refs drops to 0 and below in the v2-restore-put double put (C.8): a pointer to a freed object.
    backup: z.strictObject({ refs: int, content: pageValues, method: z.enum(['blt', 'memcpy']) }).nullable(),
    expected: pageValues,
    loss: z.enum(['volatile', 'warned']).nullable(),
    lmem_valid: z.boolean(),
    bad_puts: u32,
    uaf: u32,
    destroyed: z.boolean(),
  }),
);

export interface LmemObjectInput {
  pages: number;
  region: number;
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

/** What an object algorithm returns (machines/algorithm.ts). */
export type LmemResult = AlgorithmResult<LmemObjectContext>;

export function initialLmemObject(input: LmemObjectInput): LmemObjectContext {
  return {
    pages: input.pages,
    region: input.region,
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
