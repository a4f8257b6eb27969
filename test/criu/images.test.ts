/**
 * Image files of the CRIU amdgpu plugin (spec §9.1, §9.2): round trips of every image type,
 * the size prefix, pages images (sparse, real size), and whole directories.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeDmabufImage,
  decodeKfdImage,
  decodeKfdPriv,
  decodePages,
  decodeRenderDImage,
  dmabufImageName,
  drmPagesImageName,
  encodeDmabufImage,
  encodeKfdImage,
  encodePages,
  encodeRenderDImage,
  ImageError,
  kfdImageName,
  kfdPagesImageName,
  readImageDir,
  renderDImageName,
  writeImageDir,
} from '../../src/criu/images/index.js';
import { encodePrivData } from '../../src/criu/kfd-priv.js';
import { InputError } from '../../src/errors.js';
import {
  GPU_A,
  GPU_B,
  PAGE,
  sampleDir,
  sampleDmabuf,
  sampleKfd,
  samplePriv,
  sampleRenderD,
} from './images-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gpucr-images-'));

function prefixOf(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

describe('message images round trip', () => {
  it('spec §9.2: criu_kfd (amdgpu-kfd-<id>.img) decodes to the message that was encoded', () => {
    const msg = sampleKfd();
    const bytes = encodeKfdImage(msg);
    expect(decodeKfdImage(bytes, 'amdgpu-kfd-3.img')).toEqual(msg);
  });

  it('spec §9.2: criu_render_node (amdgpu-renderD-<id>.img) round trips', () => {
    const msg = sampleRenderD();
    expect(decodeRenderDImage(encodeRenderDImage(msg), 'amdgpu-renderD-7.img')).toEqual(msg);
  });

  it('spec §9.2: criu_dmabuf_node (amdgpu-dmabuf_<id>.img) round trips', () => {
    const msg = sampleDmabuf();
    expect(decodeDmabufImage(encodeDmabufImage(msg), 'amdgpu-dmabuf_9.img')).toEqual(msg);
  });

  it('spec §9.2: u64 extremes and the -1 handle survive (uint64 2^64−1, uint32 0xffffffff)', () => {
    const msg = sampleKfd();
    msg.shared_mem_size = (1n << 64n) - 1n;
    msg.bo_entries[4]!.offset = (1n << 64n) - (2n * BigInt(PAGE) + 1n);
    msg.bo_entries[4]!.addr = 0n;
    msg.device_entries[1]!.hive_id = 1n << 63n;
    msg.pid = 0xffff_ffff;
    const back = decodeKfdImage(encodeKfdImage(msg), 'amdgpu-kfd-3.img');
    expect(back.shared_mem_size).toBe((1n << 64n) - 1n);
    expect(back.device_entries[1]!.hive_id).toBe(1n << 63n);
    expect(back.bo_entries[1]!.handle).toBe(0xffff_ffff);
    expect(back.pid).toBe(0xffff_ffff);
  });

  it('spec §9.1: every image starts with an 8-byte little-endian size_t holding the payload size', () => {
    for (const bytes of [
      encodeKfdImage(sampleKfd()),
      encodeRenderDImage(sampleRenderD()),
      encodeDmabufImage(sampleDmabuf()),
    ]) {
      expect(prefixOf(bytes)).toBe(BigInt(bytes.length - 8));
    }
    // criu_dmabuf_node{gem_handle: 1} is the two protobuf bytes 08 01.
    expect([...encodeDmabufImage({ gem_handle: 1 })]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x01]);
  });

  it('spec §3: priv_data inside the kfd image keeps the kernel byte layout (decodes with the image counts)', () => {
    const msg = decodeKfdImage(encodeKfdImage(sampleKfd()), 'amdgpu-kfd-3.img');
    expect(decodeKfdPriv(msg, 'amdgpu-kfd-3.img')).toEqual(samplePriv());
  });

  it('spec §3: a blob of a MAX_GPU_INSTANCE 16 kernel decodes with maxGpuInstance 16, not with the default 64', () => {
    const msg = sampleKfd();
    msg.priv_data = encodePrivData(samplePriv(), 16);
    expect(() => encodeKfdImage(msg, 'amdgpu-kfd-3.img')).toThrow(/^amdgpu-kfd-3\.img: priv_data\.bos: /);
    const bytes = encodeKfdImage(msg, 'amdgpu-kfd-3.img', { maxGpuInstance: 16 });
    const back = decodeKfdImage(bytes, 'amdgpu-kfd-3.img', { maxGpuInstance: 16 });
    expect(decodeKfdPriv(back, 'amdgpu-kfd-3.img', { maxGpuInstance: 16 })).toEqual(samplePriv());
  });

  it('a rejected message is an InputError (the CLI maps it to exit 2)', () => {
    const e = (() => {
      try {
        decodeDmabufImage(new Uint8Array([1]), 'amdgpu-dmabuf_1.img');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(InputError);
    expect(e).toBeInstanceOf(ImageError);
  });
});

describe('pages', () => {
  it('design "Content": a page is page_size bytes, its u32 value little endian in the first 4', () => {
    const bytes = encodePages({ 1: 0x0403_0201, 3: 0xffff_ffff }, 4 * PAGE, PAGE);
    expect(bytes.length).toBe(4 * PAGE);
    expect([...bytes.subarray(PAGE, PAGE + 8)]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect([...bytes.subarray(3 * PAGE, 3 * PAGE + 4)]).toEqual([255, 255, 255, 255]);
    expect(bytes.subarray(0, PAGE).every((b) => b === 0)).toBe(true);
    expect(decodePages(bytes, PAGE)).toEqual({ 1: 0x0403_0201, 3: 0xffff_ffff });
  });

  it('zero values are absent pages; a short last page holds the low bytes', () => {
    expect(decodePages(encodePages({ 0: 0, 2: 5 }, 3 * PAGE, PAGE), PAGE)).toEqual({ 2: 5 });
    const short = encodePages({ 1: 0x0201 }, PAGE + 2, PAGE);
    expect(short.length).toBe(PAGE + 2);
    expect(decodePages(short, PAGE)).toEqual({ 1: 0x0201 });
    expect(() => encodePages({ 1: 0x1_0000 }, PAGE + 2, PAGE)).toThrow(/fits the 2-byte last page/);
  });

  it('rejects content that is not a page → u32 map of the BO', () => {
    expect(() => encodePages({ 4: 1 }, 4 * PAGE, PAGE)).toThrow(/page index 0 … 3/);
    expect(() => encodePages({ 0: -1 }, PAGE, PAGE)).toThrow(/u32 value/);
    expect(() => encodePages({ 0: 2 ** 32 }, PAGE, PAGE)).toThrow(/u32 value/);
    expect(() => decodePages(new Uint8Array(PAGE).fill(1, 100, 101), PAGE, 'x.img')).toThrow(
      'x.img: content: page 0: expected zero bytes after the first 4 of every page (gpucr content model: one u32 per page), found a non-zero byte at offset 100 of the page',
    );
  });
});

describe('image directories', () => {
  it('spec §9.1: writes the plugin file names and reads back the same images and contents', () => {
    const dir = tmp();
    const names = writeImageDir(dir, sampleDir());
    const expected = [
      'amdgpu-kfd-3.img',
      `amdgpu-pages-3-${GPU_A.toString(16)}.img`,
      `amdgpu-pages-3-${GPU_B.toString(16)}.img`,
      'amdgpu-renderD-7.img',
      'amdgpu-drm-pages-7-128-0000.img',
      'amdgpu-drm-pages-7-128-0001.img',
      'amdgpu-drm-pages-7-128-0002.img',
      'amdgpu-dmabuf_9.img',
    ];
    expect(names.sort()).toEqual([...expected].sort());
    expect(readdirSync(dir).sort()).toEqual([...expected].sort());
    const back = readImageDir(dir);
    expect(back).toEqual(sampleDir());
  });

  it('spec §9.1/§9.4 h: a KFD pages image holds the VRAM/GTT BOs of one GPU back to back, with the real size', () => {
    const dir = tmp();
    writeImageDir(dir, sampleDir());
    // GPU A: bo_entries[0] (VRAM, 3 pages) then [1] (GTT, 2 pages); the USERPTR BO has no pages.
    const a = readFileSync(join(dir, `amdgpu-pages-3-${GPU_A.toString(16)}.img`));
    expect(a.length).toBe(8 + 5 * PAGE);
    expect(prefixOf(a)).toBe(BigInt(5 * PAGE));
    expect(a.readUInt32LE(8)).toBe(0xdead_beef);
    expect(a.readUInt32LE(8 + 2 * PAGE)).toBe(7);
    // GPU B: bo_entries[3] (VRAM, 4 pages); the DOORBELL BO has no pages.
    const b = readFileSync(join(dir, `amdgpu-pages-3-${GPU_B.toString(16)}.img`));
    expect(b.length).toBe(8 + 4 * PAGE);
    expect(b.readUInt32LE(8 + 3 * PAGE)).toBe(0xffff_ffff);
    // One render-node BO per drm pages image (spec §9.8), of its size.
    const d = readFileSync(join(dir, 'amdgpu-drm-pages-7-128-0001.img'));
    expect(d.length).toBe(8 + 3 * PAGE);
  });

  it('pages images are written sparse: a large all-zero BO allocates almost nothing', () => {
    const dir = tmp();
    const images = sampleDir();
    const kfd = images.kfd[0]!.kfd;
    kfd.bo_entries[3]!.size = 1n << 26n; // 64 MiB VRAM BO with one non-zero page
    images.kfd[0]!.contents = [{}, {}, undefined, { 10_000: 3 }, undefined];
    writeImageDir(dir, images);
    const st = statSync(join(dir, `amdgpu-pages-3-${GPU_B.toString(16)}.img`));
    expect(st.size).toBe(8 + 2 ** 26);
    expect(st.blocks * 512).toBeLessThan(1 << 18);
    const back = readImageDir(dir);
    expect(back.kfd[0]!.contents![3]).toEqual({ 10_000: 3 });
  });

  it('a rejected input writes nothing', () => {
    const dir = tmp();
    const images = sampleDir();
    images.dmabuf[0]!.id = 7; // the render-node image's file id: refused after every file is encoded
    expect(() => writeImageDir(dir, images)).toThrow(ImageError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores files that are not amdgpu images (a CRIU image directory holds its own images)', () => {
    const dir = tmp();
    writeImageDir(dir, sampleDir());
    writeFileSync(join(dir, 'pstree.img'), 'x');
    writeFileSync(join(dir, 'inventory.img'), 'y');
    expect(readImageDir(dir)).toEqual(sampleDir());
  });

  it('--no-contents reads check sizes only', () => {
    const dir = tmp();
    writeImageDir(dir, sampleDir());
    const back = readImageDir(dir, { contents: false });
    expect(back.kfd[0]!.contents![0]).toEqual({});
    expect(back.kfd[0]!.contents![2]).toBeUndefined();
  });

  it('a larger page size cuts the same bytes into fewer pages', () => {
    const dir = tmp();
    const images = sampleDir();
    images.kfd[0]!.contents = [{ 0: 9 }, {}, undefined, { 0: 1 }, undefined];
    images.renderD[0]!.contents = [{}, {}, {}];
    writeImageDir(dir, images, { pageSize: 8192 });
    expect(readImageDir(dir, { pageSize: 8192 }).kfd[0]!.contents![0]).toEqual({ 0: 9 });
  });
});

describe('image file names (spec §9.1, amdgpu_plugin_util.h)', () => {
  it('spec §9.1: printf patterns — %d ids and minors, %04x gpu ids and BO indices (lower case, at least four digits)', () => {
    expect(kfdImageName(7)).toBe('amdgpu-kfd-7.img');
    // IMG_KFD_PAGES_FILE `amdgpu-pages-%d-%04x.img` (file id, user gpu_id)
    expect(kfdPagesImageName(3, 0xa5)).toBe('amdgpu-pages-3-00a5.img');
    expect(kfdPagesImageName(3, 0x1a2b)).toBe('amdgpu-pages-3-1a2b.img');
    expect(kfdPagesImageName(3, 0xabcde)).toBe('amdgpu-pages-3-abcde.img');
    expect(renderDImageName(12)).toBe('amdgpu-renderD-12.img');
    // IMG_DRM_PAGES_FILE `amdgpu-drm-pages-%d-%d-%04x.img` (file id, render minor, BO index)
    expect(drmPagesImageName(12, 128, 0)).toBe('amdgpu-drm-pages-12-128-0000.img');
    expect(drmPagesImageName(12, 129, 0x1f)).toBe('amdgpu-drm-pages-12-129-001f.img');
    expect(dmabufImageName(9)).toBe('amdgpu-dmabuf_9.img');
  });
});
