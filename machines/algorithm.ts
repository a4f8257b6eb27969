/**
 * An event's algorithm: one kernel function (a tt backup, an i915 LMEM restore, an Xe
 * pinned-BO eviction …) run as a pure function of an object's context and the fault
 * plan of the sites it passes through: `(context, arguments, plan) → { ctx, ret, plan }`.
 *
 * The TTM, i915 and Xe machines share this shape: the guards of a transition read the
 * result to choose the target state, the `apply` action stores it, and the handlers
 * return `ret` and store `plan` back (machines/memo.ts computes it once per transition).
 * The input context and plan are never changed (they may be frozen values or immer
 * drafts): the algorithm works on a private copy.
 */
import { current, isDraft } from 'immer';
import { consumePass, type FaultPlan, type FaultSite } from '../src/world/faults.js';

/** What an algorithm returns: the new context, the kernel function's return value, the plan after its passes. */
export interface AlgorithmResult<C> {
  ctx: C;
  /** What the kernel function returns: 0, a count, or a negative errno. */
  ret: number;
  /** The fault plan after the passes the operation made. */
  plan: FaultPlan;
}

/** A private, mutable deep copy of a value (which may be frozen or an immer draft). */
export function privateCopy<T>(v: T): T {
  return structuredClone(isDraft(v) ? (current(v as never) as T) : v);
}

/** One run of an algorithm: the private copies it changes, and its result. */
export class AlgorithmRun<C> {
  readonly c: C;
  readonly plan: FaultPlan;
  constructor(ctx: C, plan: FaultPlan) {
    this.c = privateCopy(ctx);
    this.plan = privateCopy(plan);
  }
  /** One pass through a fault site: 0, or the errno of an armed fault that fires. */
  pass(site: FaultSite): number {
    return consumePass(this.plan, site);
  }
  done(ret: number): AlgorithmResult<C> {
    return { ctx: this.c, ret, plan: this.plan };
  }
}
