/**
 * What the progress bars of `gpucr replay` and `gpucr run` are told (docs/cli.md, "Colour and
 * progress": a bar for any work longer than a second): every pass over a file reports, from
 * the start to the end of it. `run` validates the whole script before it applies it, and a
 * log with `\u` escapes is validated in a first pass before its replay (docs/log-format.md,
 * "Replay: one streaming pass"); both passes used to be silent, as was `gpucr validate`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from '../../src/cli/run.js';
import { validateFile } from '../../src/cli/validate.js';
import type { Invariant } from '../../src/invariants/index.js';
import { replayFile } from '../../src/log/replay.js';
import { writeBenchLog } from '../bench/gen-log.js';

const dir = mkdtempSync(join(tmpdir(), 'gpucr-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Report = [phase: string, done: number, total: number];

/** The bench log: 6,000 events, ≈ 650 KB. */
const LOG = join(dir, 'log.jsonl');
writeBenchLog(LOG, 6_000, 50);
const SIZE = statSync(LOG).size;

/** The phases in the order they reported, each once. */
const phases = (rs: readonly Report[]) => rs.map((r) => r[0]).filter((p, i, all) => all.indexOf(p) === i);
const of = (rs: readonly Report[], phase: string) => rs.filter((r) => r[0] === phase);

/** Each phase's reports grow, stay within their total, and reach at least `near` of it. */
function expectCovers(rs: readonly Report[], total: number, near: number): void {
  expect(rs.length).toBeGreaterThan(1);
  for (const [, done, all] of rs) {
    expect(all).toBe(total);
    expect(done).toBeLessThanOrEqual(total);
  }
  for (let i = 1; i < rs.length; i++) expect(rs[i]![1]).toBeGreaterThan(rs[i - 1]![1]);
  expect(rs[rs.length - 1]![1]).toBeGreaterThanOrEqual(total * near);
}

describe('progress of the passes over a file', () => {
  it('run: the script validated (bytes of the file), then applied (events of the script)', async () => {
    const rs: Report[] = [];
    const s = await runScript(LOG, join(dir, 'out.jsonl'), {
      readThread: 'never',
      onProgress: (phase, done, total) => rs.push([phase, done, total]),
    });
    expect(s.events).toBe(6_000);
    expect(phases(rs)).toEqual(['validate', 'run']);
    // Reports come every 64 KiB and every 1,024 events: the last is within one step of the end.
    expectCovers(of(rs, 'validate'), SIZE, 1 - 65536 / SIZE);
    expectCovers(of(rs, 'run'), 6_000, 1 - 1024 / 6_000);
  });

  it('replay of a log with a \\u escape: the validating pass, then the replay, each over the file', async () => {
    const escaped = join(dir, 'escaped.jsonl');
    const text = readFileSync(LOG, 'utf8').replace('"path":"/dev/kfd"', '"path":"/dev/\\u006bfd"');
    expect(text).toContain('\\u006b');
    writeFileSync(escaped, text);
    const rs: Report[] = [];
    const r = await replayFile(escaped, {
      readThread: 'never',
      onProgress: (phase, done, total) => rs.push([phase, done, total]),
    });
    expect(r.ok).toBe(true);
    expect(phases(rs)).toEqual(['validate', 'replay']);
    const size = statSync(escaped).size;
    expectCovers(of(rs, 'validate'), size, 1 - 65536 / size);
    expectCovers(of(rs, 'replay'), size, 1 - 65536 / size);
  });

  it('validate: the bytes of the file', async () => {
    const rs: Report[] = [];
    const { lines } = await validateFile(LOG, (done, total) => rs.push(['validate', done, total]));
    expect(lines).toBe(6_001);
    expectCovers(rs, SIZE, 1 - 65536 / SIZE);
  });

  it('replay --check-every: the replay, then the second pass that narrows a violation down', async () => {
    const last = (await replayFile(LOG, { readThread: 'never' })).world.next.object;
    // Broken once four fifths of the log's objects exist, and from then on.
    const late: Invariant = {
      name: 'test.late',
      description: 'fewer objects than four fifths of the log makes',
      check: (w) => (w.next.object > (last * 4) / 5 ? [{ message: 'late' }] : []),
    };
    const rs: Report[] = [];
    const r = await replayFile(LOG, {
      readThread: 'never',
      invariants: [late],
      checkEvery: 1_000,
      onProgress: (phase, done, total) => rs.push([phase, done, total]),
    });
    expect(r.violation?.violations[0]?.invariant).toBe('test.late');
    expect(phases(rs)).toEqual(['replay', 'recheck']);
    // The second pass reads the file again from its start, up to the failing line.
    expect(of(rs, 'recheck')[0]![1]).toBeLessThan(of(rs, 'replay').at(-1)![1]);
    expectCovers(of(rs, 'recheck'), SIZE, 0.7);
  });

  it('replay of a log without one: the replay alone', async () => {
    const rs: Report[] = [];
    await replayFile(LOG, { readThread: 'never', onProgress: (phase, done, total) => rs.push([phase, done, total]) });
    expect(phases(rs)).toEqual(['replay']);
  });
});
