/**
 * The benchmark log (test/bench/gen-log.ts), which `npm run bench` replays: written in one
 * piece (`generateBenchLog`) or streamed to a file a megabyte at a time (`writeBenchLog`, for
 * the memory bench's 2.3 GB log), it is the same log, and it replays with every recorded
 * `ret` holding and `bos` BOs alive at the end.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayFile } from '../../src/log/replay.js';
import { generateBenchLog, writeBenchLog } from '../bench/gen-log.js';

const dir = mkdtempSync(join(tmpdir(), 'gpucr-bench-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the benchmark log', () => {
  // 25,000 events are ≈ 2.7 MB: the streamed file is written in several chunks.
  for (const [events, bos] of [
    [0, 1],
    [5, 3],
    [25_000, 500],
  ] as const) {
    it(`${events} events, ${bos} BOs: writeBenchLog streams the bytes of generateBenchLog`, () => {
      const path = join(dir, `log-${events}.jsonl`);
      const size = writeBenchLog(path, events, bos);
      const whole = `${generateBenchLog(events, bos).lines.join('\n')}\n`;
      expect(readFileSync(path, 'utf8')).toBe(whole);
      expect(size).toBe(statSync(path).size);
      expect(whole.split('\n').length - 1).toBe(events + 1);
    });
  }

  it('replays with every assertion holding and its BOs alive at the end', async () => {
    const path = join(dir, 'replay.jsonl');
    writeBenchLog(path, 25_000, 500);
    const r = await replayFile(path, { readThread: 'never' });
    expect(r.ok).toBe(true);
    expect(r.events).toBe(25_000);
    // The user's BOs: the process's own (internal) ones, which ACQUIRE_VM allocates, left out.
    const bos = Object.values(r.world.objects).filter(
      (o) => o.kind === 'kfd.bo' && !(o.context as { internal: boolean }).internal,
    );
    expect(bos).toHaveLength(500);
  });
});
