/**
 * `gpucr check --bounds` and its statistics (issue 7 items 1 and 6, docs/cli.md,
 * docs/explorer.md "Bounds"): a raised bound reaches more states, the JSON report carries
 * the statistics and the bounds, and bad bounds exit 2 naming the option, the expected
 * and the found, without a stack trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, gpucr, STACK, tempDir } from './helpers.js';

const dir = tempDir('gpucr-bounds-');
const out = join(dir, 'cex.jsonl');

beforeAll(() => ensureBuilt(), 180_000);

function json(args: string[]) {
  const r = gpucr(['check', ...args, '--out', out, '--json']);
  expect(r.stderr).toBe('');
  return { code: r.code, report: JSON.parse(r.stdout) as Record<string, unknown> };
}

function refused(args: string[], ...parts: RegExp[]) {
  const r = gpucr(['check', ...args, '--out', out]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(STACK);
  for (const p of parts) expect(r.stderr).toMatch(p);
}

describe('gpucr check --bounds', () => {
  it('a raised bound reaches strictly more states; the report has the statistics and the bounds', () => {
    const base = json(['--family', 'kfd', '--fixed-baseline', '--bounds', 'depth=3']);
    const raised = json(['--family', 'kfd', '--fixed-baseline', '--bounds', 'queues=2,events=1,depth=3']);
    expect(base.code).toBe(0);
    expect(raised.code).toBe(0);
    expect(raised.report.states as number).toBeGreaterThan(base.report.states as number);
    expect(base.report.bounds).toEqual({ gpus: 1, bos: 2, queues: 1, events: 0, depth: 3, states: null });
    expect(raised.report.bounds).toMatchObject({ queues: 2, events: 1 });
    for (const k of ['states', 'transitions', 'depth', 'seconds', 'states_per_second', 'memory_bytes'])
      expect(typeof raised.report[k], k).toBe('number');
    expect(raised.report.memory_bytes as number).toBeGreaterThan(0);
    expect(raised.report.violations).toEqual([]);
    expect(raised.report.coverage).not.toBeNull();
  }, 60_000);

  it('the text output prints TLC-style statistics and no progress line when stderr is not a terminal', () => {
    const r = gpucr(['check', '--family', 'ttm', '--bounds', 'pages=1,depth=2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^bounds pages 1, depth 2, states none$/m);
    expect(r.stdout).toMatch(/^[0-9,]+ distinct states, [0-9,]+ transitions, depth 2 \(stopped by the depth limit\)$/m);
    expect(r.stdout).toMatch(/^[0-9.]+ s, [0-9,]+ states\/s, [0-9.]+ MiB heap$/m);
  }, 60_000);

  it('--workers 2 explores the same bounded configuration', () => {
    const args = ['--family', 'ttm', '--bounds', 'pages=3,depth=3'];
    const one = json(args);
    const two = json([...args, '--workers', '2']);
    expect(two.report.states).toBe(one.report.states);
    expect(two.report.transitions).toBe(one.report.transitions);
    expect(two.report.bounds).toEqual(one.report.bounds);
    expect(typeof two.report.states_per_second).toBe('number');
  }, 60_000);

  it('a configuration file gives bounds too, checked against its family', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ family: 'ttm', bounds: { pages: 3, 'max-depth': 2 } }));
    expect(json(['--config', good]).report.bounds).toEqual({ pages: 3, depth: 2, states: null });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ family: 'ttm', bounds: { gpus: 2 } }));
    refused(
      ['--config', bad],
      /bad\.json: \/bounds: expected a bound of the ttm family \(pages, depth, states\), found "gpus"/,
    );
    const range = join(dir, 'range.json');
    writeFileSync(range, JSON.stringify({ family: 'ttm', bounds: { pages: 9 } }));
    refused(['--config', range], /range\.json: \/bounds\/pages: expected a number <= 8, found 9/);
  }, 60_000);

  it('bad bounds exit 2 with the option, the expected and the found', () => {
    refused(['--family', 'ttm', '--bounds', 'gpus=2'], /--bounds: expected a bound of the ttm family .*found "gpus"/);
    refused(['--family', 'kfd', '--bounds', 'frobs=1'], /--bounds: expected a bound among processes, .*found "frobs"/);
    refused(['--family', 'kfd', '--bounds', 'gpus=two'], /--bounds gpus: expected a non-negative integer, found "two"/);
    refused(['--family', 'kfd', '--bounds', 'gpus=9'], /--bounds gpus: expected an integer from 1 to 4, found 9/);
    refused(['--family', 'kfd', '--bounds', 'gpus'], /--bounds: expected name=value pairs/);
    refused(['--family', 'kfd', '--bounds', 'depth=2', '--max-depth', '3'], /--bounds depth: expected either/);
    refused(['--model', 'toy', '--k', '2', '--bounds', 'bos=2'], /--bounds: expected a bound of the toy model/);
  }, 60_000);
});
