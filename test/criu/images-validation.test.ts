/**
 * Every way an image is rejected: the error is an ImageError (an InputError) whose message
 * starts with "<file>: <field>: expected …", field being the schema path of spec §9.2.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { encodePayload, withSizePrefix } from '../../src/criu/images/codec.js';
import {
  CRIU_AMDGPU_PROTO,
  type CriuKfd,
  type CriuRenderNode,
  decodeDmabufImage,
  decodeKfdImage,
  decodeRenderDImage,
  encodeKfdImage,
  encodePages,
  ImageError,
  ambiguousHandles,
  mergedRenderFiles,
  readImageDir,
  unpublishedHandles,
  vaConflicts,
  writeImageDir,
} from '../../src/criu/images/index.js';
import { encodePrivData } from '../../src/criu/kfd-priv.js';
import { InputError } from '../../src/errors.js';
import { GPU_A, GPU_B, PAGE, sampleDir, sampleKfd, samplePriv, sampleRenderD } from './images-fixtures.js';

const KFD = 'amdgpu-kfd-3.img';
const RD = 'amdgpu-renderD-7.img';
const DB = 'amdgpu-dmabuf_9.img';

function errorOf(fn: () => unknown): ImageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    expect(e).toBeInstanceOf(InputError);
    return e as ImageError;
  }
  throw new Error('expected a rejection, got none');
}

/** Asserts the rejection names `file` and `field` (and, when given, matches `also`). */
function rejects(fn: () => unknown, file: string, field: string, also?: RegExp): void {
  const e = errorOf(fn);
  expect({ file: e.file, field: e.field }).toEqual({ file, field });
  expect(e.message.startsWith(`${file}: ${field}: expected `)).toBe(true);
  if (also) expect(e.message).toMatch(also);
}

/** An image of `msg` without the semantic checks (type-checked protobuf only). */
function rawKfd(mut: (m: CriuKfd) => void): Uint8Array {
  const m = sampleKfd();
  mut(m);
  return withSizePrefix(encodePayload('criu_kfd', m, KFD));
}

function rawRenderD(mut: (m: CriuRenderNode) => void): Uint8Array {
  const m = sampleRenderD();
  mut(m);
  return withSizePrefix(encodePayload('criu_render_node', m, RD));
}

const relaxed = protobuf.parse(CRIU_AMDGPU_PROTO.replace(/\brequired\b/g, 'optional'), { keepCase: true }).root;

/** Wire bytes of a plain object through the schema with every field optional (to drop fields). */
function looseKfd(mut: (m: Record<string, unknown>) => void): Uint8Array {
  const t = relaxed.lookupType('criu_kfd');
  const obj = t.toObject(t.decode(encodePayload('criu_kfd', sampleKfd(), KFD))) as Record<string, unknown>;
  mut(obj);
  return withSizePrefix(t.encode(t.fromObject(obj)).finish());
}

function withExtra(image: Uint8Array, extra: number[]): Uint8Array {
  return withSizePrefix(new Uint8Array([...image.subarray(8), ...extra]));
}

describe('size prefix (spec §9.1)', () => {
  it('a file shorter than the 8-byte size_t', () => {
    rejects(() => decodeKfdImage(new Uint8Array(5), KFD), KFD, 'size prefix', /found a file of 5 bytes/);
  });

  it('a prefix that is not the payload size', () => {
    const b = encodeKfdImage(sampleKfd());
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
    rejects(
      () => decodeKfdImage(b, KFD),
      KFD,
      'size prefix',
      new RegExp(`expected ${b.length - 8} .*found ${b.length}$`),
    );
  });

  it('trailing bytes after the payload the prefix announces', () => {
    const b = encodeKfdImage(sampleKfd());
    rejects(() => decodeKfdImage(new Uint8Array([...b, 0]), KFD), KFD, 'size prefix');
  });
});

describe('protobuf payload (spec §9.2)', () => {
  it('undecodable wire data', () => {
    const b = encodeKfdImage(sampleKfd());
    rejects(() => decodeKfdImage(withSizePrefix(b.subarray(8, b.length - 3)), KFD), KFD, 'payload', /undecodable/);
  });

  it('a missing required field, at the top level', () => {
    rejects(
      () =>
        decodeKfdImage(
          looseKfd((m) => delete m.pid),
          KFD,
        ),
      KFD,
      'pid',
      /found nothing$/,
    );
  });

  it('a missing required field, nested (named by its full path)', () => {
    const b = looseKfd((m) => {
      delete (m.device_entries as Record<string, unknown>[])[1]!.simd_count;
    });
    rejects(() => decodeKfdImage(b, KFD), KFD, 'device_entries[1].simd_count');
  });

  it('a missing bytes field (priv_data)', () => {
    rejects(
      () =>
        decodeKfdImage(
          looseKfd((m) => delete m.priv_data),
          KFD,
        ),
      KFD,
      'priv_data',
    );
  });

  it('an unknown field number', () => {
    // field 99, varint 1: tag (99 << 3 | 0) = 792 = 0x98 0x06
    rejects(
      () => decodeKfdImage(withExtra(encodeKfdImage(sampleKfd()), [0x98, 0x06, 0x01]), KFD),
      KFD,
      'payload',
      /field number 99/,
    );
  });

  it('a known field with another wire type', () => {
    // field 1 (pid) as a length-delimited value
    rejects(
      () => decodeKfdImage(withExtra(encodeKfdImage(sampleKfd()), [0x0a, 0x01, 0x00]), KFD),
      KFD,
      'payload',
      /field 1 \(pid\) with wire type 2/,
    );
  });

  it('an unknown field inside a nested message names the element', () => {
    const b = encodeKfdImage(sampleKfd());
    // Append a second bo_entries element (field 6) holding only an unknown field 9.
    rejects(() => decodeKfdImage(withExtra(b, [0x32, 0x02, 0x48, 0x01]), KFD), KFD, 'bo_entries[5]', /field number 9/);
  });
});

describe('criu_kfd checks', () => {
  const cases: [string, string, (m: CriuKfd) => void, RegExp?][] = [
    [
      'one device entry per topology node (spec §9.4 g)',
      'num_of_gpus + num_of_cpus',
      (m) => (m.num_of_cpus = 2),
      /expected 3 /,
    ],
    ['duplicate node_id', 'device_entries[2].node_id', (m) => (m.device_entries[2]!.node_id = 1)],
    ['duplicate gpu_id', 'device_entries[2].gpu_id', (m) => (m.device_entries[2]!.gpu_id = GPU_A)],
    ['vram_public is a bool', 'device_entries[1].vram_public', (m) => (m.device_entries[1]!.vram_public = 2)],
    [
      'num_of_gpus counts the GPU entries',
      'num_of_gpus',
      (m) => {
        m.num_of_gpus = 1;
        m.num_of_cpus = 2;
      },
    ],
    ['iolink type', 'device_entries[0].iolinks[1].type', (m) => (m.device_entries[0]!.iolinks[1]!.type = 5)],
    [
      'iolink to a node the image does not have',
      'device_entries[2].iolinks[0].node_to_id',
      (m) => (m.device_entries[2]!.iolinks[0]!.node_to_id = 9),
    ],
    ['num_of_bos', 'num_of_bos', (m) => (m.num_of_bos = 4n)],
    ['size 0 (spec §7.2)', 'bo_entries[1].size', (m) => (m.bo_entries[1]!.size = 0n)],
    ['addr + size beyond 2^64', 'bo_entries[0].addr + size', (m) => (m.bo_entries[0]!.addr = (1n << 64n) - 1n)],
    ['BO on an unknown GPU', 'bo_entries[3].gpu_id', (m) => (m.bo_entries[3]!.gpu_id = 0x1111)],
    [
      'unknown alloc flag bits (spec §2.3)',
      'bo_entries[0].alloc_flags',
      (m) => (m.bo_entries[0]!.alloc_flags = (m.bo_entries[0]!.alloc_flags | (1 << 22)) >>> 0),
      /unknown bits 0x400000$/,
    ],
    [
      'no memory type (spec §2.3)',
      'bo_entries[0].alloc_flags',
      (m) => (m.bo_entries[0]!.alloc_flags = (1 << 31) >>> 0),
      /a memory type/,
    ],
    ['handle neither -1 nor ≤ INT_MAX', 'bo_entries[1].handle', (m) => (m.bo_entries[1]!.handle = 0x8000_0000)],
    [
      'priv_data shorter than its records (spec §3)',
      'priv_data.objects[2]',
      (m) => (m.priv_data = m.priv_data.subarray(0, m.priv_data.length - 8)),
      /blob overflow/,
    ],
    [
      'priv_data longer than its records (spec §5.4)',
      'priv_data.priv_data_size',
      (m) => (m.priv_data = new Uint8Array([...m.priv_data, 0, 0, 0, 0])),
    ],
    ['num_of_objects disagreeing with the blob', 'priv_data.objects[3].object_type', (m) => (m.num_of_objects = 4)],
    [
      'an object type the kernel does not know',
      'priv_data.objects[0].object_type',
      (m) => {
        const p = samplePriv();
        const blob = encodePrivData(p);
        const at = 8 + 2 * 8 + 5 * 272;
        new DataView(blob.buffer).setUint32(at, 7, true);
        m.priv_data = blob;
      },
      /Invalid object type/,
    ],
    [
      'priv version (spec §3 KFD_CRIU_PRIV_VERSION 1)',
      'priv_data.process.version',
      (m) => {
        const p = samplePriv();
        p.process.version = 2;
        m.priv_data = encodePrivData(p);
      },
    ],
    [
      'a BO mapped on a GPU the image does not have',
      'priv_data.bos[1].mapped_gpuids[0]',
      (m) => {
        const p = samplePriv();
        p.bos[1]!.mapped_gpuids = [0x4242];
        m.priv_data = encodePrivData(p);
      },
    ],
    [
      'a queue on a GPU the image does not have (q_data.gpu_id is the user id, spec §5.2.1)',
      'priv_data.objects[0].gpu_id',
      (m) => {
        const p = samplePriv();
        (p.objects[0] as { gpu_id: number }).gpu_id = 0x4242;
        m.priv_data = encodePrivData(p);
      },
    ],
  ];
  for (const [title, field, mut, also] of cases) {
    it(`${title} → ${field}`, () => {
      rejects(() => decodeKfdImage(rawKfd(mut), KFD), KFD, field, also);
      // The encoder runs the same checks: gpucr never writes such an image.
      const m = sampleKfd();
      mut(m);
      rejects(() => encodeKfdImage(m, KFD), KFD, field);
    });
  }

  it('encoding type-checks every field', () => {
    const m = sampleKfd() as unknown as Record<string, unknown>;
    rejects(() => encodeKfdImage({ ...m, pid: 1.5 } as never, KFD), KFD, 'pid', /uint32/);
    rejects(() => encodeKfdImage({ ...m, num_of_bos: 5 } as never, KFD), KFD, 'num_of_bos', /uint64/);
    rejects(() => encodeKfdImage({ ...m, shared_mem_size: -1n } as never, KFD), KFD, 'shared_mem_size');
    rejects(() => encodeKfdImage({ ...m, priv_data: [1, 2] } as never, KFD), KFD, 'priv_data', /Uint8Array/);
    rejects(() => encodeKfdImage({ ...m, extra: 1 } as never, KFD), KFD, 'extra', /a field of message criu_kfd/);
    const d = sampleKfd();
    (d.device_entries[0] as unknown as Record<string, unknown>).vram_size = undefined;
    rejects(() => encodeKfdImage(d, KFD), KFD, 'device_entries[0].vram_size');
  });
});

describe('criu_render_node checks', () => {
  const cases: [string, string, (m: CriuRenderNode) => void][] = [
    ['gpu_id 0', 'gpu_id', (m) => (m.gpu_id = 0)],
    ['id other than the file name', 'id', (m) => (m.id = 8)],
    ['num_of_bos', 'num_of_bos', (m) => (m.num_of_bos = 2n)],
    [
      'handle above INT_MAX (spec §8.2 GEM_CHANGE_HANDLE)',
      'bo_entries[0].handle',
      (m) => (m.bo_entries[0]!.handle = 0x8000_0000),
    ],
    ['duplicate handle', 'bo_entries[2].handle', (m) => (m.bo_entries[2]!.handle = 1)],
    ['is_import is a bool', 'bo_entries[1].is_import', (m) => (m.bo_entries[1]!.is_import = 2)],
    ['num_of_vms', 'bo_entries[0].num_of_vms', (m) => (m.bo_entries[0]!.num_of_vms = 1)],
    ['addr is the last VM entry (spec §9.2)', 'bo_entries[0].addr', (m) => (m.bo_entries[0]!.addr = 0x7e00_0000_0000n)],
    ['addr of a BO without VM entries', 'bo_entries[2].addr', (m) => (m.bo_entries[2]!.addr = 0x1000n)],
  ];
  for (const [title, field, mut] of cases) {
    it(`${title} → ${field}`, () => {
      rejects(() => decodeRenderDImage(rawRenderD(mut), RD), RD, field);
    });
  }
});

describe('criu_dmabuf_node checks', () => {
  it('gem_handle above INT_MAX', () => {
    const b = withSizePrefix(encodePayload('criu_dmabuf_node', { gem_handle: 0x8000_0000 }, DB));
    rejects(() => decodeDmabufImage(b, DB), DB, 'gem_handle');
  });
  it('a missing gem_handle', () => {
    rejects(() => decodeDmabufImage(withSizePrefix(new Uint8Array()), DB), DB, 'gem_handle');
  });
});

describe('image directories', () => {
  const pagesA = `amdgpu-pages-3-${GPU_A.toString(16)}.img`;
  const pagesB = `amdgpu-pages-3-${GPU_B.toString(16)}.img`;
  function dirWith(edit: (dir: string) => void): string {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-bad-images-'));
    writeImageDir(dir, sampleDir());
    edit(dir);
    return dir;
  }

  it('a missing KFD pages image (one per GPU, spec §9.4 h)', () => {
    const dir = dirWith((d) => rmSync(join(d, pagesB)));
    rejects(() => readImageDir(dir), pagesB, 'file', /no such file/);
  });

  it('a KFD pages image whose size is not the sum of the VRAM/GTT BO sizes (spec §9.5)', () => {
    const dir = dirWith((d) => {
      const bytes = withSizePrefix(encodePages({}, 4 * PAGE, PAGE));
      writeFileSync(join(d, pagesA), bytes);
    });
    rejects(() => readImageDir(dir), pagesA, 'size prefix', new RegExp(`expected ${5 * PAGE} `));
  });

  it('a pages image whose prefix is not its length', () => {
    const dir = dirWith((d) => truncateSync(join(d, pagesA), 8 + 5 * PAGE - 1));
    rejects(() => readImageDir(dir), pagesA, 'size prefix');
  });

  it('a pages image shorter than its prefix bytes', () => {
    const dir = dirWith((d) => writeFileSync(join(d, pagesA), new Uint8Array(3)));
    rejects(() => readImageDir(dir), pagesA, 'size prefix');
  });

  it('a page that is not one u32 (names the BO and the page)', () => {
    const dir = dirWith((d) => {
      const b = readFileSync(join(d, pagesA));
      b[8 + 3 * PAGE + 17] = 1; // bo_entries[1] starts after the 3 pages of bo_entries[0]
      writeFileSync(join(d, pagesA), b);
    });
    rejects(() => readImageDir(dir), pagesA, 'bo_entries[1]: page 0', /offset 17/);
    expect(readImageDir(dir, { contents: false }).kfd).toHaveLength(1);
  });

  it('a missing render-node pages image (one per BO, spec §9.8)', () => {
    const dir = dirWith((d) => rmSync(join(d, 'amdgpu-drm-pages-7-128-0002.img')));
    rejects(() => readImageDir(dir), 'amdgpu-drm-pages-7-128-0002.img', 'file');
  });

  it('a render-node pages image of the wrong size', () => {
    const dir = dirWith((d) =>
      writeFileSync(join(d, 'amdgpu-drm-pages-7-128-0000.img'), withSizePrefix(new Uint8Array(PAGE))),
    );
    rejects(() => readImageDir(dir), 'amdgpu-drm-pages-7-128-0000.img', 'size prefix');
  });

  it('an amdgpu file no image accounts for', () => {
    for (const stray of [
      'amdgpu-pages-3-ffff.img',
      'amdgpu-kfd-03.img',
      'amdgpu-drm-pages-7-129-0000.img',
      'amdgpu-x',
    ]) {
      const dir = dirWith((d) => writeFileSync(join(d, stray), withSizePrefix(new Uint8Array())));
      rejects(() => readImageDir(dir), stray, 'file name');
    }
  });

  it('an image name that is not a readable file', () => {
    const dir = dirWith((d) => {
      rmSync(join(d, pagesA));
      mkdirSync(join(d, pagesA));
    });
    rejects(() => readImageDir(dir), pagesA, 'file', /EISDIR/);
  });

  it('a bad message image inside a directory names that file', () => {
    const dir = dirWith((d) =>
      writeFileSync(
        join(d, KFD),
        rawKfd((m) => (m.num_of_bos = 1n)),
      ),
    );
    rejects(() => readImageDir(dir), KFD, 'num_of_bos');
  });

  it('two images with one file id', () => {
    const images = sampleDir();
    images.dmabuf[0]!.id = 7;
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-bad-images-'));
    rejects(() => writeImageDir(dir, images), 'amdgpu-dmabuf_7.img', 'file id');
  });

  // The plugin's dump writes such directories (test/criu/unpublished-import.test.ts): valid images
  // that a restore cannot finish, reported by unpublishedHandles and `gpucr images`, not refused.
  it('an imported render-node BO whose handle no image publishes: written, read back, and reported (spec §9.8)', () => {
    const images = sampleDir();
    expect(unpublishedHandles(images)).toEqual([]);
    images.kfd[0]!.kfd.bo_entries[0]!.handle = 6;
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-images-'));
    writeImageDir(dir, images);
    expect(readImageDir(dir)).toEqual(images);
    expect(unpublishedHandles(images)).toEqual([{ file: RD, field: 'bo_entries[1].handle', handle: 5 }]);
  });

  it('spec §9.8: a handle number several images publish, which a dma-buf image looks up: reported with its publishers', () => {
    const images = sampleDir();
    expect(ambiguousHandles(images)).toEqual([]);
    images.kfd[0]!.kfd.bo_entries[1]!.handle = 1; // the render node's BO at handle 1 publishes 1 too
    expect(ambiguousHandles(images)).toEqual([{ file: DB, field: 'gem_handle', handle: 1, publishers: [KFD, RD] }]);
    expect(unpublishedHandles(images)).toEqual([]);
    // a valid directory all the same
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-images-'));
    writeImageDir(dir, images);
    expect(ambiguousHandles(readImageDir(dir))).toHaveLength(1);
  });

  it('the issue 3 finding: a render-node VM entry over a KFD BO mapped on the same GPU is a mapping the restore cannot make', () => {
    const images = sampleDir();
    const conflict = {
      file: RD,
      field: 'bo_entries[1].vm_entries[0]',
      addr: 0x7f00_0000_0000n,
      size: 0x3000n,
      kfd: `${KFD}: bo_entries[0]`,
    };
    expect(vaConflicts(images)).toEqual([conflict]);
    // the KFD BO mapped on GPU B only: the render node of GPU A meets nothing
    const priv = samplePriv();
    priv.bos[0]!.mapped_gpuids = [GPU_B];
    images.kfd[0]!.kfd.priv_data = encodePrivData(priv);
    expect(vaConflicts(images)).toEqual([]);
    // mapped on GPU A again, the VM entry moved past the BO's end: no overlap
    const moved = sampleDir();
    const e = moved.renderD[0]!.renderD.bo_entries[1]!;
    e.vm_entries[0]!.addr = 0x7f00_0000_3000n;
    e.addr = 0x7f00_0000_3000n;
    expect(vaConflicts(moved)).toEqual([]);
  });

  it('spec §9.8 (work_already_completed): render-node images of one GPU are merged per task, and the handles they share reported', () => {
    const images = sampleDir();
    const second = { id: 8, renderD: { ...sampleRenderD(), id: 8 } };
    second.renderD.bo_entries = second.renderD.bo_entries.slice(0, 1); // handle 1, as image 7's first BO
    second.renderD.num_of_bos = 1n;
    images.renderD.push(second);
    const merged = { drm_render_minor: 128, files: [RD, 'amdgpu-renderD-8.img'], shared_handles: [1] };
    // without gpucr-core.json's tasks: one task
    expect(mergedRenderFiles(images)).toEqual([{ pid: 0, ...merged }]);
    // both held by pid 100; or each by its own task, which restores its own file: nothing merged
    expect(mergedRenderFiles(images, [{ pid: 100, fds: [{ id: 7 }, { id: 8 }] }])).toEqual([{ pid: 100, ...merged }]);
    const apart = [
      { pid: 100, fds: [{ id: 7 }] },
      { pid: 101, fds: [{ id: 8 }] },
    ];
    expect(mergedRenderFiles(images, apart)).toEqual([]);
    expect(mergedRenderFiles(sampleDir())).toEqual([]);
  });

  it('a dmabuf whose GEM handle no BO publishes: read, and reported (spec §9.8)', () => {
    const dir = dirWith((d) =>
      writeFileSync(join(d, DB), withSizePrefix(encodePayload('criu_dmabuf_node', { gem_handle: 2 }, DB))),
    );
    // handle 2 is a render-node BO that is not an import, so it is published.
    expect(unpublishedHandles(readImageDir(dir))).toEqual([]);
    writeFileSync(join(dir, DB), withSizePrefix(encodePayload('criu_dmabuf_node', { gem_handle: 5 }, DB)));
    // handle 5 is published by the KFD BO (kfd_bo_entry.handle).
    expect(unpublishedHandles(readImageDir(dir))).toEqual([]);
    writeFileSync(join(dir, DB), withSizePrefix(encodePayload('criu_dmabuf_node', { gem_handle: 3 }, DB)));
    expect(unpublishedHandles(readImageDir(dir))).toEqual([{ file: DB, field: 'gem_handle', handle: 3 }]);
  });

  it('content for a BO whose contents are not in pages images', () => {
    const images = sampleDir();
    images.kfd[0]!.contents![2] = { 0: 1 }; // the USERPTR BO
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-bad-images-'));
    rejects(() => writeImageDir(dir, images), KFD, 'contents[2]', /only VRAM\/GTT/);
  });

  it('content outside the BO', () => {
    const images = sampleDir();
    images.kfd[0]!.contents![1] = { 2: 1 }; // the GTT BO has 2 pages
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-bad-images-'));
    rejects(() => writeImageDir(dir, images), pagesA, 'contents[1][2]', /page index 0 … 1/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
