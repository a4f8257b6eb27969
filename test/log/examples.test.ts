/**
 * Every example log in docs/examples/ is runnable: `gpucr replay` accepts it and
 * every assertion it records holds (exit 0). The examples of error cases assert the
 * errnos of the spec sections their comments in docs/examples/README.md name.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayFile } from '../../src/log/replay.js';
import { ROOT } from '../cli/helpers.js';

const DIR = join(ROOT, 'docs/examples');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.jsonl'))
  .sort();

describe('docs/examples', () => {
  it('holds the examples the docs name', () => {
    for (const f of [
      'design-example.jsonl',
      'kfd-checkpoint-two-gpus.jsonl',
      'kfd-restore-resume.jsonl',
      'kfd-criu-errors.jsonl',
      'kfd-ioctl-errors.jsonl',
      'kfd-restore-fget-leak.jsonl',
    ])
      expect(files).toContain(f);
  });

  for (const f of files) {
    it(`${f} replays with every assertion holding`, async () => {
      const rep = await replayFile(join(DIR, f));
      expect(rep.divergence).toBeUndefined();
      expect(rep.ok).toBe(true);
      expect(rep.events).toBeGreaterThan(0);
    });
  }
});
