/**
 * Invariant `criu.restore-accepts-checkpoint` (docs/invariants.md): the kernel's RESTORE does
 * not refuse, as invalid, a checkpoint its own CHECKPOINT wrote. It is scoped to restores of a
 * dump of the same world: images read from a directory may have been edited or come from
 * another machine, where -EINVAL is the right answer.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CriuRestoreContext } from '../../machines/criu/restore.js';
import { FIXED_BASELINE, familyModel } from '../../src/explore/families.js';
import { call } from '../../src/explore/families/common.js';
import { criuFamily, criuTopology } from '../../src/explore/families/criu.js';
import { checkInvariants, selectInvariants } from '../../src/invariants/index.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { QUEUE_RING } from '../../src/mbt/sample-queue.js';
import { applyInPlace } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { World } from '../../src/world/types.js';
import type { Variants } from '../../src/world/variants.js';
import { createWorld } from '../../src/world/world.js';

const NAME = 'criu.restore-accepts-checkpoint';
const invariant = selectInvariants([NAME]);
const EINVAL = -22;
const EIO = -5;

/** The criu family's world (pid 100 with a queue, CRIU pid 99) on a GPU of `xccs` XCCs. */
function app(xccs: number, variants: Partial<Variants>): World {
  return familyModel('criu', { ...FIXED_BASELINE, ...variants }, [NAME], { xccs }).initial;
}

/** The criu family's world on its GPU with the header fields `gpu` over it (a GC version, say). */
function appOn(gpu: object): World {
  const t = criuTopology();
  const w = createWorld(parseTopology({ gpus: [{ ...t.gpus[0], ...gpu }] }, t.processes), FIXED_BASELINE);
  criuFamily(w);
  return w;
}

/** criu.dump of pid 100 (into `dir` when given), then criu.restore of it into pid 200. */
function dumpAndRestore(w: World, dir?: string) {
  const dump = applyInPlace(w, call('criu.dump', { pid: 100, ...(dir ? { dir } : {}) }));
  expect(dump.ret).toBe(0);
  const from = dir ? { dir } : { dump: dump.out.object };
  const restore = applyInPlace(w, call('criu.restore', { ...from, pid: 200, criu: 99 }));
  const ctx = w.objects[restore.out.object as string]!.context as CriuRestoreContext;
  return { restore, ctx };
}

describe(`invariant ${NAME}`, () => {
  it('spec §5.4 step 5: on 8 XCCs the kernel (one-xcc) refuses the queue CHECKPOINT saved, and the invariant names the restore', () => {
    const w = app(8, { 'kfd-restore-mqd-size': 'one-xcc' });
    const { restore, ctx } = dumpAndRestore(w);
    expect(restore.ret).toBe(EIO);
    expect(ctx.from_dump).toBe(true);
    expect(ctx.restore_ioctl_ret).toBe(EINVAL);
    const v = checkInvariants(w, invariant);
    expect(v.map((x) => x.invariant)).toEqual([NAME]);
    expect(v[0]!.objects).toEqual([restore.out.object]);
  });

  it('spec §5.4 step 5: with the num-xcc fix, and on one XCC with either value, the restore completes and the invariant holds', () => {
    for (const [xccs, mqd] of [
      [8, 'num-xcc'],
      [1, 'one-xcc'],
      [1, 'num-xcc'],
    ] as const) {
      const w = app(xccs, { 'kfd-restore-mqd-size': mqd });
      const { restore, ctx } = dumpAndRestore(w);
      expect(restore.ret, `${xccs} XCCs, ${mqd}`).toBe(0);
      expect(ctx.restore_ioctl_ret).toBeNull();
      expect(checkInvariants(w, invariant)).toEqual([]);
    }
  });

  it('spec §5.4 step 5 (init_user_queue on MES, d3f670cfb535): on GC 11.0.0 CHECKPOINT saves the queue and RESTORE refuses it by design ("no usage of CRIU with shared MES"), which the invariant leaves out', () => {
    const w = appOn({ gc_version: '11.0.0' });
    const { restore, ctx } = dumpAndRestore(w);
    expect(restore.ret).toBe(EIO);
    expect(ctx.restore_ioctl_ret).toBe(EINVAL);
    expect(checkInvariants(w, invariant)).toEqual([]);
    // HWS (GC 10.3.0) restores the same process
    const hws = appOn({ gc_version: '10.3.0' });
    expect(dumpAndRestore(hws).restore.ret).toBe(0);
    expect(checkInvariants(hws, invariant)).toEqual([]);
  });

  it('spec §5.4 (older kernels: !num_bos → -EINVAL): on kernel 6.17 a process without KFD BOs dumps and cannot be restored, which the invariant names; 6.18 restores it', () => {
    for (const kernel of ['6.17', '6.18'] as const) {
      const t = criuTopology();
      const w = createWorld(parseTopology({ gpus: t.gpus }, t.processes), { ...FIXED_BASELINE, kernel });
      const gpu = t.gpus[0]!.gpu_id;
      for (const c of [
        call('open', { path: '/dev/kfd' }, 100),
        call('open', { path: '/dev/dri/renderD128' }, 100),
        call('AMDKFD_IOC_ACQUIRE_VM', { drm_fd: 4, gpu_id: gpu }, 100, 3),
      ])
        expect(applyInPlace(w, c).ret).toBe(0);
      const { restore, ctx } = dumpAndRestore(w);
      const names = checkInvariants(w, invariant).map((x) => x.invariant);
      if (kernel === '6.17') {
        expect(ctx.restore_ioctl_ret).toBe(EINVAL);
        expect(names).toEqual([NAME]);
      } else {
        expect(restore.ret).toBe(0);
        expect(names).toEqual([]);
      }
    }
  });

  it('kernel source (docs/conformance.md "Kernel findings" 2): an AQL BO left half mapped by a MAP over the ring makes a checkpoint that RESTORE refuses, which the invariant names; with kfd-map-failure=unwind the restore completes', () => {
    for (const failure of ['keep-mapped', 'unwind'] as const) {
      const w = app(1, { 'kfd-map-failure': failure });
      const gpu = criuTopology().gpus[0]!.gpu_id;
      // Two pages of 64 KiB asked, 64 KiB per entry: the entry at va is the ring's range.
      const aql = applyInPlace(
        w,
        call(
          'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
          { flags: ['GTT', 'WRITABLE', 'AQL_QUEUE_MEM'], gpu_id: gpu, size: 131072, va_addr: QUEUE_RING },
          100,
          3,
        ),
      );
      expect(aql.ret).toBe(0);
      const map = applyInPlace(
        w,
        call('AMDKFD_IOC_MAP_MEMORY_TO_GPU', { device_ids: [gpu], handle: aql.out.handle }, 100, 3),
      );
      expect(map.ret).toBe(EINVAL);
      expect(checkInvariants(w, invariant)).toEqual([]);
      const { restore, ctx } = dumpAndRestore(w);
      expect(ctx.from_dump).toBe(true);
      if (failure === 'keep-mapped') {
        expect(restore.ret).toBe(EIO);
        expect(ctx.restore_ioctl_ret).toBe(EINVAL);
        expect(checkInvariants(w, invariant).map((x) => x.invariant)).toEqual([NAME]);
      } else {
        expect(restore.ret).toBe(0);
        expect(checkInvariants(w, invariant)).toEqual([]);
      }
    }
  });

  it('kernel source: docs/examples/kfd-aql-half-mapped.jsonl holds every assertion, and with the invariant checked stops at its criu.restore', () => {
    const text = readFileSync(new URL('../../docs/examples/kfd-aql-half-mapped.jsonl', import.meta.url), 'utf8');
    const { header, events } = readLog(text, 'example');
    expect(replay(header, events, { file: 'example' }).ok).toBe(true);
    const rep = replay(header, events, { file: 'example', invariants: invariant });
    expect(rep.ok).toBe(false);
    expect(rep.violation!.call).toBe('criu.restore');
    expect(rep.violation!.actual.ret).toBe(EIO);
    expect(rep.violation!.violations.map((v) => v.invariant)).toEqual([NAME]);
  });

  it('spec §5.4 step 5: the same refusal of images read from a directory is outside the invariant (they may have been edited)', () => {
    const w = app(8, { 'kfd-restore-mqd-size': 'one-xcc' });
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-restore-accepts-'));
    const { restore, ctx } = dumpAndRestore(w, dir);
    expect(restore.ret).toBe(EIO);
    expect(ctx.from_dump).toBe(false);
    expect(ctx.restore_ioctl_ret).toBe(EINVAL);
    expect(checkInvariants(w, invariant)).toEqual([]);
  });
});
