/**
 * The known-bug benchmark (issue 7, docs/known-bugs.md): for each entry the explorer
 * finds the buggy variant's violation with a shortest counterexample log that replays
 * to the same violation, and the fixed variant is clean within the same bounds.
 *
 * The entries are in test/bugs/entries.ts.
 */
import { describe, expect, it } from 'vitest';
import { familyModel } from '../../src/explore/families.js';
import { exploreWorlds } from '../../src/explore/world-explorer.js';
import { allInvariants } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { ENTRIES } from './entries.js';

describe('known-bug benchmark', () => {
  for (const e of ENTRIES) {
    it(`${e.name}: found with a shortest counterexample that replays to it`, () => {
      const r = exploreWorlds(familyModel(e.family, e.buggy, [], e.bounds), { maxDepth: e.depth });
      expect(r.violation, 'no violation found').not.toBeNull();
      expect(r.violation!.violations.map((v) => v.invariant)).toContain(e.invariant);
      expect(r.violation!.actions).toHaveLength(e.shortest);
      // Breadth-first: nothing shorter violates it (the exploration one level less is clean).
      if (e.shortest > 1) {
        const shallower = exploreWorlds(familyModel(e.family, e.buggy, [], e.bounds), { maxDepth: e.shortest - 1 });
        expect(shallower.violation).toBeNull();
      }
      const { header, events } = readLog(r.violation!.log, 'counterexample.jsonl');
      expect(header.variants).toEqual(e.buggy);
      const rep = replay(header, events, { invariants: allInvariants() });
      expect(rep.ok).toBe(false);
      expect(rep.divergence).toBeUndefined();
      expect(rep.violation!.violations.map((v) => v.invariant)).toContain(e.invariant);
      // at the log's last event: the counterexample's last action is what breaks it
      expect(rep.lastLine).toBe(r.violation!.log.trimEnd().split('\n').length);
    });

    it(`${e.name}: the fixed variant is clean within the same bounds`, () => {
      const r = exploreWorlds(familyModel(e.family, e.fixed, [], e.bounds), { maxDepth: e.depth });
      expect(r.violation?.violations ?? []).toEqual([]);
      expect(r.states).toBeGreaterThan(50);
    });
  }
});
