/**
 * `gpucr check --config <file>` (issue 7 item 6): a JSON configuration validated
 * against its schema, with clear errors (file, path, expected, found → exit 2), and
 * command-line options overriding the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeCheckConfig, parseCheckConfig } from '../../src/explore/config.js';
import { runCli } from '../cli/in-process.js';

const DIR = mkdtempSync(join(tmpdir(), 'gpucr-config-'));
let n = 0;

function file(content: unknown): string {
  const p = join(DIR, `c${(n += 1)}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const BUGGY = {
  family: 'ttm',
  variants: { ttm: 'unfixed-restore-drop' },
  invariants: ['ttm.restore-implies-backed-up'],
  bounds: { 'max-depth': 6, 'max-states': 100000 },
};

describe('gpucr check --config', () => {
  it('runs the exploration the file describes: the known TTM bug, exit 1, the log where the file says', async () => {
    const out = join(DIR, 'cex.jsonl');
    const r = await runCli(['check', '--config', file({ ...BUGGY, out }), '--json']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout) as { violations: { invariant: string; log: string }[]; invariants: string[] };
    expect(rep.invariants).toEqual(['ttm.restore-implies-backed-up']);
    expect(rep.violations[0]).toMatchObject({ invariant: 'ttm.restore-implies-backed-up', log: out });
  });

  it('command-line options override the file: a variant by name, a bound', async () => {
    const f = file(BUGGY);
    const fixed = await runCli(['check', '--config', f, '--variant', 'ttm=fixed', '--json']);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout).variants).toEqual({ ttm: 'fixed' });
    const shallow = await runCli(['check', '--config', f, '--max-depth', '2', '--json']);
    expect(shallow.code).toBe(0);
    expect(JSON.parse(shallow.stdout)).toMatchObject({ depth: 2, limited: 'depth' });
  });

  it('the toy model from a file, and --model on the command line replacing the file’s family', async () => {
    const toy = await runCli(['check', '--config', file({ model: 'toy', k: 3 }), '--json']);
    expect(JSON.parse(toy.stdout).states).toBe(4 ** 3);
    const over = await runCli(['check', '--config', file(BUGGY), '--model', 'toy', '--k', '2', '--json']);
    expect(over.code).toBe(0);
    expect(JSON.parse(over.stdout)).toMatchObject({ model: 'toy', states: 16 });
  });

  const BAD: [string, unknown, string][] = [
    ['an unknown key', { family: 'ttm', depth: 3 }, ': /depth: expected no such key (allowed: family, model, k,'],
    [
      'an unknown bound',
      { family: 'ttm', bounds: { frobs: 3 } },
      ': /bounds/frobs: expected no such key (allowed: max-states, max-depth, processes, gpus, bos, mappings, queues, events, pages, xccs, regions), found "frobs"',
    ],
    ['a family that does not exist', { family: 'nouveau' }, ': /family: expected one of "ttm", "i915"'],
    [
      'a variant value that does not exist',
      { family: 'ttm', variants: { ttm: 'maybe' } },
      ': /variants/ttm: expected one of "fixed", "unfixed-restore-drop", found "maybe"',
    ],
    [
      'an invariant that is not registered',
      { family: 'ttm', invariants: ['ttm.nope'] },
      ': /invariants/0: expected one of',
    ],
    [
      'a bound of the wrong type',
      { family: 'ttm', bounds: { 'max-depth': '6' } },
      ': /bounds/max-depth: expected a value of type integer, found "6"',
    ],
    [
      'a bound out of range',
      { family: 'ttm', bounds: { 'max-depth': 0 } },
      ': /bounds/max-depth: expected a number >= 1, found 0',
    ],
    ['workers out of range', { family: 'ttm', workers: 1000 }, ': /workers: expected a number <= 64, found 1000'],
    [
      'both a family and a model',
      { family: 'ttm', model: 'toy' },
      ': /model: expected either "family" or "model", not both, found "toy"',
    ],
    ['not an object', [1, 2], ': /: expected a value of type object, found a list of 2'],
    ['invalid JSON', '{"family": ', ': expected a JSON document, found "invalid JSON'],
  ];
  for (const [what, content, message] of BAD)
    it(`${what}: exit 2 naming the file, the path, what was expected and what was found`, async () => {
      const f = file(content);
      const r = await runCli(['check', '--config', f, '--json']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${f}${message}`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });

  it('a file that cannot be read: exit 2', async () => {
    const r = await runCli(['check', '--config', join(DIR, 'missing.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--config: expected a readable file');
  });
});

describe('mergeCheckConfig', () => {
  it('fills only what the command line did not give; variants merge by name; a command-line invariant list replaces the file’s', () => {
    const cfg = parseCheckConfig(
      JSON.stringify({
        family: 'ttm',
        variants: { ttm: 'unfixed-restore-drop', kernel: '6.17' },
        invariants: ['ttm.state-predicate'],
        'fixed-baseline': true,
        symmetry: false,
        workers: 2,
      }),
      'c.json',
    );
    const merged = mergeCheckConfig(
      { variant: ['ttm=fixed'], invariant: ['ttm.flag-coupling'], maxDepth: '3', symmetry: true },
      cfg,
      (k) => ['variant', 'invariant', 'maxDepth'].includes(k),
    );
    expect(merged).toMatchObject({
      family: 'ttm',
      variant: ['ttm=unfixed-restore-drop', 'kernel=6.17', 'ttm=fixed'],
      invariant: ['ttm.flag-coupling'],
      maxDepth: '3',
      symmetry: false,
      workers: '2',
      fixedBaseline: true,
    });
  });
});
