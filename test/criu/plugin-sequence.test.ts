/**
 * The order of the plugin's calls where the model followed its own order before session 10
 * (an audit of the model against checkpoint-restore/criu plugins/amdgpu and criu/cr-restore.c):
 * - spec §9.4 step 3: record_dumped_fd list_adds each dumped file at the head of dumped_fds,
 *   so DUMP_DEVICES_LATE unpauses the last-dumped /dev/kfd file first;
 * - spec §9.5 step 3.1: the KFD restore calls kernel_supports_criu(fd) (GET_VERSION) on the
 *   /dev/kfd it just opened, before CRIU_OP(RESTORE);
 * - spec §9.8: a created render-node BO is exported through its new handle, then given its
 *   saved handle by GEM_CHANGE_HANDLE, which the plugin issues even when the two are equal, so
 *   a kernel without the ioctl fails the restore at the first BO (spec §8.2);
 * - spec §9.5 step 7: CRIU runs RESUME_DEVICES_LATE for every task in pstree order
 *   (for_each_pstree_item), not in the order the files were restored, and goes on after a
 *   failed RESUME;
 * - spec §9.8 (dump of a render-node fd): each handle is exported with drmPrimeHandleToFD for
 *   the SDMA read of its contents; a BO that cannot be exported fails the dump. An import's
 *   contents are read too, and restore_bo_contents_drm writes them back (it has no is_import
 *   test) through the dma-buf fd the import came by.
 */
import { describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';
import { applyInPlace } from '../../src/world/step.js';
import type { Variants } from '../../src/world/types.js';
import { APP, buildHistory, PEER } from './history.js';

type Calls = NonNullable<ReturnType<typeof roundtrip>['restore']>['calls'];
/** The pid each CRIU_OP `op` acts on: RESUME's argument, the task of a dumped fd, or the caller. */
const kfdOps = (calls: Calls, op: keyof typeof KFD_CRIU_OP) =>
  calls
    .filter((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.op === KFD_CRIU_OP[op])
    .map((c) => (op === 'RESUME' ? (c.args.pid as number) : typeof c.fd === 'object' ? c.fd.pid : c.pid));

function twoGpuProcesses() {
  return buildHistory(
    [
      { op: 'alloc', p: 0, gpu: 0, kind: 'GTT', pages: 1 },
      { op: 'alloc', p: 1, gpu: 1, kind: 'GTT', pages: 1 },
    ],
    true,
  ).world;
}

describe('the plugin’s call order', () => {
  it('spec §9.4 step 3 (record_dumped_fd, list_add): UNPAUSE goes to the last-dumped /dev/kfd file first', () => {
    const r = roundtrip(twoGpuProcesses(), [APP, PEER]);
    expect(kfdOps(r.dump.calls, 'CHECKPOINT')).toEqual([APP, PEER]);
    expect(kfdOps(r.dump.calls, 'UNPAUSE')).toEqual([PEER, APP]);
  });

  it('spec §9.5 step 7 (for_each_pstree_item): RESUME in pstree order, whatever order the files were restored in', () => {
    const r = roundtrip(twoGpuProcesses(), [APP, PEER], { order: [PEER, APP] });
    expect(r.restore?.failure).toBeNull();
    expect(kfdOps(r.restore!.calls, 'RESTORE')).toEqual([PEER, APP]);
    expect(kfdOps(r.restore!.calls, 'RESUME')).toEqual([APP, PEER]);
    expect(r.differences).toEqual([]);
  });

  it('spec §9.5 step 3.1 (kernel_supports_criu(fd)): GET_VERSION on the new /dev/kfd, right before CRIU_OP(RESTORE)', () => {
    const r = roundtrip(twoGpuProcesses(), [APP, PEER]);
    const calls = r.restore!.calls;
    for (const pid of [APP, PEER]) {
      const open = calls.findIndex((c) => c.pid === pid && c.call === 'open' && c.args.path === '/dev/kfd');
      const version = calls.findIndex((c) => c.pid === pid && c.call === 'AMDKFD_IOC_GET_VERSION');
      const restore = calls.findIndex(
        (c) => c.pid === pid && c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.op === KFD_CRIU_OP.RESTORE,
      );
      expect(open).toBeGreaterThanOrEqual(0);
      expect(version).toBeGreaterThan(open);
      expect(restore).toBeGreaterThan(version);
      expect(calls[version]!.fd).toBe(calls[open]!.out.fd);
    }
  });

  it('spec §9.8, §8.2: GEM_CREATE, PRIME_HANDLE_TO_FD of the new handle, GEM_CHANGE_HANDLE even to the same number; without the ioctl the restore fails there', () => {
    const w = buildHistory([{ op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' }]).world;
    const r = roundtrip(w, APP);
    expect(r.restore?.failure).toBeNull();
    const drm = r.restore!.calls.filter((c) => c.call.startsWith('DRM_IOCTL_')).map((c) => [c.call, c.args.handle]);
    expect(drm.slice(0, 3)).toEqual([
      ['DRM_IOCTL_AMDGPU_GEM_CREATE', 0],
      ['DRM_IOCTL_PRIME_HANDLE_TO_FD', 1],
      ['DRM_IOCTL_GEM_CHANGE_HANDLE', 1],
    ]);
    const off = buildHistory([{ op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' }]).world;
    off.variants = { ...off.variants, 'gem-change-handle': 'disabled' } as Variants;
    expect(roundtrip(off, APP).restore?.failure).toBe('GEM_CHANGE_HANDLE returned -22');
  });

  it('spec §9.8: the dump exports each render-node handle after GET_MAPPING_INFO and closes the fd; a VM_ALWAYS_VALID BO (-EPERM) fails the dump', () => {
    const w = buildHistory([{ op: 'gem', p: 0, gpu: 0, pages: 1, domain: 'GTT' }]).world;
    const r = roundtrip(w, APP);
    expect(r.dump.failure).toBeNull();
    const calls = r.dump.calls.map((c) => c.call);
    const info = calls.indexOf('DRM_IOCTL_AMDGPU_GEM_OP');
    expect(calls.slice(info + 1, info + 3)).toEqual(['DRM_IOCTL_PRIME_HANDLE_TO_FD', 'close']);

    const always = buildHistory([]).world;
    const drm = Number(Object.entries(always.tasks[APP]!.fds).find(([, f]) => always.files[f]?.kind === 'drm')![0]);
    const raw = { bo_size: 4096, alignment: 4096, domains: ['GTT'], domain_flags: ['VM_ALWAYS_VALID'] };
    const args = decodeArgs(callDef('DRM_IOCTL_AMDGPU_GEM_CREATE')!.args, raw, 'args');
    expect(applyInPlace(always, { pid: APP, call: 'DRM_IOCTL_AMDGPU_GEM_CREATE', fd: drm, args }).ret).toBe(0);
    expect(roundtrip(always, APP).dump.failure).toBe('Failed to get dmabuf fd from handle 1 (-1)');
  });

  it('spec §9.8 restore_bo_contents_drm: an imported render-node BO’s pages are saved and written back through the fd it was imported from', () => {
    const w = buildHistory([
      { op: 'alloc', p: 0, gpu: 0, kind: 'GTT', pages: 1 },
      { op: 'write', p: 0, bo: 0, page: 0, value: 7 },
      { op: 'kfdToRender', p: 0, bo: 0, closeFd: true, map: true },
    ]).world;
    const r = roundtrip(w, APP);
    expect(r.restore?.failure).toBeNull();
    const img = r.dump.images.renderD.find((d) => d.renderD.bo_entries.some((b) => b.is_import))!;
    const i = img.renderD.bo_entries.findIndex((b) => b.is_import);
    expect(img.contents?.[i]).toEqual({ 0: 7 });
    const calls = r.restore!.calls;
    const imp = calls.find((c) => c.call === 'DRM_IOCTL_PRIME_FD_TO_HANDLE')!;
    const write = calls.filter((c) => c.call === 'sdma_write' && c.fd === imp.args.fd);
    expect(write.map((c) => [c.args.page, c.args.value])).toEqual([[0, 7]]);
    expect(r.differences).toEqual([]);
  });
});
