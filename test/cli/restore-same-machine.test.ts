/**
 * `gpucr restore -D dir` on the machine that was dumped (src/cli/criu.ts `restoreWorld`): the
 * plugin's device entries carry no GC version and no XCC count, so the restore world takes the
 * dumping world's GPUs from gpucr-core.json's `topology`; without it, the images' device entries;
 * `--topology` over both; and the dumping world's variants (its kernel), `--variant` over them.
 * What it decides here: KFD RESTORE of a queue checkpointed on 8 XCCs (spec §5.2.1, §5.4 step 5,
 * variant kfd-restore-mqd-size).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePrivData } from '../../src/criu/kfd-priv.js';
import { readImageDir } from '../../src/criu/images/index.js';
import { CORE_IMAGE, readCoreImage } from '../../src/criu/tasks-image.js';
import { readLog } from '../../src/log/reader.js';
import { ERRNO, KFD_CRIU_OP } from '../../src/uapi/index.js';
import type { Variants } from '../../src/world/types.js';
import { createQueueArgs } from '../conformance/helpers.js';
import { ensureBuilt, gpucr as spawnGpucr, STACK, tempDir } from './helpers.js';
import { runCli } from './in-process.js';

const gpucr = (...args: string[]) => runCli(args);
const dir = tempDir('gpucr-same-machine-');
const GPU = 0x1001;
const EINVAL = -ERRNO.EINVAL;

/**
 * A log of pid 100 on one GPU of the header's `gpu` fields (`variants` in the header when given):
 * open /dev/kfd and the render node, ACQUIRE_VM, and with `queue` a COMPUTE queue.
 */
function log(name: string, gpu: object, queue: boolean, variants?: Partial<Variants>): string {
  const file = join(dir, name);
  const header = {
    gpucr: 1,
    topology: { gpus: [{ gpu_id: GPU, render_minor: 128, ...gpu }] },
    ...(variants ? { variants } : {}),
    processes: [{ pid: 100, ptrace_parent: 99 }],
  };
  const queueArgs = createQueueArgs(GPU);
  const lines = [
    header,
    { pid: 100, call: 'open', args: { path: '/dev/kfd' }, ret: 0, out: { fd: 3 } },
    { pid: 100, call: 'open', args: { path: '/dev/dri/renderD128' }, ret: 0, out: { fd: 4 } },
    { pid: 100, call: 'AMDKFD_IOC_ACQUIRE_VM', fd: 3, args: { drm_fd: 4, gpu_id: GPU }, ret: 0 },
    ...(queue ? [{ pid: 100, call: 'AMDKFD_IOC_CREATE_QUEUE', fd: 3, args: queueArgs, ret: 0 }] : []),
  ];
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return file;
}

/** `gpucr checkpoint` of pid 100 of `logFile` into a new image directory. */
async function checkpoint(logFile: string, name: string): Promise<string> {
  const imgs = join(dir, name);
  const r = await gpucr('checkpoint', logFile, '--pid', '100', '-D', imgs);
  expect(r.stdout).toMatch(/criu\.dump 100: done/);
  expect(r.code).toBe(0);
  return imgs;
}

/** The written restore log: its header's GPUs and variants, and its CRIU_OP(RESTORE) line. */
function restoreLog(file: string) {
  const { header, events } = readLog(readFileSync(file, 'utf8'), file);
  const restore = events.find((e) => e.call === 'AMDKFD_IOC_CRIU_OP' && e.args?.op === KFD_CRIU_OP.RESTORE);
  return { gpus: header.topology.gpus, variants: header.variants, restore };
}

/** [mqd_size, ctl_stack_size] of each queue record in the directory's KFD image (one GPU). */
function queueSizes(imgs: string): [number, number][] {
  const { kfd } = readImageDir(imgs).kfd[0]!;
  const counts = { num_devices: 1, num_bos: Number(kfd.num_of_bos), num_objects: kfd.num_of_objects };
  const objects = decodePrivData(kfd.priv_data, counts).objects as { mqd_size: number; ctl_stack_size: number }[];
  return objects.map((o) => [o.mqd_size, o.ctl_stack_size]);
}

/** gpucr-core.json of `imgs` rewritten by `edit`. */
function editCore(imgs: string, edit: (core: Record<string, unknown>) => void): void {
  const file = join(imgs, CORE_IMAGE);
  const core = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(core);
  writeFileSync(file, JSON.stringify(core));
}

/** The MI300X of the header: GC 9.4.3, 8 XCCs (SPX mode). */
const MI300X = { gc_version: '9.4.3', num_xcc: 8 };

describe('gpucr restore -D on the dumping machine: the GPUs of gpucr-core.json (spec §5.4 step 5)', () => {
  it('spec §5.2.1, §5.4 step 5 (kfd-restore-mqd-size=one-xcc, the kernel): the restore world is the dumped MI300X, and KFD RESTORE refuses the 8-XCC queue whose mqd_size is not one XCC’s (-EINVAL)', async () => {
    const imgs = await checkpoint(log('mi300x.jsonl', MI300X, true), 'mi300x');
    const one = await checkpoint(log('one-xcc.jsonl', { gc_version: '9.4.3', num_xcc: 1 }, true), 'one-xcc');
    // CHECKPOINT saved one MQD per XCC: 8 × the size one XCC's restore accepts
    const [[mqd8]] = queueSizes(imgs) as [[number, number]];
    const [[mqd1]] = queueSizes(one) as [[number, number]];
    expect(mqd8).toBe(8 * mqd1);
    const out = join(dir, 'mi300x-restore.jsonl');
    const r = await gpucr('restore', '-D', imgs, '--log', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Restore ioctl failed (${EINVAL})`);
    const { gpus, restore } = restoreLog(out);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ gpu_id: GPU, gc_version: '9.4.3', num_xcc: 8 });
    // the GPU map held (same machine); KFD RESTORE itself is what refused
    expect(restore?.args?.devices).toEqual([expect.objectContaining({ user_gpu_id: GPU, actual_gpu_id: GPU })]);
    expect(restore?.ret).toBe(EINVAL);
    // on one XCC the same queue's mqd_size is one XCC's, and the restore goes through
    expect((await gpucr('restore', '-D', one)).code).toBe(0);
  });

  it('spec §5.4 step 5, kfd-restore-mqd-size=num-xcc: the dumping machine’s kernel (gpucr-core.json’s variants) restores the 8-XCC queue onto its GPU; --variant with the kernel’s one-xcc, or the images’ one-XCC device entries, refuse it (-EINVAL)', async () => {
    const fixed = { 'kfd-restore-mqd-size': 'num-xcc' } as const;
    const imgs = await checkpoint(log('mi300x-fixed.jsonl', MI300X, true, fixed), 'mi300x-fixed');
    expect(readCoreImage(imgs)?.variants?.['kfd-restore-mqd-size']).toBe('num-xcc');
    const out = join(dir, 'mi300x-fixed-restore.jsonl');
    const r = await gpucr('restore', '-D', imgs, '--log', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const same = restoreLog(out);
    expect(same.variants['kfd-restore-mqd-size']).toBe('num-xcc');
    expect(same.gpus[0]).toMatchObject({ gc_version: '9.4.3', num_xcc: 8 });
    expect(same.restore?.ret).toBe(0);
    // a restoring kernel without the fix: --variant over the file's
    const kernel = await gpucr('restore', '-D', imgs, '--variant', 'kfd-restore-mqd-size=one-xcc');
    expect(kernel.code).toBe(1);
    expect(kernel.stdout).toContain(`Restore ioctl failed (${EINVAL})`);
    // the fix itself bounds the MQD: onto the images' device entries (one XCC) 8 XCCs' MQDs are refused
    editCore(imgs, (core) => delete core.topology);
    const entries = await gpucr('restore', '-D', imgs);
    expect(entries.code).toBe(1);
    expect(entries.stdout).toContain(`Restore ioctl failed (${EINVAL})`);
  });

  it('gpucr restore --variant (and gpucr check --variant): a name or value gpucr does not know is bad input (exit 2, no stack trace)', async () => {
    const imgs = await checkpoint(log('variant-bad.jsonl', {}, false), 'variant-bad');
    // __proto__ and constructor are Object.prototype's, not variants: no lookup may find them
    for (const bad of ['kfd-restore-mqd-size=two-xcc', 'frob=1', '__proto__=x', 'constructor=1']) {
      for (const r of [
        await gpucr('restore', '-D', imgs, '--variant', bad),
        await gpucr('check', '--family', 'ttm', '--variant', bad),
      ]) {
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/--variant[^:]*: expected /);
        expect(r.stderr).not.toMatch(STACK);
      }
    }
  });
});

/** An MI300X with its own KFD properties, and no queue: the restores below all succeed. */
const PROPS = { ...MI300X, properties: { device_id: 0x74a1, fw_version: 151 } };

describe('gpucr restore -D: where the restore world’s GPUs come from', () => {
  it('gpucr-core.json’s topology: the dumped GPU whole, gc_version, num_xcc and properties', async () => {
    const imgs = await checkpoint(log('props.jsonl', PROPS, false), 'props');
    const out = join(dir, 'props-core.jsonl');
    const r = await gpucr('restore', '-D', imgs, '--log', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { gpus, restore } = restoreLog(out);
    expect(gpus).toEqual([expect.objectContaining({ gpu_id: GPU, render_minor: 128, ...PROPS })]);
    expect(restore?.ret).toBe(0);
  });

  it('a gpucr-core.json without topology (written before it had one): the images’ device entries, which have the properties but no GC version or XCC count', async () => {
    const imgs = await checkpoint(log('props-old.jsonl', PROPS, false), 'props-old');
    editCore(imgs, (core) => delete core.topology);
    const out = join(dir, 'props-entries.jsonl');
    const r = await gpucr('restore', '-D', imgs, '--log', out);
    expect(r.code).toBe(0);
    const { gpus } = restoreLog(out);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ gpu_id: GPU, properties: PROPS.properties });
    expect(Object.hasOwn(gpus[0]!, 'gc_version')).toBe(false);
    expect(Object.hasOwn(gpus[0]!, 'num_xcc')).toBe(false);
  });

  it('--topology wins over gpucr-core.json’s topology', async () => {
    const again = await checkpoint(log('props-again.jsonl', PROPS, false), 'props-again');
    const file = join(dir, 'other-xcc.json');
    const gpu = { gpu_id: GPU, render_minor: 128, gc_version: '9.4.4', num_xcc: 4, properties: PROPS.properties };
    writeFileSync(file, JSON.stringify({ gpus: [gpu] }));
    const out = join(dir, 'props-topology.jsonl');
    const r = await gpucr('restore', '-D', again, '--topology', file, '--log', out);
    expect(r.code).toBe(0);
    expect(restoreLog(out).gpus).toEqual([expect.objectContaining(gpu)]);
  });

  it('a malformed topology in gpucr-core.json (gc_version "9.x"): exit 2 naming the file and the field, no stack trace', async () => {
    const bad = await checkpoint(log('props-bad.jsonl', PROPS, false), 'props-bad');
    editCore(bad, (core) => {
      (core.topology as { gpus: Record<string, unknown>[] }).gpus[0]!.gc_version = '9.x';
    });
    ensureBuilt();
    const r = spawnGpucr(['restore', '-D', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `${CORE_IMAGE}: topology.gpus[0].gc_version: expected a GC IP version "major.minor.revision"`,
    );
    expect(r.stderr).toContain('found "9.x"');
    expect(r.stderr).not.toMatch(STACK);
  }, 180_000);
});
