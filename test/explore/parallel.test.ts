/**
 * `gpucr check --workers N` (issue 7 item 1): the state space partitioned across
 * worker threads gives the single-threaded explorer's distinct states, transitions
 * and depth, and finds a violation at the same smallest depth with a shortest log
 * that replays to it, with and without symmetry reduction. Worker threads load the built modules, so these tests run the
 * built binary (test/cli/helpers.ts). Equality only: the machine's cores are shared,
 * speed is measured elsewhere.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, gpucr, tempDir } from '../cli/helpers.js';

beforeAll(() => ensureBuilt(), 200_000);

interface Report {
  states: number;
  transitions: number;
  depth: number;
  limited: string | null;
  workers?: number;
  violations: { invariant: string; log?: string; actions: string[] }[];
}

function check(args: string[]): { code: number | null; report: Report } {
  // A counterexample goes to a temporary file, never into the repository (the CLI runs in its root).
  const out = args.includes('--out') ? [] : ['--out', join(tempDir('gpucr-par-'), 'cex.jsonl')];
  const r = gpucr(['check', ...args, ...out, '--json']);
  if (r.code === 2 || r.code === 70) throw new Error(r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

const counts = (r: Report) => ({ states: r.states, transitions: r.transitions, depth: r.depth, limited: r.limited });

describe('gpucr check --workers', () => {
  const CLEAN: [string, string[]][] = [
    ['the ttm family', ['--family', 'ttm', '--max-depth', '6']],
    ['the i915 family', ['--family', 'i915', '--max-depth', '5']],
    ['the ttm family without symmetry reduction', ['--family', 'ttm', '--max-depth', '5', '--no-symmetry']],
    ['the kfd family (every known bug fixed)', ['--family', 'kfd', '--fixed-baseline', '--max-depth', '4']],
    ['the toy model, K = 5', ['--model', 'toy', '--k', '5']],
  ];
  for (const [what, args] of CLEAN)
    it(`${what}: the same states, transitions and depth with 1, 2 and 3 workers`, () => {
      const one = check(args);
      expect(one.code).toBe(0);
      for (const workers of ['2', '3']) {
        const many = check([...args, '--workers', workers]);
        expect(many.code).toBe(0);
        expect(many.report.workers).toBe(Number(workers));
        expect(counts(many.report)).toEqual(counts(one.report));
      }
    }, 120_000);

  it('the depth bound stops every level at the same place', () => {
    const args = ['--family', 'i915', '--max-depth', '3'];
    expect(counts(check([...args, '--workers', '2']).report)).toEqual(counts(check(args).report));
  }, 60_000);

  it('spec A.9 F1: ttm=unfixed-restore-drop is found at the same smallest depth, and the log replays to it (exit 1)', () => {
    const out = join(tempDir('gpucr-par-'), 'cex.jsonl');
    const args = ['--family', 'ttm', '--variant', 'ttm=unfixed-restore-drop'];
    const one = check(args);
    const many = check([...args, '--workers', '2', '--out', out]);
    expect(many.code).toBe(1);
    expect(many.report.depth).toBe(one.report.depth);
    expect(many.report.violations[0]!.actions).toHaveLength(one.report.violations[0]!.actions.length);
    expect(many.report.violations.map((v) => v.invariant)).toContain('ttm.restore-implies-backed-up');
    const replay = gpucr(['replay', '--check', out]);
    expect(replay.code).toBe(1);
  }, 60_000);

  it('bad input: --workers 0 exits 2', () => {
    const r = gpucr(['check', '--family', 'ttm', '--workers', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers: expected an integer from 1 to 64, found "0"');
  });
});
