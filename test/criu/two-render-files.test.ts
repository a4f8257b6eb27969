/**
 * Two render-node files of one GPU in one task (a compute VM's file and a second one, as a
 * graphics context opens its own). The plugin restores every renderD image into the fd
 * `node_get_drm_render_device` gives for the destination GPU — one per GPU, opened once, the
 * same one KFD RESTORE's device bucket names (spec §9.5 step 3.4; §9.8: "returned fd is a dup
 * of the render fd") — so both files' BOs come back into one file. Each file numbered its
 * handles from 1, and the plugin marks a BO done by its saved handle and render minor
 * (`work_already_completed(handle, minor)`, per restored task, spec §9.8), so the second
 * file's handle 1 counts as restored by the first file's: the second file's BO is skipped
 * and lost, and the restore succeeds. (Until session 10 the model kept that mark per file, so
 * the second file's GEM_CHANGE_HANDLE found handle 1 taken, -ENOSPC.) [DERIVED from the
 * plugin source as the spec describes it, not observed on hardware.]
 */
import { describe, expect, it } from 'vitest';
import { mergedRenderFiles, renderDImageName } from '../../src/criu/images/index.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { ERRNO } from '../../src/uapi/errno.js';
import { applyInPlace } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Call, FdRef, World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';
import { appCall } from './app-calls.js';

const APP = 100;
const GPU = 0x1001;

const issue = (w: World, name: string, raw: Record<string, unknown>, fd?: FdRef) => appCall(w, APP, name, raw, fd);

/** A task with /dev/kfd, its compute VM's render fd and a second render fd of the same GPU, each holding `bos[i]` GTT BOs. */
function twoRenderFiles(bos: [number, number]): World {
  const w = createWorld(
    parseTopology({ gpus: [{ gpu_id: GPU, render_minor: 128 }] }, [{ pid: APP, ptrace_parent: 99 }]),
  );
  const kfd = issue(w, 'open', { path: '/dev/kfd' }).fd as number;
  const files = [0, 1].map(() => issue(w, 'open', { path: '/dev/dri/renderD128' }).fd as number);
  issue(w, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: files[0], gpu_id: GPU }, kfd);
  files.forEach((fd, i) => {
    for (let b = 0; b < bos[i]!; b++) issue(w, 'DRM_IOCTL_AMDGPU_GEM_CREATE', { bo_size: 4096, domains: ['GTT'] }, fd);
  });
  return w;
}

describe('spec §9.5 step 3.4 / §9.8: two render-node files of one GPU restore into one file', () => {
  it('each file holding handle 1: the second file’s BO counts as done (same handle, same minor), is skipped and lost; the restore succeeds', () => {
    const r = roundtrip(twoRenderFiles([1, 1]), APP);
    expect(r.restore!.failure).toBeNull();
    expect(r.equivalent).toBe(false);
    expect(r.differences).toHaveLength(2);
    expect(r.differences[0]).toBe('files.drm 1001: 2 → 1');
    expect(r.differences[1]).toMatch(/^render 1001 handles #2: \{"1":.* → absent$/);
    // one BO created, one GEM_CHANGE_HANDLE: the second file's entry was never touched
    const drm = r.restore!.calls.filter((c) => c.call.startsWith('DRM_IOCTL_')).map((c) => c.call);
    expect(drm.filter((c) => c === 'DRM_IOCTL_AMDGPU_GEM_CREATE')).toHaveLength(1);
    expect(drm.filter((c) => c === 'DRM_IOCTL_GEM_CHANGE_HANDLE')).toHaveLength(1);
    // the images alone say so (gpucr images, gpucr restore): both files into one, handle 1 once
    expect(mergedRenderFiles(r.dump.images, r.dump.tasks)).toEqual([
      {
        pid: APP,
        drm_render_minor: 128,
        files: r.dump.images.renderD.map((d) => renderDImageName(d.id)),
        shared_handles: [1],
      },
    ]);
  });

  it('only the first file holding BOs: they come back, but the two files are one (the check lists it)', () => {
    const r = roundtrip(twoRenderFiles([2, 0]), APP);
    expect(r.restore!.failure).toBeNull();
    expect(r.differences).toEqual(['files.drm 1001: 2 → 1']);
    expect(mergedRenderFiles(r.dump.images, r.dump.tasks).map((m) => m.shared_handles)).toEqual([[]]);
  });

  it('a task with one render file of the GPU round-trips', () => {
    const w = twoRenderFiles([2, 0]);
    // close the second render fd before the dump
    issue(w, 'close', { fd: Number(Object.keys(w.tasks[APP]!.fds).at(-1)) });
    const r = roundtrip(w, APP);
    expect(r.differences).toEqual([]);
    expect(mergedRenderFiles(r.dump.images, r.dump.tasks)).toEqual([]);
  });
});

describe('spec §9.5 step 3.4: render-node files are compared per GPU', () => {
  const B = 0x1002;

  /** GPU A: two render files, BOs in the first; GPU B: a pdd (an ALLOC refused for want of a VM) and no render file. */
  function twoGpus(): World {
    const w = createWorld(
      parseTopology(
        {
          gpus: [
            { gpu_id: GPU, render_minor: 128 },
            { gpu_id: B, render_minor: 129 },
          ],
        },
        [{ pid: APP, ptrace_parent: 99 }],
      ),
    );
    const kfd = issue(w, 'open', { path: '/dev/kfd' }).fd as number;
    const a = [0, 1].map(() => issue(w, 'open', { path: '/dev/dri/renderD128' }).fd as number);
    issue(w, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: a[0], gpu_id: GPU }, kfd);
    issue(w, 'DRM_IOCTL_AMDGPU_GEM_CREATE', { bo_size: 4096, domains: ['GTT'] }, a[0]);
    // kfd_bind_process_to_device creates B's pdd, then finds no VM: -ENODEV (spec §7.2)
    const c: Call = {
      call: 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
      pid: APP,
      fd: kfd,
      args: decodeArgs(
        callDef('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU')!.args,
        { va_addr: 0x10000000, size: 4096, gpu_id: B, flags: ['GTT', 'WRITABLE'] },
        'args',
      ),
    };
    expect(applyInPlace(w, c).ret).toBe(-ERRNO.ENODEV);
    return w;
  }

  it("A's two files merged and B's render fd opened by the restore are both listed (by kind: 2 → 2, neither)", () => {
    const r = roundtrip(twoGpus(), APP);
    expect(r.restore!.failure).toBeNull();
    expect(r.differences).toEqual(['files.drm 1001: 2 → 1', 'files.drm 1002: absent → 1']);
  });
});
