/**
 * How composed coverage tells which transition fired (src/explore/coverage-machines.ts):
 * exactly, from XState, when the observer passes the context and the event; from the
 * two state values otherwise, with guarded alternatives of the same effect reported as
 * ambiguous rather than counted.
 */
import { createActor, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { type LmemObjectEvent, lmemObjectMachine } from '../../machines/i915/lmem-object.js';
import { MachineCoverageTracker } from '../../src/explore/coverage-machines.js';
import { Coverage } from '../../src/mbt/coverage.js';
import '../../src/ioctls/all.js';

const KIND = 'i915.lmem_object';
const input = { pages: 2, region: 0, early: false, volatile: false, user: false, variant: 'final' as const };
const pinned = () => {
  const a = createActor(lmemObjectMachine, { input }).start();
  a.send({ type: 'PIN' });
  return a.getSnapshot();
};
// A pinned pass whose copy fails (i915.copy), and one that finds nothing to do.
const failing: LmemObjectEvent = {
  type: 'BACKUP',
  allow_gpu: true,
  pinned: true,
  engine: 'blt',
  faults: { 'i915.copy': { errno: 5, after: 0, count: 1 } },
};

describe('composed coverage: which transition fired', () => {
  it('with the context and the event: exactly one candidate is credited, the one XState selects', () => {
    const before = pinned();
    const [after] = transition(lmemObjectMachine, before, failing);
    const t = new MachineCoverageTracker();
    t.observer(KIND, before.value, 'BACKUP', after.value, before.context, failing);
    // The MBT coverage's own answer (src/mbt/coverage.ts), independent of the tracker.
    const fired = new Coverage(lmemObjectMachine).fired(before, failing).map((x) => x.id);
    expect(fired).toHaveLength(1);
    const r = t.report([KIND])[0]!;
    expect(r.transitions.covered).toBe(1);
    expect(r.missingTransitions).not.toContain(fired[0]);
    expect(r.ambiguous).toEqual([]);
  });

  it('from the state values alone: a targetless failure is ambiguous with the no-op beside it, and nothing is credited', () => {
    const before = pinned();
    const [after] = transition(lmemObjectMachine, before, failing);
    expect(after.value).toBe(before.value);
    const t = new MachineCoverageTracker();
    t.observer(KIND, before.value, 'BACKUP', after.value);
    const r = t.report([KIND])[0]!;
    expect(r.transitions.covered).toBe(0);
    expect(r.ambiguous).toHaveLength(1);
    expect(r.ambiguous[0]![0].every((id) => id.startsWith('pinned|BACKUP|'))).toBe(true);
    expect(r.ambiguous[0]![0].length).toBeGreaterThan(1);
    expect(r.ambiguous[0]![0]).toContain(new Coverage(lmemObjectMachine).fired(before, failing)[0]!.id);
  });

  it('from the state values alone: a targeted transition is credited when it is the only one that explains the new value', () => {
    const a = createActor(lmemObjectMachine, { input }).start();
    const before = a.getSnapshot();
    a.send({ type: 'PIN' });
    const t = new MachineCoverageTracker();
    t.observer(KIND, before.value, 'PIN', a.getSnapshot().value);
    const r = t.report([KIND])[0]!;
    expect(r.transitions.covered).toBe(1);
    expect(r.missingTransitions).not.toContain('resident|PIN|0');
    expect(r.states.covered).toBe(2);
  });
});
