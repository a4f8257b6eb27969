/**
 * Orchestration lines in logs: replay checks a line with `by` against the call its
 * orchestration line issued at the same position instead of applying it again
 * (docs/log-format.md "Orchestration events"); the example log docs/examples/criu-roundtrip.jsonl.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { scenarioRoundtripLog } from '../../src/criu/orchestrate-log.js';
import { selectInvariants } from '../../src/invariants/index.js';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';

const EXAMPLE = new URL('../../docs/examples/criu-roundtrip.jsonl', import.meta.url);

function generated(): string {
  return scenarioRoundtripLog(runDemo().lines, scenarioWorld(), APP);
}

function replayText(text: string) {
  const { header, events } = readLog(text, 'log');
  return replay(header, events, { invariants: selectInvariants(['criu.resume-late', 'kfd.restore-queues-wait']) });
}

function edit(
  text: string,
  pick: (r: Record<string, unknown>) => boolean,
  change: (r: Record<string, unknown>) => void,
) {
  const lines = text.trimEnd().split('\n');
  const i = lines.findIndex((l, j) => j > 0 && pick(JSON.parse(l) as Record<string, unknown>));
  expect(i).toBeGreaterThan(0);
  const r = JSON.parse(lines[i]!) as Record<string, unknown>;
  change(r);
  lines[i] = JSON.stringify(r);
  return { text: `${lines.join('\n')}\n`, line: i + 1 };
}

describe('docs/examples/criu-roundtrip.jsonl', () => {
  it('is what the scenario + criu.dump + exit + criu.restore generate', () => {
    expect(readFileSync(EXAMPLE, 'utf8')).toBe(generated());
  });

  it('replays with every assertion and the criu/kfd restore invariants holding', () => {
    const rep = replayText(readFileSync(EXAMPLE, 'utf8'));
    expect(rep.divergence).toBeUndefined();
    expect(rep.violation).toBeUndefined();
    expect(rep.ok).toBe(true);
  });

  it('spec §9.5: its restore lines are ordinary ioctls with by, KFD RESTORE before RESUME', () => {
    const recs = readFileSync(EXAMPLE, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const restoreLine = recs.findIndex((r) => r.call === 'criu.restore') + 2;
    const by = recs.filter((r) => r.by === restoreLine);
    const ops = by.filter((r) => r.call === 'AMDKFD_IOC_CRIU_OP').map((r) => (r.args as { op: string }).op);
    expect(ops).toEqual(['RESTORE', 'RESUME']);
    expect(by[by.length - 1]!.call).toBe('kfd.restore_userptr_worker');
  });
});

describe('replay of lines with by', () => {
  it('a by line naming another call than the one issued at its position is bad input', () => {
    const { text } = edit(
      generated(),
      (r) => r.by !== undefined && r.call === 'AMDKFD_IOC_CRIU_OP',
      (r) => {
        r.call = 'AMDKFD_IOC_GET_VERSION';
        r.args = {};
        delete r.out;
      },
    );
    expect(() => replayText(text)).toThrow(LogError);
  });

  it('a by line whose asserted ret differs from the issued call’s is a divergence naming by', () => {
    const { text, line } = edit(
      generated(),
      (r) => r.by !== undefined && r.call === 'open',
      (r) => {
        r.ret = -2;
      },
    );
    const rep = replayText(text);
    expect(rep.divergence?.line).toBe(line);
    expect(rep.divergence?.by).toBeGreaterThan(1);
  });
});
