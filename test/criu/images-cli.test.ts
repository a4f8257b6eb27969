/**
 * `gpucr images <dir> [--json]` (docs/criu-images.md): prints every image readably or as JSON;
 * a bad image exits 2 with "<file>: <field>: expected …" on stderr and no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeImageDir } from '../../src/criu/images/index.js';
import { GPU_A, GPU_B, sampleDir, sampleRenderD } from './images-fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const STACK = /^\s+at /m;

function gpucr(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function imageDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-cli-images-'));
  writeImageDir(dir, sampleDir());
  return dir;
}

beforeAll(() => {
  try {
    // npm test builds first; build here only when run on its own (never race the CLI tests).
    if (!existsSync(join(ROOT, 'dist/src/cli/main.js')))
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    // tsc emits even when another part of the tree does not type-check yet.
    if (!existsSync(MAIN)) throw e;
  }
}, 180_000);

describe('gpucr images', () => {
  it('prints every image with hex u64s and flag names, exit 0', () => {
    const r = gpucr('images', imageDir());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    for (const file of [
      'amdgpu-kfd-3.img: criu_kfd',
      `amdgpu-pages-3-${GPU_A.toString(16)}.img`,
      `amdgpu-pages-3-${GPU_B.toString(16)}.img`,
      'amdgpu-renderD-7.img: criu_render_node',
      'amdgpu-drm-pages-7-128-0001.img',
      'amdgpu-dmabuf_9.img: criu_dmabuf_node',
    ]) {
      expect(out).toContain(file);
    }
    // bo_entries[0]: VRAM|WRITABLE|EXECUTABLE (spec §2.3 names), u64 addr in hex.
    expect(out).toMatch(
      /bo_entries\[0\]: addr=0x7f0000000000 size=0x3000 offset=0x100000000 alloc_flags=VRAM\|EXECUTABLE\|WRITABLE gpu_id=0xa3ee handle=5/,
    );
    expect(out).toMatch(/bo_entries\[1\]: .*handle=none\(-1\)/);
    expect(out).toMatch(/iolinks: PCIe→node 0, XGMI→node 2/);
    expect(out).toMatch(/preferred_domains=VRAM/);
    expect(out).toMatch(/objects\[0\]: queue q_id=0 gpu_id=0xa3ee/);
    expect(out).toMatch(/bo_entries\[0\] \(0x3000 bytes\): 2 non-zero pages: 0→0xdeadbeef 2→0x7/);
  });

  it('--json prints the messages with the schema field names, sorted keys', () => {
    const r = gpucr('images', imageDir(), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { files: { file: string; content?: Record<string, unknown> }[] };
    const kfd = j.files.find((f) => f.file === 'amdgpu-kfd-3.img')!;
    expect(kfd.content!.num_of_gpus).toBe(2);
    expect((kfd.content!.bo_entries as { handle: number }[])[1]!.handle).toBe(0xffff_ffff);
    expect(j.files.map((f) => f.file)).toContain('amdgpu-dmabuf_9.img');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('spec §9.8: an import no image publishes is reported as what a restore cannot find, exit 0', () => {
    const clean = gpucr('images', imageDir());
    expect(clean.stdout).not.toMatch(/restore cannot find/);
    expect(
      (JSON.parse(gpucr('images', imageDir(), '--json').stdout) as { unpublished: unknown[] }).unpublished,
    ).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-cli-images-'));
    const images = sampleDir();
    images.kfd[0]!.kfd.bo_entries[0]!.handle = 6; // the render node's import of handle 5 loses its exporter
    writeImageDir(dir, images);
    const r = gpucr('images', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /restore cannot find these GEM handles.*\n {2}amdgpu-renderD-7\.img: bo_entries\[1\]\.handle = 5\n/,
    );
    const j = JSON.parse(gpucr('images', dir, '--json').stdout) as { unpublished: unknown[] };
    expect(j.unpublished).toEqual([{ file: 'amdgpu-renderD-7.img', field: 'bo_entries[1].handle', handle: 5 }]);
  });

  it('spec §9.8: a handle several images publish is reported with its publishers, exit 0', () => {
    expect((JSON.parse(gpucr('images', imageDir(), '--json').stdout) as { ambiguous: unknown[] }).ambiguous).toEqual(
      [],
    );
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-cli-images-'));
    const images = sampleDir();
    images.kfd[0]!.kfd.bo_entries[1]!.handle = 1; // published by the KFD image and the render node's BO 1
    writeImageDir(dir, images);
    const r = gpucr('images', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /restore may give these GEM handles another BO.*\n {2}amdgpu-dmabuf_9\.img: gem_handle = 1, published by amdgpu-kfd-3\.img, amdgpu-renderD-7\.img\n/,
    );
    const j = JSON.parse(gpucr('images', dir, '--json').stdout) as { ambiguous: unknown[] };
    expect(j.ambiguous).toEqual([
      {
        file: 'amdgpu-dmabuf_9.img',
        field: 'gem_handle',
        handle: 1,
        publishers: ['amdgpu-kfd-3.img', 'amdgpu-renderD-7.img'],
      },
    ]);
  });

  it('the issue 3 finding: a VM entry that KFD RESTORE will have mapped is reported as a mapping the restore cannot make, exit 0', () => {
    // the fixture's render node of GPU A holds the import of KFD BO 0, mapped on GPU A at the same range
    const r = gpucr('images', imageDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /restore cannot make these GEM_VA mappings.*\n {2}amdgpu-renderD-7\.img: bo_entries\[1\]\.vm_entries\[0\] = 0x7f0000000000\+0x3000, mapped by amdgpu-kfd-3\.img: bo_entries\[0\]\n$/,
    );
    const j = JSON.parse(gpucr('images', imageDir(), '--json').stdout) as {
      va_conflicts: unknown[];
      kfd_map_conflicts: unknown[];
    };
    // its KFD BOs map apart: nothing KFD RESTORE cannot map
    expect(j.kfd_map_conflicts).toEqual([]);
    expect(j.va_conflicts).toEqual([
      {
        file: 'amdgpu-renderD-7.img',
        field: 'bo_entries[1].vm_entries[0]',
        addr: 0x7f0000000000,
        size: 0x3000,
        kfd: 'amdgpu-kfd-3.img: bo_entries[0]',
      },
    ]);
  });

  it('spec §9.8: two render-node images of one GPU in one task are reported as merged, with the handles they share', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-cli-images-'));
    const images = sampleDir();
    const second = { id: 8, renderD: { ...sampleRenderD(), id: 8, num_of_bos: 1n } };
    second.renderD.bo_entries = second.renderD.bo_entries.slice(0, 1);
    images.renderD.push(second);
    writeImageDir(dir, images);
    const r = gpucr('images', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /\nrestore puts these render-node images into one file.*\n {2}amdgpu-renderD-7\.img, amdgpu-renderD-8\.img: handles 1 held by more than one, all but one BO lost\n$/,
    );
    const j = JSON.parse(gpucr('images', dir, '--json').stdout) as { merged_render_files: unknown[] };
    expect(j.merged_render_files).toEqual([
      { pid: 0, drm_render_minor: 128, files: ['amdgpu-renderD-7.img', 'amdgpu-renderD-8.img'], shared_handles: [1] },
    ]);
  });

  it('a bad image: exit 2, the file and field on stderr, no stack trace', () => {
    const dir = imageDir();
    writeFileSync(join(dir, 'amdgpu-kfd-3.img'), new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    const r = gpucr('images', dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "amdgpu-kfd-3.img: size prefix: expected 0 (the file's length 8 minus the 8 prefix bytes), found 1\n",
    );
    expect(r.stderr).not.toMatch(STACK);
  });

  it('a missing directory or a bad option: exit 2', () => {
    const r = gpucr('images', join(tmpdir(), 'no-such-gpucr-dir'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a readable image directory/);
    expect(r.stderr).not.toMatch(STACK);
    const o = gpucr('images', imageDir(), '--max-gpu-instance', '32');
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/--max-gpu-instance: expected 16 or 64/);
  });
});
