/**
 * The round-trip properties accept exactly the differences the design explains
 * (test/criu/design-differences.ts): a VRAM_CLEARED change alone, on a handle whose object
 * changes its creator at restore. Anything else stays a difference.
 */
import { describe, expect, it } from 'vitest';
import { unexplained } from './design-differences.js';
import { APP, buildHistory, type Op } from './history.js';

const gem: Op = { op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' };
const importedByKfd: Op = { op: 'renderToKfd', p: 0, gem: 0, gpu: 0, closeFd: false, map: false };

describe('round-trip differences the design explains (docs/checkpoint-restore.md "Round-trip findings")', () => {
  it('spec §5.1 IMPORT_DMABUF, §9.8: VRAM_CLEARED lost by a render handle whose object KFD imported is explained; on an object KFD never imported it is not', () => {
    const lost = 'render 1001 handles.1.flags: 8 → 0';
    expect(unexplained(buildHistory([gem, importedByKfd]).world, [lost], APP)).toEqual([]);
    expect(unexplained(buildHistory([gem]).world, [lost], APP)).toEqual([lost]);
  });

  it('spec §9.8: any other flags change, or another field, is not explained', () => {
    const w = buildHistory([gem, importedByKfd]).world;
    const others = [
      'render 1001 handles.1.flags: 9 → 0',
      'render 1001 handles.1.flags: 8 → 4',
      'render 1001 handles.1.size: 8192 → 4096',
      'render 1001 handles.2.flags: 8 → 0',
    ];
    expect(unexplained(w, others, APP)).toEqual(others);
  });

  it('spec §9.8: VRAM_CLEARED gained by a KFD allocation only a render handle still holds is explained', () => {
    const ops: Op[] = [
      { op: 'alloc', p: 0, gpu: 0, kind: 'GTT', pages: 1 },
      { op: 'kfdToRender', p: 0, bo: 0, closeFd: false, map: false },
    ];
    const gained = 'render 1001 handles.1.flags: 0 → 8';
    // while KFD still holds the allocation, the render handle imports KFD's restored object: no change to explain
    expect(unexplained(buildHistory(ops).world, [gained], APP)).toEqual([gained]);
    expect(unexplained(buildHistory([...ops, { op: 'free', p: 0, bo: 0 }]).world, [gained], APP)).toEqual([]);
  });
});
