/**
 * Determinism of composed-world exploration (design "Determinism"): the same family, variants
 * and bounds give the same states and transitions however many explorations ran before in
 * the same process. The criu family's in-memory dumps once lived in a map beside the world,
 * so a later exploration's restores found an earlier one's images.
 */
import { describe, expect, it } from 'vitest';
import { familyModel, FIXED_BASELINE } from '../../src/explore/families.js';
import { exploreWorlds } from '../../src/explore/world-explorer.js';
import { applyInPlace } from '../../src/world/step.js';

describe('exploration is deterministic within a process', () => {
  it('criu family, fixed baseline, depth 4: three explorations in a row agree', () => {
    const runs = [0, 1, 2].map(() => exploreWorlds(familyModel('criu', FIXED_BASELINE), { maxDepth: 4 }));
    expect(new Set(runs.map((r) => `${r.states}/${r.transitions}/${r.depth}`)).size).toBe(1);
    expect(runs[0]!.states).toBeGreaterThan(100);
  });

  it('a criu.restore names a dump of its own world only: a world without that dump gets -EINVAL', () => {
    const model = familyModel('criu', FIXED_BASELINE);
    const dumpAndRestore = model.actions(model.initial).find((a) => a.calls.some((c) => c.call === 'criu.restore'));
    expect(dumpAndRestore).toBeDefined();
    // Explore once so that this process has seen dumps, then restore a dump id in a fresh world.
    exploreWorlds(model, { maxDepth: 2 });
    const fresh = familyModel('criu', FIXED_BASELINE);
    const restore = dumpAndRestore!.calls.find((c) => c.call === 'criu.restore')!;
    const w = structuredClone(fresh.initial);
    expect(applyInPlace(w, structuredClone(restore)).ret).toBe(-22);
  });
});

describe('actions are applied as they are', () => {
  it('applyInPlace hands the handler a copy: no call of any family action is changed by applying it', () => {
    // The explorer applies each family's action calls to many worlds without copying them.
    for (const family of ['ttm', 'i915', 'kfd', 'amdgpu', 'criu'] as const) {
      const model = familyModel(family, FIXED_BASELINE);
      for (const action of model.actions(model.initial)) {
        const w = structuredClone(model.initial);
        for (const c of action.calls) {
          const before = structuredClone(c);
          applyInPlace(w, c);
          expect(c, `${family}: ${action.name}: ${c.call}`).toEqual(before);
        }
      }
    }
  });
});
