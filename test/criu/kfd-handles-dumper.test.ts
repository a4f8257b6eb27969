/**
 * Which GEM handle the amdgpu plugin saves for a KFD BO (spec §9.4 h: `handle =
 * get_gem_handle(h_dev, dmabuf_fd)`, drmPrimeFDToHandle on a render node of the BO's GPU), and
 * what follows at restore, where render-node imports fetch the dma-buf the KFD restore published
 * under that number (spec §9.5 step 3.7, §9.8). Two readings, as the `plugin-kfd-handles`
 * variant: `application` (the default) numbers the BO as the first application render file
 * that holds it; `dumper` numbers it in the render node the plugin opens itself
 * (`node_get_drm_render_device`), 1, 2, … in bucket order. Spec §12 q9 leaves open which one
 * libdrm's device de-duplication gives.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dumpTask } from '../../src/criu/dump.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { NO_GEM_HANDLE } from '../../src/criu/images/index.js';
import type { Variants } from '../../src/world/types.js';
import { APP, CRIU, CriuWorld, GPU_A } from '../mbt/adapters/criu-world.js';

/**
 * /dev/kfd and GPU A's render node (its VM acquired), GTT KFD BOs X (one page, only when `x`)
 * and Y (two pages), and Y exported and imported into the render node: the application's
 * handle 1 is Y.
 */
function importedKfdBo(handles: Variants['plugin-kfd-handles'], x: boolean): CriuWorld {
  const w = new CriuWorld({ 'plugin-kfd-handles': handles });
  const kfd = w.open('/dev/kfd');
  const render = w.render(GPU_A);
  w.call(APP, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: render, gpu_id: GPU_A }, kfd);
  const alloc = (va: bigint, size: number) =>
    w.call(APP, 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', { va_addr: va, size, gpu_id: GPU_A, flags: ['GTT', 'WRITABLE'] }, kfd)
      .out.handle as bigint;
  if (x) alloc(0x7f0000000000n, 4096);
  const y = alloc(0x7f0000100000n, 8192);
  const dmabuf = w.call(APP, 'AMDKFD_IOC_EXPORT_DMABUF', { handle: y, flags: 0 }, kfd).out.dmabuf_fd as number;
  expect(w.call(APP, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: dmabuf }, render).out.handle).toBe(1);
  w.call(APP, 'close', { fd: dmabuf });
  return w;
}

/** The KFD image's saved handles, in bucket order. */
const kfdHandles = (r: ReturnType<typeof roundtrip>) => r.dump.images.kfd[0]!.kfd.bo_entries.map((b) => b.handle);

/** Render nodes CRIU itself still has open. */
function criuRenderFds(w: CriuWorld): number {
  const fds = Object.values(w.world.tasks[CRIU]?.fds ?? {});
  return fds.filter((f) => w.world.files[f]?.kind === 'drm').length;
}

/** The differences but the render node the plugin opens for every GPU of the KFD process (docs/checkpoint-restore.md). */
const beyondOpenedNodes = (ds: string[]) => ds.filter((d) => !d.startsWith('files.drm'));

describe('spec §9.4 h: the GEM handle save_bos gives a KFD BO (plugin-kfd-handles)', () => {
  it('spec §9.4 h (application, the default): the application render file’s number; a BO no render file holds has none; no call is issued', () => {
    const w = importedKfdBo('application', true);
    const r = roundtrip(w.world, APP);
    expect(kfdHandles(r)).toEqual([NO_GEM_HANDLE, 1]);
    expect(r.dump.calls.some((c) => c.pid === CRIU && c.call === 'DRM_IOCTL_PRIME_FD_TO_HANDLE')).toBe(false);
    expect(r.restore?.failure).toBeNull();
    expect(beyondOpenedNodes(r.differences)).toEqual([]);
  });

  it('spec §9.4 h (dumper): PRIME_FD_TO_HANDLE of each VRAM/GTT bucket’s dma-buf on a render node CRIU opens, 1, 2 in bucket order; the node is closed when the dump ends', () => {
    const w = importedKfdBo('dumper', true);
    const r = roundtrip(w.world, APP);
    expect(kfdHandles(r)).toEqual([1, 2]);
    const own = r.dump.calls.filter(
      (c) => c.pid === CRIU && c.call === 'open' && c.args.path === '/dev/dri/renderD128',
    );
    expect(own).toHaveLength(1);
    const probes = r.dump.calls.filter((c) => c.pid === CRIU && c.call === 'DRM_IOCTL_PRIME_FD_TO_HANDLE');
    expect(probes.map((c) => [c.fd, c.ret, c.out.handle])).toEqual([
      [own[0]!.out.fd, 0, 1],
      [own[0]!.out.fd, 0, 2],
    ]);
    // the dumped world (the round trip dumps a copy): CRIU holds no render node afterwards
    expect(criuRenderFds(w)).toBe(0);
    w.dump();
    expect(criuRenderFds(w)).toBe(0);
  });

  it('spec §9.4 h, §9.8 (dumper): the render node’s import of Y at handle 1 fetches what the KFD restore published under 1 — X: the restore succeeds with the wrong BO', () => {
    const r = roundtrip(importedKfdBo('dumper', true).world, APP);
    expect(r.restore?.failure).toBeNull();
    expect(beyondOpenedNodes(r.differences)).toEqual([
      'render 1001 handles.1.size: "0x2000" → "0x1000"',
      'shared: [["100 kfd 1001:1","100 render 1001:1"]] → [["100 kfd 1001:0","100 render 1001:1"]]',
    ]);
  });

  it('spec §9.4 h (dumper: sys_get_node_by_gpu_id of the bucket’s user gpu_id): a process restored onto GPUs of other ids has no node under its user ids, and its dump fails (-ENODEV)', () => {
    const dumpMoved = (handles: Variants['plugin-kfd-handles']) => {
      const w = importedKfdBo(handles, false).world;
      const moved = roundtrip(w, APP, {
        topology: { ...w.topology, gpus: w.topology.gpus.map((g, i) => ({ ...g, gpu_id: 0x7001 + i })) },
      });
      expect(moved.restore?.failure).toBeNull();
      return dumpTask(moved.restored!, CRIU, APP).failure;
    };
    expect(dumpMoved('dumper')).toBe(`No render node for gpu_id 0x${GPU_A.toString(16)} (-ENODEV)`);
    // under application numbering no node is looked up, and the same dump succeeds
    expect(dumpMoved('application')).toBeNull();
  });

  it('spec §9.4 h (dumper): with Y the only KFD BO the numbers coincide, and the round trip holds', () => {
    const r = roundtrip(importedKfdBo('dumper', false).world, APP);
    expect(kfdHandles(r)).toEqual([1]);
    expect(beyondOpenedNodes(r.differences)).toEqual([]);
  });
});

describe('docs/examples/criu-kfd-handles-dumper.jsonl', () => {
  const file = new URL('../../docs/examples/criu-kfd-handles-dumper.jsonl', import.meta.url);
  const { header, events } = readLog(readFileSync(file, 'utf8'), 'criu-kfd-handles-dumper.jsonl');

  it('spec §9.4 h: replays with every assertion holding, under plugin-kfd-handles: dumper', () => {
    expect(header.variants['plugin-kfd-handles']).toBe('dumper');
    expect(replay(header, events).ok).toBe(true);
  });

  it('spec §9.4 h, §9.8: CRIU numbers X 1 and Y 2 in its own render node; the restored handle 1, which was Y (two pages), is X (one page)', () => {
    const dumpLine = events.find((e) => e.call === 'criu.dump')!.line;
    const probes = events.filter((e) => e.by === dumpLine && e.call === 'DRM_IOCTL_PRIME_FD_TO_HANDLE');
    expect(probes.map((e) => (e.out as { handle: number }).handle)).toEqual([1, 2]);
    const imported = events.find((e) => e.call === 'DRM_IOCTL_PRIME_FD_TO_HANDLE' && e.by === undefined)!;
    expect((imported.out as { handle: number }).handle).toBe(1);
    const sizes = events
      .filter((e) => e.call === 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU' && e.by === undefined)
      .map((e) => Number(e.args!.size));
    expect(sizes).toEqual([4096, 8192]);
    const last = events[events.length - 1]!;
    expect(last.call).toBe('DRM_IOCTL_AMDGPU_GEM_OP');
    expect(Number((last.out as { create_info: { bo_size: number | bigint } }).create_info.bo_size)).toBe(4096);
  });
});
