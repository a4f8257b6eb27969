/**
 * Bounds on a family's configuration (issue 7 item 1, docs/explorer.md "Bounds"): the
 * defaults are the known-bug benchmark's configurations, raising a bound strictly grows
 * the state space, and a bound that does not apply, an unknown name or a value out of
 * range is refused.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  type BoundName,
  type Bounds,
  checkBounds,
  effectiveBounds,
  FAMILY_BOUNDS,
  type Family,
  FIXED_BASELINE,
  familyModel,
} from '../../src/explore/families/index.js';
import { exploreWorlds } from '../../src/explore/world-explorer.js';

const states = (family: Family, depth: number, bounds: Bounds = {}) =>
  exploreWorlds(familyModel(family, FIXED_BASELINE, [], bounds), { maxDepth: depth });

describe('family bounds', () => {
  // The fixed variants' state counts published in docs/known-bugs.md (measured before bounds existed;
  // amdgpu 133 → 130 when the render-node IDR's search hint left the world: three states differed
  // only in it; i915 329 → 358 when the LMEM region's object list, which a stopped walk rotates,
  // became part of the device's state; ttm 227 → 290 when the family gained a populate whose
  // allocation fails, the ttm.alloc site).
  const PUBLISHED: [Family, number, number][] = [
    ['ttm', 6, 290],
    ['i915', 4, 358],
    ['kfd', 5, 91],
    ['amdgpu', 4, 130],
    ['criu', 4, 171],
  ];
  for (const [family, depth, count] of PUBLISHED)
    it(`${family}: the defaults reproduce the known-bug benchmark's ${count} states at depth ${depth}`, () => {
      expect(states(family, depth).states).toBe(count);
    });

  for (const family of PUBLISHED.map(([f]) => f))
    it(`${family}: its default bounds given explicitly build the same setup and actions`, () => {
      const defaults = Object.fromEntries(
        Object.entries(effectiveBounds(family, {})).filter(([, v]) => v !== null),
      ) as Bounds;
      const a = familyModel(family, FIXED_BASELINE);
      const b = familyModel(family, FIXED_BASELINE, [], defaults);
      expect(b.header).toEqual(a.header);
      expect(b.setup).toEqual(a.setup);
      expect(b.actions(b.initial)).toEqual(a.actions(a.initial));
    });

  // One bound raised at a time, at a depth small enough to stay quick.
  const RAISED: [Family, BoundName, number, number][] = [
    ['ttm', 'pages', 3, 4],
    ['i915', 'bos', 2, 3],
    ['i915', 'pages', 3, 3],
    ['i915', 'regions', 2, 3],
    ['kfd', 'gpus', 2, 3],
    ['kfd', 'bos', 3, 3],
    ['kfd', 'queues', 2, 3],
    ['kfd', 'events', 1, 3],
    ['amdgpu', 'mappings', 2, 3],
    ['criu', 'processes', 2, 3],
    ['criu', 'bos', 1, 3],
  ];
  for (const [family, name, value, depth] of RAISED)
    it(`${family}: ${name}=${value} reaches strictly more states than the default (depth ${depth})`, () => {
      const base = states(family, depth);
      const raised = states(family, depth, { [name]: value });
      expect(base.violation).toBeNull();
      expect(raised.violation?.violations ?? []).toEqual([]);
      expect(raised.states).toBeGreaterThan(base.states);
    });

  it('amdgpu: bos caps GEM_CREATE, and a larger cap reaches more states', () => {
    const one = states('amdgpu', 3, { bos: 1 });
    const two = states('amdgpu', 3, { bos: 2 });
    expect(two.states).toBeGreaterThan(one.states);
    // no bound by default: at least as many as any cap
    expect(states('amdgpu', 3).states).toBeGreaterThanOrEqual(two.states);
  });

  it('checkBounds refuses a bound of another family, an unknown name and a value out of range', () => {
    expect(checkBounds('kfd', { gpus: 2, events: 0 }, '--bounds')).toEqual({ gpus: 2, events: 0 });
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(() => checkBounds('ttm', { gpus: 2 }, '--bounds'))).toMatch(
      /--bounds: expected a bound of the ttm family \(pages, depth, states\), found "gpus"/,
    );
    expect(err(() => checkBounds('ttm', { frobs: 2 }, '--bounds'))).toMatch(/expected a bound among .*found "frobs"/);
    const max = FAMILY_BOUNDS.kfd.gpus.max;
    expect(err(() => checkBounds('kfd', { gpus: max + 1 }, '--bounds'))).toBe(
      `--bounds gpus: expected an integer from 1 to ${max}, found ${max + 1}`,
    );
    expect(err(() => checkBounds(null, { bos: 1 }, '--bounds'))).toMatch(/a bound of the toy model/);
  });
});
