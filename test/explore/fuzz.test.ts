/**
 * `gpucr fuzz` (issue 7 item 3): random walks with fast-check's model-based commands
 * find the known TTM bug, shrink it to a short run whose log replays to the
 * violation, and pass on the fixed variant.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXED_BASELINE, familyModel } from '../../src/explore/families.js';
import { fuzzWorlds } from '../../src/explore/fuzz.js';
import { exploreWorlds } from '../../src/explore/world-explorer.js';
import { allInvariants } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { runCli } from '../cli/in-process.js';

const INVARIANT = 'ttm.restore-implies-backed-up';
const BUGGY = { ttm: 'unfixed-restore-drop' } as const;

describe('fuzz', () => {
  it('spec A.9 F1: ttm=unfixed-restore-drop is found and shrunk to the shortest run, whose log replays to the violation', () => {
    const r = fuzzWorlds(familyModel('ttm', BUGGY), { runs: 300, seed: 42, maxSteps: 30 });
    expect(r.violation, 'no violation found').not.toBeNull();
    expect(r.violation!.violations.map((v) => v.invariant)).toContain(INVARIANT);
    // The walk that found it was longer; shrinking brought it down to the explorer's shortest.
    const shortest = exploreWorlds(familyModel('ttm', BUGGY), { maxDepth: 6 });
    expect(r.violation!.shrinks).toBeGreaterThan(0);
    expect(r.violation!.actions).toHaveLength(shortest.violation!.actions.length);
    const { header, events } = readLog(r.violation!.log, 'fuzz.jsonl');
    const rep = replay(header, events, { invariants: allInvariants() });
    expect(rep.ok).toBe(false);
    expect(JSON.stringify(rep)).toContain(INVARIANT);
  });

  it('the fixed variant passes every run', () => {
    const r = fuzzWorlds(familyModel('ttm', { ttm: 'fixed' }), { runs: 200, seed: 42, maxSteps: 30 });
    expect(r.violation).toBeNull();
    expect(r.runs).toBe(200);
    expect(r.steps).toBeGreaterThan(200);
  });

  it('spec §6.2: the double PROCESS_INFO of the kfd family (kfd-process-info=evict-again) is found, and the fixed baseline passes', () => {
    const buggy = fuzzWorlds(familyModel('kfd', { ...FIXED_BASELINE, 'kfd-process-info': 'evict-again' }), {
      runs: 200,
      seed: 3,
      maxSteps: 12,
    });
    expect(buggy.violation?.violations.map((v) => v.invariant)).toContain('kfd.criu-queues-released');
    const { header, events } = readLog(buggy.violation!.log, 'fuzz.jsonl');
    expect(replay(header, events, { invariants: allInvariants() }).ok).toBe(false);
    const fixed = fuzzWorlds(familyModel('kfd', FIXED_BASELINE), { runs: 50, seed: 3, maxSteps: 12 });
    expect(fixed.violation).toBeNull();
  });

  it('the same seed gives the same shrunk log, byte for byte', () => {
    // any seed whose walks reach the bug (7 did until the family gained a failing populate)
    const once = () => fuzzWorlds(familyModel('ttm', BUGGY), { runs: 300, seed: 8 }).violation?.log;
    const a = once();
    expect(a).toBeDefined();
    expect(once()).toBe(a);
  });
});

describe('gpucr fuzz', () => {
  it('exit 1 with the minimal run written; gpucr replay --check reproduces it with exit 1', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gpucr-fuzz-')), 'min.jsonl');
    const f = await runCli([
      'fuzz',
      '--family',
      'ttm',
      '--variant',
      'ttm=unfixed-restore-drop',
      '--runs',
      '300',
      '--seed',
      '42',
      '--max-steps',
      '30',
      '--out',
      out,
      '--json',
    ]);
    expect(f.code).toBe(1);
    const report = JSON.parse(f.stdout) as { violations: { invariant: string; log: string }[]; seed: number };
    expect(report.seed).toBe(42);
    expect(report.violations.map((v) => [v.invariant, v.log])).toContainEqual([INVARIANT, out]);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toContain('"gpucr"');
    const r = await runCli(['replay', '--check', out]);
    expect(r.code).toBe(1);
  });

  it('exit 0 on the fixed variant; exit 2 with a clear message on bad input', async () => {
    expect((await runCli(['fuzz', '--family', 'ttm', '--runs', '20'])).code).toBe(0);
    const bad = await runCli(['fuzz', '--family', 'ttm', '--runs', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--runs: expected an integer from 1 to 1000000, found "many"');
    expect((await runCli(['fuzz', '--family', 'nope'])).code).toBe(2);
  });
});
