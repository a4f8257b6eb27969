/** `gpucr demo` (the README's `npm start`): checkpoint, then a full CRIU round trip. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, gpucr, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 180_000);

describe('gpucr demo', () => {
  it('checkpoints the built-in process, dumps it to plugin images and restores an equivalent process', () => {
    const dir = tempDir('gpucr-demo-test-');
    const r = gpucr(['demo', '-D', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/30 events replayed, 0 failed/);
    expect(r.stdout).toMatch(/round trip: the restored process is equivalent/);
    // spec §9.1: one kfd image, a pages image per GPU, a renderD image per render-node fd.
    const images = readdirSync(join(dir, 'images')).sort();
    expect(images.filter((f) => f.startsWith('amdgpu-kfd-'))).toHaveLength(1);
    expect(images.filter((f) => f.startsWith('amdgpu-pages-'))).toHaveLength(2);
    expect(images.filter((f) => f.startsWith('amdgpu-renderD-'))).toHaveLength(2);
    for (const f of ['checkpoint.jsonl', 'dump-calls.txt', 'restore-calls.txt'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    // The recorded scenario replays with every assertion holding.
    expect(gpucr(['replay', join(dir, 'checkpoint.jsonl')]).code).toBe(0);
  });
});
