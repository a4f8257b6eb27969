/**
 * The amdgpu plugin's shared-BO list as written (spec §9.8 "Dump of a render-node fd" step 2:
 * `is_import = IS_IMPORT flag || shared_bo_has_exporter(handle)`; amdgpu_plugin_util.c
 * record_shared_bo): it holds handle numbers, and GEM handles are numbered per drm_file, so two
 * render-node files of one process (one per GPU) both start at handle 1. With the
 * `plugin-shared-bos: by-number` variant, a second file's own BO under a number the first
 * file's own BO recorded is saved as an import, and the restore imports the first file's BO in
 * its place. The default (`by-object`) counts only the same BO.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import type { Variants } from '../../src/world/types.js';
import { APP, CriuWorld, GPU_A, GPU_B } from '../mbt/adapters/criu-world.js';

/** /dev/kfd, then a render node per GPU, each with its own VRAM BO at handle 1 (1 MiB on A, 2 MiB on B). */
function twoRenderNodes(shared: Variants['plugin-shared-bos']): CriuWorld {
  const w = new CriuWorld({ 'plugin-shared-bos': shared });
  w.open('/dev/kfd');
  const a = w.render(GPU_A);
  const b = w.render(GPU_B);
  const create = (fd: number, size: number) =>
    w.call(APP, 'DRM_IOCTL_AMDGPU_GEM_CREATE', { bo_size: size, alignment: 4096, domains: 4, domain_flags: 0 }, fd).out
      .handle as number;
  expect(create(a, 1 << 20)).toBe(1);
  expect(create(b, 2 << 20)).toBe(1);
  // each mapped in its file's VM (the plugin writes back the contents of mapped BOs only), and
  // page 0 of each holds its own value, written through a dma-buf fd of it
  for (const [fd, value] of [
    [a, 0xa],
    [b, 0xb],
  ] as const) {
    w.call(
      APP,
      'DRM_IOCTL_AMDGPU_GEM_VA',
      {
        handle: 1,
        operation: 'MAP',
        flags: ['PAGE_READABLE'],
        va_address: 0x400000000n,
        offset_in_bo: 0,
        map_size: 1 << 20,
      },
      fd,
    );
    const dmabuf = w.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 1, flags: 0 }, fd).out.fd as number;
    w.call(APP, 'sdma_write', { page: 0, value }, dmabuf);
    w.call(APP, 'close', { fd: dmabuf });
  }
  return w;
}

describe('spec §9.8: the shared-BO list by handle number (plugin-shared-bos)', () => {
  it('spec §9.8 (by-object, the default): each file’s own BO at handle 1 is saved as its own and restored as such', () => {
    const r = roundtrip(twoRenderNodes('by-object').world, APP);
    expect(r.dump.images.renderD.map((i) => i.renderD.bo_entries.map((b) => b.is_import))).toEqual([[0], [0]]);
    expect(r.differences).toEqual([]);
  });

  it('spec §9.8 step 2 (by-number, the plugin as written): the second file’s own BO at handle 1 is saved as an import, and restored as an import of the first file’s BO', () => {
    const r = roundtrip(twoRenderNodes('by-number').world, APP);
    expect(r.dump.images.renderD.map((i) => i.renderD.bo_entries.map((b) => b.is_import))).toEqual([[0], [1]]);
    expect(r.restore?.failure).toBeNull();
    // GPU B's handle 1 comes back as a 1 MiB foreign import (GTT) of A's BO, not its own 2 MiB
    // VRAM BO, and the import's saved pages (B's) are written through the fetched dma-buf into
    // A's BO: A's own handle 1 reads B's value
    expect(r.equivalent).toBe(false);
    const [ga, gb] = [GPU_A, GPU_B].map((g) => g.toString(16));
    expect(r.differences).toEqual(
      expect.arrayContaining([
        `render ${gb} handles.1.size: "0x200000" → "0x100000"`,
        `render ${gb} handles.1.preferred_domains: 4 → 2`,
        `render ${ga} handles.1.content.0: 10 → 11`,
      ]),
    );
  });
});

/**
 * GPU A's render file (fd 4) with its own BOs at handles 1 and 2, the application's dma-buf fd
 * of handle 2 (fd 6), and GPU B's render file (fd 5) with no BO: the dma-buf is dumped after
 * both files.
 */
function dmabufOfHandle2(shared: Variants['plugin-shared-bos']): CriuWorld {
  const w = new CriuWorld({ 'plugin-shared-bos': shared });
  w.open('/dev/kfd');
  const a = w.render(GPU_A);
  w.render(GPU_B);
  w.gemCreate(a);
  w.gemCreate(a);
  expect(w.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: 2, flags: 0 }, a).out.fd).toBe(6);
  return w;
}

describe('spec §9.8 "Dump of a dmabuf fd": the handle found by probing each dumped render fd (plugin-shared-bos)', () => {
  it('spec §9.8 (by-object): the dma-buf is saved under handle 2 and restored as A’s BO 2', () => {
    const r = roundtrip(dmabufOfHandle2('by-object').world, APP);
    expect(r.dump.images.dmabuf.map((i) => i.dmabuf.gem_handle)).toEqual([2]);
    expect(r.differences).toEqual([]);
  });

  it('spec §9.8 (by-number, handle_for_shared_bo_fd as written): PRIME_FD_TO_HANDLE on B, the newest file, imports the dma-buf at B’s handle 1, a number the shared list has: the fd is saved under 1 and restored as A’s BO 1', () => {
    const w = dmabufOfHandle2('by-number');
    const r = roundtrip(w.world, APP);
    const probe = r.dump.calls.filter((c) => c.call === 'DRM_IOCTL_PRIME_FD_TO_HANDLE');
    expect(probe.map((c) => (c.fd as { fd: number }).fd)).toEqual([5]);
    expect(r.dump.images.dmabuf.map((i) => i.dmabuf.gem_handle)).toEqual([1]);
    const [ga, gb] = [GPU_A, GPU_B].map((g) => g.toString(16));
    // the dma-buf fd now reaches A's BO 1; and the probe's import stays in B's file after the dump
    expect(r.differences).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^shared: .*"${APP} dmabuf","${APP} render ${ga}:2".* → .*"${APP} dmabuf","${APP} render ${ga}:1"`,
          ),
        ),
        expect.stringMatching(new RegExp(`^render ${gb} handles: \\{"1":`)),
      ]),
    );
  });
});

describe('docs/examples/criu-shared-bos-by-number.jsonl', () => {
  const file = new URL('../../docs/examples/criu-shared-bos-by-number.jsonl', import.meta.url);
  const { header, events } = readLog(readFileSync(file, 'utf8'), 'criu-shared-bos-by-number.jsonl');
  const line = (n: number) => events.find((e) => e.line === n)!;

  it('spec §9.8: replays with every assertion holding, under plugin-shared-bos: by-number', () => {
    expect(header.variants['plugin-shared-bos']).toBe('by-number');
    expect(replay(header, events).ok).toBe(true);
  });

  it('spec §9.8: the restore imports into GPU B’s file (PRIME_FD_TO_HANDLE, no GEM_CREATE there), and B’s handle 1 ends a 1 MiB GTT import of what was a 2 MiB VRAM BO', () => {
    const restoreLine = events.find((e) => e.call === 'criu.restore')!.line;
    const onB = events.filter((e) => e.by === restoreLine && e.fd === 5).map((e) => e.call);
    expect(onB[0]).toBe('DRM_IOCTL_PRIME_FD_TO_HANDLE');
    expect(onB).not.toContain('DRM_IOCTL_AMDGPU_GEM_CREATE');
    const created = events.find((e) => e.call === 'DRM_IOCTL_AMDGPU_GEM_CREATE' && e.fd === 5 && e.by === undefined)!;
    expect(Number(created.args!.bo_size)).toBe(2097152);
    const last = line(events[events.length - 1]!.line);
    expect(last.fd).toBe(5);
    const info = (last.out as { create_info: { bo_size: number | bigint; domains: number } }).create_info;
    expect([Number(info.bo_size), info.domains]).toEqual([1048576, 2]);
  });
});
