/**
 * `replay --check-every n` (src/log/check-schedule.ts, docs/invariants.md "Checking a long
 * log"): the invariants run after every n-th event and the last, and a failure met after
 * events that were not checked is narrowed down by a second replay. The report must be the
 * one checking every event gives, for violations and for divergences met after a
 * violation, whenever a violation stays once it is there; one that comes and goes between
 * two checks is not seen (the documented price).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allInvariants, type Invariant } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay, replayFile } from '../../src/log/replay.js';

const EXAMPLES = new URL('../../docs/examples/', import.meta.url);
const LEAK = readFileSync(new URL('kfd-restore-fget-leak.jsonl', EXAMPLES), 'utf8').trimEnd().split('\n');
const HEADER = readFileSync(new URL('../fixtures/design-example.jsonl', import.meta.url), 'utf8').split('\n')[0]!;

const parse = (lines: string[]) => readLog(lines.join('\n'), 'trace.jsonl');
const openRender = (ret: number) => `{"pid":200,"call":"open","args":{"path":"/dev/dri/renderD128"},"ret":${ret}}`;
/** The leak example (its last line breaks kfd.file-refs), then opens that hold, then one whose ret is wrong. */
const VIOLATION_THEN_DIVERGENCE = [...LEAK, ...Array.from({ length: 12 }, () => openRender(0)), openRender(-22)];

/** Counts its checks; holds always. */
function counting(): Invariant & { calls: number } {
  const inv = { name: 'test.counting', description: 'counts', calls: 0, check: () => (inv.calls++, []) };
  return inv;
}

describe('--check-every: the first failure of checking every event', () => {
  it('every example log, n from 2 to 60: the same report as checking every event', () => {
    const logs = readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => parse(readFileSync(new URL(f, EXAMPLES), 'utf8').trimEnd().split('\n')));
    const failing = logs.filter(({ header, events }) => !replay(header, events, { invariants: allInvariants() }).ok);
    expect(failing.length).toBeGreaterThanOrEqual(3);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 60 }), (n) => {
        for (const { header, events } of logs) {
          const exact = replay(header, events, { invariants: allInvariants() });
          expect(replay(header, events, { invariants: allInvariants(), checkEvery: n })).toEqual(exact);
        }
      }),
      { numRuns: 12, seed: 0x5e },
    );
  });

  it('a divergence after a violation: checking every n-th event still reports the violation first', () => {
    const { header, events } = parse(VIOLATION_THEN_DIVERGENCE);
    const exact = replay(header, events, { invariants: allInvariants() });
    expect(exact.violation?.line).toBe(LEAK.length);
    expect(replay(header, events).divergence?.line).toBe(VIOLATION_THEN_DIVERGENCE.length);
    for (const n of [2, 7, 10, 36, 48, 49, 1000])
      expect(replay(header, events, { invariants: allInvariants(), checkEvery: n }), `n=${n}`).toEqual(exact);
  });

  it('continuing from a world (--from): the second pass starts again from that world', () => {
    const leak = parse(LEAK);
    const world = replay(leak.header, leak.events).world; // kfd.file-refs is broken in it
    const tail = parse([LEAK[0]!, ...VIOLATION_THEN_DIVERGENCE.slice(LEAK.length)]);
    const from = () => ({ world: structuredClone(world), invariants: allInvariants() });
    const exact = replay(tail.header, tail.events, from());
    expect(exact.violation?.line).toBe(2);
    for (const n of [3, 5, 100]) expect(replay(tail.header, tail.events, { ...from(), checkEvery: n })).toEqual(exact);
  });

  it('a log file: the second pass reads the file again and reports what checking every event reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-check-every-'));
    const path = join(dir, 'trace.jsonl');
    writeFileSync(path, `${VIOLATION_THEN_DIVERGENCE.join('\n')}\n`);
    const exact = await replayFile(path, { invariants: allInvariants(), readThread: 'never' });
    expect(exact.violation?.line).toBe(LEAK.length);
    for (const n of [5, 48])
      expect(await replayFile(path, { invariants: allInvariants(), checkEvery: n, readThread: 'never' })).toEqual(
        exact,
      );
  });
});

describe('--check-every: when the invariants run', () => {
  const lines = [
    HEADER,
    ...Array.from(
      { length: 23 },
      (_, i) => `{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"ret":0,"out":{"fd":${3 + i}}}`,
    ),
  ];
  const { header, events } = parse(lines);

  it('after every n-th event and after the last (23 events)', () => {
    for (const [n, checks] of [
      [1, 23],
      [5, 5], // 5, 10, 15, 20, and the last (23)
      [23, 1],
      [30, 1], // the last only
    ] as const) {
      const inv = counting();
      expect(replay(header, events, { invariants: [inv], checkEvery: n }).ok).toBe(true);
      expect(inv.calls, `n=${n}`).toBe(checks);
    }
  });

  it('with --until, after the last event replayed', () => {
    const inv = counting();
    const rep = replay(header, events, { invariants: [inv], checkEvery: 5, until: 13 });
    expect(rep.lastLine).toBe(13);
    expect(inv.calls).toBe(3); // after events 5 and 10, and after the 12th (line 13)
  });

  it('a violation that comes and goes between two checks is not seen (the documented price)', () => {
    // Broken only in the world after the 7th open: with every 5th event checked, no check sees it.
    const transient: Invariant = {
      name: 'test.transient',
      description: 'not exactly 10 open fds in task 100',
      check: (w) => (Object.keys(w.tasks[100]!.fds).length === 10 ? [{ message: '10 fds' }] : []),
    };
    expect(replay(header, events, { invariants: [transient] }).violation?.line).toBe(8);
    expect(replay(header, events, { invariants: [transient], checkEvery: 5 }).ok).toBe(true);
    expect(replay(header, events, { invariants: [transient], checkEvery: 7 }).violation?.line).toBe(8);
  });
});
