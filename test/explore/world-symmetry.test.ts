/**
 * Symmetry reduction of composed-world exploration (issue 7 item 1, src/explore/symmetry.ts):
 * worlds equal up to the names of interchangeable ids are one state. It must reduce the
 * state count of a family and still find every known bug with the same shortest length.
 */
import { describe, expect, it } from 'vitest';
import { FIXED_BASELINE, familyModel } from '../../src/explore/families.js';
import { symmetryKey } from '../../src/explore/symmetry.js';
import { exploreWorlds } from '../../src/explore/world-explorer.js';
import { canonicalJson } from '../../src/log/canonical.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { callDef } from '../../src/ioctls/registry.js';
import { parseTopology } from '../../src/world/topology.js';
import { applyInPlace } from '../../src/world/step.js';
import { createWorld } from '../../src/world/world.js';
import { ENTRIES } from '../bugs/entries.js';

function opened(order: number[]) {
  const w = createWorld(parseTopology({ gpus: [{ gpu_id: 41953, render_minor: 128 }] }, undefined), {});
  for (const pid of order)
    applyInPlace(w, { pid, call: 'open', args: decodeArgs(callDef('open')!.args, { path: '/dev/kfd' }, 'args') });
  return w;
}

describe('symmetry reduction', () => {
  it('two processes opening /dev/kfd in either order: different worlds, one state up to ids', () => {
    const a = opened([100, 200]);
    const b = opened([200, 100]);
    expect(canonicalJson(a)).not.toBe(canonicalJson(b));
    expect(symmetryKey(a)).toBe(symmetryKey(b));
    // not everything merges: a third process is a different world
    expect(symmetryKey(opened([100, 200, 300]))).not.toBe(symmetryKey(a));
  });

  it('reduces the states of the criu family and finds nothing more in the fixed baseline', () => {
    const on = exploreWorlds(familyModel('criu', FIXED_BASELINE), { maxDepth: 4 });
    const off = exploreWorlds(familyModel('criu', FIXED_BASELINE), { maxDepth: 4, symmetry: false });
    expect(on.violation).toBeNull();
    expect(off.violation).toBeNull();
    expect(on.states).toBeLessThan(off.states);
  });

  for (const e of ENTRIES)
    it(`${e.name}: found alike with and without it`, () => {
      const on = exploreWorlds(familyModel(e.family, e.buggy, [], e.bounds), { maxDepth: e.depth });
      const off = exploreWorlds(familyModel(e.family, e.buggy, [], e.bounds), { maxDepth: e.depth, symmetry: false });
      expect(on.violation!.violations.map((v) => v.invariant)).toContain(e.invariant);
      expect(off.violation!.violations.map((v) => v.invariant)).toContain(e.invariant);
      expect(on.violation!.actions).toHaveLength(e.shortest);
      expect(off.violation!.actions).toHaveLength(e.shortest);
      expect(on.states).toBeLessThanOrEqual(off.states);
    });
});
