/**
 * The known-bug benchmark (issue 7, docs/known-bugs.md): for each entry the explorer
 * finds the buggy variant's violation with a shortest counterexample log that replays
 * to the same violation, and the fixed variant is clean within the same bounds.
 */
import { describe, expect, it } from 'vitest';
import { type Family, familyModel } from '../../src/explore/families.js';
import { exploreWorlds } from '../../src/explore/world-explorer.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import type { Variants } from '../../src/world/types.js';
import { allInvariants } from '../../src/invariants/index.js';

interface Entry {
  name: string;
  family: Family;
  buggy: Partial<Variants>;
  fixed: Partial<Variants>;
  depth: number;
  invariant: string;
  /** Length of the shortest counterexample, in actions. */
  shortest: number;
}

const ENTRIES: Entry[] = [
  {
    name: 'spec A.9 F1: ttm=unfixed-restore-drop keeps a stale restore state',
    family: 'ttm',
    buggy: { ttm: 'unfixed-restore-drop' },
    fixed: { ttm: 'fixed' },
    depth: 6,
    invariant: 'ttm.restore-implies-backed-up',
    shortest: 4,
  },
  {
    name: 'spec C.8: i915=v2-restore-put drops the backup reference and keeps the pointer',
    family: 'i915',
    buggy: { i915: 'v2-restore-put' },
    fixed: { i915: 'final' },
    depth: 4,
    invariant: 'i915.backup-reference',
    shortest: 2,
  },
];

describe('known-bug benchmark', () => {
  for (const e of ENTRIES) {
    it(`${e.name}: found with a shortest counterexample that replays to it`, () => {
      const r = exploreWorlds(familyModel(e.family, e.buggy), { maxDepth: e.depth });
      expect(r.violation, 'no violation found').not.toBeNull();
      expect(r.violation!.violations.map((v) => v.invariant)).toContain(e.invariant);
      expect(r.violation!.actions).toHaveLength(e.shortest);
      // Breadth-first: nothing shorter violates it (the exploration one level less is clean).
      const shallower = exploreWorlds(familyModel(e.family, e.buggy), { maxDepth: e.shortest - 1 });
      expect(shallower.violation).toBeNull();
      const { header, events } = readLog(r.violation!.log, 'counterexample.jsonl');
      const rep = replay(header, events, { invariants: allInvariants() });
      expect(rep.ok).toBe(false);
      expect(JSON.stringify(rep)).toContain(e.invariant);
    });

    it(`${e.name}: the fixed variant is clean within the same bounds`, () => {
      const r = exploreWorlds(familyModel(e.family, e.fixed), { maxDepth: e.depth });
      expect(r.violation?.violations ?? []).toEqual([]);
      expect(r.states).toBeGreaterThan(50);
    });
  }
});
