/**
 * machines/memo.ts: the TTM, i915 and Xe machines read an event's result from both the guards
 * and the actions of one transition; it must be computed once per (context, event) object pair
 * and never shared between different contexts or events.
 */
import { describe, expect, it } from 'vitest';
import { memoPerContextEvent } from '../../machines/memo.js';

describe('memoPerContextEvent (one algorithm run per transition, design "XState traps")', () => {
  it('runs the step once per (context, event) pair and returns the same result object', () => {
    let runs = 0;
    const result = memoPerContextEvent((c: { n: number }, e: { add: number }) => {
      runs += 1;
      return { sum: c.n + e.add };
    });
    const c1 = { n: 1 };
    const c2 = { n: 1 };
    const e1 = { add: 2 };
    const e2 = { add: 2 };
    const r = result(c1, e1);
    expect(r).toEqual({ sum: 3 });
    expect(result(c1, e1)).toBe(r);
    expect(runs).toBe(1);
    // Equal but distinct objects are other keys: a new context or event is a new run.
    expect(result(c2, e1)).not.toBe(r);
    expect(result(c1, e2)).not.toBe(r);
    expect(runs).toBe(3);
  });

  it('memoises falsy results too', () => {
    let runs = 0;
    const result = memoPerContextEvent((_c: object, _e: object) => {
      runs += 1;
      return 0;
    });
    const c = {};
    const e = {};
    expect(result(c, e)).toBe(0);
    expect(result(c, e)).toBe(0);
    expect(runs).toBe(1);
  });
});
