/**
 * A BO imported on a second GPU under another GEM handle number than its exporter's (spec §9.8):
 * the plugin's dump records the import by its handle number, and its restore looks the number
 * up in the table of published dma-bufs, where the exporter's BO is published under its own
 * number. The dump succeeds and writes a directory; its restore retries the import until CRIU
 * gives up. gpucr once refused to write (and to read) such a directory, as if it were malformed,
 * so `criu.dump {dir}` of this process was "bad input" while the same dump kept in the world
 * restored to the plugin's failure.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageDir, renderDImageName, unpublishedHandles } from '../../src/criu/images/index.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { applyInPlace } from '../../src/world/step.js';
import type { Call, World } from '../../src/world/types.js';

const [A, B] = [0xa3e1, 0x5c17];
const APP = 100;

/** The application: GPU A's BO at handle 1 exported, and imported on GPU B, whose own BO holds handle 1. */
const HISTORY = [
  {
    gpucr: 1,
    topology: {
      page_size: 4096,
      gpus: [A, B].map((gpu_id, i) => ({ gpu_id, render_minor: 128 + i, vram_size: '17179869184' })),
    },
    processes: [{ pid: APP, ptrace_parent: 99 }],
  },
  { pid: APP, call: 'open', args: { path: '/dev/kfd' } }, // 3
  { pid: APP, call: 'open', args: { path: '/dev/dri/renderD128' } }, // 4
  { pid: APP, call: 'open', args: { path: '/dev/dri/renderD129' } }, // 5
  ...[4, 5].map((fd) => ({
    pid: APP,
    call: 'DRM_IOCTL_AMDGPU_GEM_CREATE',
    fd,
    args: { bo_size: 4096, alignment: 0, domains: ['VRAM'], domain_flags: [], handle: 0 },
  })),
  { pid: APP, call: 'DRM_IOCTL_PRIME_HANDLE_TO_FD', fd: 4, args: { handle: 1, flags: 0 } }, // 6
  { pid: APP, call: 'DRM_IOCTL_PRIME_FD_TO_HANDLE', fd: 5, args: { handle: 0, flags: 0, fd: 6 } }, // B's handle 2
  { pid: APP, call: 'close', args: { fd: 6 } },
];

function application(): World {
  const { header, events } = readLog(HISTORY.map((l) => JSON.stringify(l)).join('\n'), 'history');
  return replay(header, events, { assertions: false }).world;
}

/** The CRIU file id of GPU B's render-node image in `dir`. */
const renderB = (dir: string) => readImageDir(dir).renderD.find((s) => s.renderD.drm_render_minor === 129)!.id;

function issue(w: World, name: string, raw: Record<string, unknown>) {
  const call: Call = { call: name, args: decodeArgs(callDef(name)!.args, raw, 'args') };
  return applyInPlace(w, call);
}

describe('an import under another handle number than its exporter’s (spec §9.8)', () => {
  it('the dump writes its images, and the import is reported as a handle no image publishes', () => {
    const w = application();
    expect(w.drm && Object.values(w.drm).some((d) => Object.hasOwn(d.object_idr, 2))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-unpublished-'));
    const r = issue(w, 'criu.dump', { pid: APP, dir });
    expect(r.ret).toBe(0);
    const images = readImageDir(dir);
    const b = images.renderD.find((s) => s.renderD.drm_render_minor === 129)!;
    expect(b.renderD.bo_entries.map((e) => [e.handle, e.is_import])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(unpublishedHandles(images)).toEqual([
      { file: renderDImageName(b.id), field: 'bo_entries[1].handle', handle: 2 },
    ]);
  });

  it('restoring the directory fails as restoring the dump kept in the world does: -EIO, no progress', () => {
    const w = application();
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-unpublished-'));
    const dumped = issue(w, 'criu.dump', { pid: APP, dir });
    const fromDir = structuredClone(w);
    const kept = issue(w, 'criu.restore', { dump: dumped.out.object, pid: 200 });
    const read = issue(fromDir, 'criu.restore', { dir, pid: 200 });
    expect(kept.ret).toBe(-5);
    // the render node of GPU B waits, in the restored process, for the dma-buf of handle 2
    expect(kept.out.failure).toBe(
      `RESTORE_EXT_FILE made no progress in a full pass (still waiting: pid 200 fd 5 (CRIU file id ${renderB(dir)}, GEM handle 2 not published))`,
    );
    expect({ ret: read.ret, failure: read.out.failure }).toEqual({ ret: kept.ret, failure: kept.out.failure });
  });
});
