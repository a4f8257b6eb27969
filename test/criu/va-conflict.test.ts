/**
 * A KFD mapping of a render-node BO in its own render node's VM (docs/checkpoint-restore.md, the
 * issue 3 finding): the dump saves it twice, as a KFD BO mapped on the GPU and as a VM entry of
 * the render-node BO, and the restore's GEM_VA MAP of that entry meets the mapping KFD RESTORE
 * has already made (-EINVAL). `vaConflicts` (src/criu/images/restore-notes.ts) finds it in the
 * images alone, before a restore is tried.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageDir, renderDImageName, vaConflicts } from '../../src/criu/images/index.js';
import '../../src/ioctls/all.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { runCli } from '../cli/in-process.js';

const APP = 100;
const GPU = 0xa3e1;
const VA = 0x7f00_0000_0000n;

/** The application: a GTT BO made on the render node, imported into KFD at VA, and mapped there when `map`. */
function application(map: boolean): object[] {
  return [
    {
      gpucr: 1,
      topology: { gpus: [{ gpu_id: GPU, render_minor: 128 }] },
      processes: [{ pid: APP, ptrace_parent: 99 }],
    },
    { pid: APP, call: 'open', args: { path: '/dev/kfd' } }, // 2: fd 3
    { pid: APP, call: 'open', args: { path: '/dev/dri/renderD128' } }, // 3: fd 4
    { pid: APP, call: 'AMDKFD_IOC_ACQUIRE_VM', fd: 3, args: { drm_fd: 4, gpu_id: GPU } },
    { pid: APP, call: 'DRM_IOCTL_AMDGPU_GEM_CREATE', fd: 4, args: { bo_size: 4096, domains: ['GTT'] } },
    { pid: APP, call: 'DRM_IOCTL_PRIME_HANDLE_TO_FD', fd: 4, args: { handle: 1, flags: 0 } }, // 6
    {
      pid: APP,
      call: 'AMDKFD_IOC_IMPORT_DMABUF',
      fd: 3,
      args: { gpu_id: GPU, dmabuf_fd: '$6.fd', va_addr: `0x${VA.toString(16)}` },
    }, // 7
    ...(map
      ? [{ pid: APP, call: 'AMDKFD_IOC_MAP_MEMORY_TO_GPU', fd: 3, args: { handle: '$7.handle', device_ids: [GPU] } }]
      : []),
    { pid: APP, call: 'close', args: { fd: '$6.fd' } },
  ];
}

/** The application dumped to a directory, and restored from it. */
function dumpAndRestore(map: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-va-'));
  const lines: object[] = [
    ...application(map),
    { call: 'criu.dump', args: { pid: APP, dir } },
    { pid: APP, call: 'exit', args: {} },
    { call: 'criu.restore', args: { dir } },
  ];
  const { header, events } = readLog(lines.map((l) => JSON.stringify(l)).join('\n'), 'va');
  const rep = replay(header, events, { assertions: false });
  const restore = rep.world.objects[Object.keys(rep.world.objects).find((id) => id.startsWith('criu.restore#'))!]!;
  return {
    images: readImageDir(dir),
    restore: restore.value,
    failure: (restore.context as { failure: string | null }).failure,
  };
}

describe('a render-node BO that KFD imports and maps in the same VM (the issue 3 finding)', () => {
  it('vaConflicts names the VM entry the restore cannot map, and the restore fails there', () => {
    const { images, restore } = dumpAndRestore(true);
    const rd = images.renderD[0]!;
    expect(vaConflicts(images)).toEqual([
      {
        file: renderDImageName(rd.id),
        field: 'bo_entries[0].vm_entries[0]',
        addr: VA,
        size: 4096n,
        kfd: `amdgpu-kfd-${images.kfd[0]!.id}.img: bo_entries[0]`,
      },
    ]);
    expect(restore).toBe('failed');
  });

  it('gpucr restore of such a directory fails (exit 1) and says which mapping from the images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-va-cli-'));
    const log = join(dir, 'app.jsonl');
    writeFileSync(
      log,
      `${application(true)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    const imgs = join(dir, 'imgs');
    expect((await runCli(['checkpoint', log, '--pid', String(APP), '-D', imgs])).code).toBe(0);
    const r = await runCli(['restore', '-D', imgs]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^criu\.restore 100: failed: GEM_VA MAP returned -22 /);
    expect(r.stdout).toMatch(
      /\nrestore cannot make these GEM_VA mappings: .*\n {2}amdgpu-renderD-\d+\.img: bo_entries\[0\]\.vm_entries\[0\] = 0x7f0000000000\+0x1000, mapped by amdgpu-kfd-\d+\.img: bo_entries\[0\]\n$/,
    );
    // without the KFD mapping: restored, and nothing to say
    const clean = join(dir, 'clean.jsonl');
    writeFileSync(
      clean,
      `${application(false)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    const imgs2 = join(dir, 'imgs2');
    expect((await runCli(['checkpoint', clean, '--pid', String(APP), '-D', imgs2])).code).toBe(0);
    const ok = await runCli(['restore', '-D', imgs2]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toMatch(/restore cannot/);
  });

  it('without the KFD mapping there is no VM entry to conflict, and the restore succeeds', () => {
    const { images, restore } = dumpAndRestore(false);
    expect(vaConflicts(images)).toEqual([]);
    expect(restore).toBe('done');
  });
});
