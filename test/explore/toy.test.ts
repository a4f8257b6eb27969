/** The explorer on the reference toy model (design "Performance bars", issue 7). */
import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { exploreNumeric, type NumericModel } from '../../src/explore/bfs.js';
import { toyMachine, toyModel, toyPromela } from '../../src/explore/toy.js';

describe('explorer on the toy model', () => {
  for (const k of [1, 2, 3, 5]) {
    it(`K = ${k}: 4^K states and 7·K·4^(K−1) transitions (SPIN's counts without its init step)`, () => {
      const r = exploreNumeric(toyModel(k));
      expect(r.states).toBe(4 ** k);
      expect(r.transitions).toBe(7 * k * 4 ** (k - 1));
      // Every BO needs two steps to be mapped or exported; ALLOC, then MAP or EXPORT.
      expect(r.depth).toBe(2 * k);
      expect(r.limited).toBeNull();
    });
  }

  it('finds the same reachable states as xstate/graph on the same machine (K = 3)', () => {
    const paths = getShortestPaths(toyMachine(3));
    expect(paths.length).toBe(exploreNumeric(toyModel(3)).states);
    // Shortest path lengths agree with BFS depth (xstate/graph's paths start with the
    // xstate.init step): the longest shortest path is 2K events.
    expect(Math.min(...paths.map((p) => p.steps.length))).toBe(1);
    expect(Math.max(...paths.map((p) => p.steps.length - 1))).toBe(6);
  });

  it('reports a shortest counterexample path for a violated invariant', () => {
    const base = toyModel(3);
    // "No two BOs exported at once": first violated after ALLOC, EXPORT, ALLOC, EXPORT.
    const exported = (s: number) => [0, 1, 2].filter((i) => Math.floor(s / 4 ** i) % 4 === 3).length;
    const model: NumericModel = { ...base, check: (s) => (exported(s) >= 2 ? 'one_export' : null) };
    const r = exploreNumeric(model);
    expect(r.violation?.invariant).toBe('one_export');
    expect(r.violation?.path).toHaveLength(4);
    expect(r.violation?.path.filter((l) => l.startsWith('EXPORT'))).toHaveLength(2);
  });

  it('stops at a state limit and says so instead of throwing', () => {
    const r = exploreNumeric(toyModel(8), { maxStates: 1000 });
    expect(r.limited).toBe('states');
    expect(r.states).toBe(1000);
  });

  it('the Promela model has one d_step per per-BO edge (7 per BO)', () => {
    expect(toyPromela(4).match(/d_step/g)).toHaveLength(28);
  });
});
