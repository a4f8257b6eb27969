/**
 * KFD BOs that KFD RESTORE cannot map (docs/conformance.md "Kernel findings" 2):
 * `kfdMapConflicts` (src/criu/images/restore-notes.ts) finds, in the images alone, a BO whose
 * `mapped_gpuids` name a GPU where a BO before it in bucket order maps an overlapping range. A
 * live process dumps such a pair when a MAP left an AQL BO half mapped; the restore then fails.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kfdImageName, kfdMapConflicts, readImageDir, restoreNoteLines } from '../../src/criu/images/index.js';
import '../../src/ioctls/all.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';

/** The example's first 9 lines: the ring-like BO mapped at VA, the AQL BO half mapped over it. */
function halfMapped(variant?: string): string[] {
  const lines = readFileSync(new URL('../../docs/examples/kfd-aql-half-mapped.jsonl', import.meta.url), 'utf8')
    .trimEnd()
    .split('\n')
    .slice(0, 9);
  if (variant) {
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    lines[0] = JSON.stringify({ ...header, variants: { 'kfd-map-failure': variant } });
  }
  return lines;
}

/** Dump pid 100 into a directory and restore it into pid 200: the images and the restore's state. */
function dumpAndRestore(lines: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-kfd-map-'));
  const all = [
    ...lines,
    JSON.stringify({ call: 'criu.dump', args: { pid: 100, dir } }),
    JSON.stringify({ call: 'criu.restore', args: { dir, pid: 200, criu: 99 } }),
  ];
  const { header, events } = readLog(all.join('\n'), 'kfd-map');
  const w = replay(header, events, { assertions: false }).world;
  const restore = Object.entries(w.objects).find(([id]) => id.startsWith('criu.restore#'))![1];
  return { images: readImageDir(dir), restore: restore.value };
}

describe('kfdMapConflicts: KFD BOs the restore cannot map', () => {
  it('names the half-mapped AQL BO over the BO mapped before it, and the restore fails', () => {
    const { images, restore } = dumpAndRestore(halfMapped());
    const file = kfdImageName(images.kfd[0]!.id);
    expect(kfdMapConflicts(images)).toEqual([
      { file, field: 'bo_entries[1]', mapped_first: 'bo_entries[0]', gpu: 6699, addr: 0x7f0000000000n, size: 0x10000n },
    ]);
    expect(restoreNoteLines(images).join('\n')).toMatch(
      /^restore cannot map these KFD BOs: .*\n {2}amdgpu-kfd-\d+\.img: bo_entries\[1\] = 0x7f0000000000\+0x10000 on GPU 0x1a2b, over bo_entries\[0\]$/,
    );
    expect(restore).toBe('failed');
  });

  it('with kfd-map-failure=unwind the failed MAP leaves the AQL BO unmapped: nothing to say, and the restore completes', () => {
    const { images, restore } = dumpAndRestore(halfMapped('unwind'));
    expect(kfdMapConflicts(images)).toEqual([]);
    expect(restoreNoteLines(images)).toEqual([]);
    expect(restore).toBe('done');
  });
});
