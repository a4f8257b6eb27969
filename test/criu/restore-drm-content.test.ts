/**
 * Render-node BO contents at restore (spec §9.7, §9.8 restore_bo_contents_drm): written by
 * `sdma_write` calls through the dma-buf fd the restore exported each created BO to, so the
 * restore log carries them and replays to the same world; only VRAM/GTT BOs with at least one
 * GPU mapping are written, as the plugin does.
 */
import { describe, expect, it } from 'vitest';
import type { ImageDir } from '../../src/criu/images/index.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { contentGem } from '../../src/ioctls/amdgpu/kernel/gem.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { applyInPlace } from '../../src/world/step.js';
import type { World } from '../../src/world/types.js';
import { APP, buildHistory } from './history.js';
import { replayRestore } from './replay-restore.js';

/** Every saved render-node BO gets page 0 = 7 (the history itself writes no render-node content). */
function withContent(i: ImageDir): ImageDir {
  return {
    ...i,
    renderD: i.renderD.map((r) => ({ ...r, contents: r.renderD.bo_entries.map(() => ({ 0: 7 })) })),
  };
}

/** Page 0 of each render-node handle of the task, by handle. */
function renderPage0(w: World, pid: number): Record<number, number | undefined> {
  const out: Record<number, number | undefined> = {};
  for (const fid of Object.values(w.tasks[pid]!.fds))
    for (const [h, g] of Object.entries(w.drm?.[fid]?.object_idr ?? {})) out[Number(h)] = contentGem(w, g).content[0];
  return out;
}

describe('render-node BO contents at restore', () => {
  // GPU 0's render node: handle 1 mapped with GEM_VA, handle 2 never mapped
  const h = buildHistory([
    { op: 'gem', p: 0, gpu: 0, pages: 2, domain: 'GTT' },
    { op: 'gemVa', p: 0, gem: 0, maps: 1 },
    { op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' },
  ]);
  const r = roundtrip(h.world, APP, { images: withContent });

  it('spec §9.7/§9.8: written by sdma_write calls on the restored dma-buf fd, and the restore log replays to the same world', () => {
    expect(r.restore?.failure).toBeNull();
    const writes = r.restore!.calls.filter((c) => c.call === 'sdma_write');
    expect(writes.map((c) => [c.pid, c.stage, c.args.page, c.args.value, c.ret])).toEqual([
      [APP, 'RESTORE_EXT_FILE', 0, 7, 0],
    ]);
    const [restored, replayed] = replayRestore(r);
    expect(replayed).toBe(restored);
  });

  it('spec §9.8 restore_bo_contents_drm: only a BO with a GPU mapping (num_of_vms > 0) gets its contents back', () => {
    expect(renderPage0(r.restored!, APP)).toEqual({ 1: 7, 2: undefined });
    expect(r.differences.filter((d) => d.includes('content'))).toHaveLength(1);
  });
});

describe('sdma_write', () => {
  const w = buildHistory([{ op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' }]).world;
  const issue = (name: string, fd: number, raw: Record<string, unknown>) =>
    applyInPlace(w, { pid: APP, call: name, fd, args: decodeArgs(callDef(name)!.args, raw, name) });
  const drm = Number(Object.entries(w.tasks[APP]!.fds).find(([, f]) => w.files[f]?.kind === 'drm')![0]);
  const dmabuf = issue('DRM_IOCTL_PRIME_HANDLE_TO_FD', drm, { handle: 1, flags: 0 }).out.fd as number;

  it('spec §9.7 sdma_copy_bo: an fd not open → -EBADF; not a dma-buf (amdgpu_bo_import fails) → -EINVAL', () => {
    expect(issue('sdma_write', 99, { page: 0, value: 1 }).ret).toBe(-9);
    expect(issue('sdma_write', drm, { page: 0, value: 1 }).ret).toBe(-22);
  });

  it('spec §9.7: a page beyond the BO → -EINVAL; a page inside is written into the BO the dma-buf names', () => {
    expect(issue('sdma_write', dmabuf, { page: 1, value: 1 }).ret).toBe(-22);
    expect(issue('sdma_write', dmabuf, { page: 0, value: 5 }).ret).toBe(0);
    expect(renderPage0(w, APP)).toEqual({ 1: 5 });
  });
});
