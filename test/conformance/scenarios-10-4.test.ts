/**
 * Spec §10.4 "Suggested conformance scenarios derived from the code", 1–15, one test each.
 * Expected errnos and state consequences are those the spec states (§5, §6, §7).
 */
import { describe, expect, it } from 'vitest';
import { PRIV_SIZES } from '../../src/criu/kfd-priv.js';
import { KFD_IOCTL_SVM_ATTR, KFD_IOCTL_SVM_LOCATION, MAKE_HANDLE } from '../../src/uapi/index.js';
import {
  APP,
  buildApp,
  CRIU,
  type Checkpoint,
  decodeCk,
  E,
  GPU_A,
  GPU_B,
  Harness,
  KFD_FD,
  OTHER,
  PAGE,
  RESTORED,
  VA,
  withPriv,
} from './helpers.js';

/** A fresh world with the application built and checkpointed (PROCESS_INFO, CHECKPOINT, UNPAUSE). */
function checkpointed(parts: Parameters<typeof buildApp>[1], opts = {}) {
  const h = new Harness(opts);
  const handles = buildApp(h, parts);
  const ck = h.checkpoint(APP);
  return { h, handles, ck };
}

function blobWith(ck: Checkpoint, priv: Uint8Array): Checkpoint {
  return { ...ck, priv_data: priv, priv_data_size: BigInt(priv.length) };
}

function getAttrFull(h: Harness, pid: number, type: string, value = 0) {
  const r = h.must(
    h.ioctl(pid, 'SVM', {
      start_addr: VA.svm,
      size: 2 * PAGE,
      op: 'GET_ATTR',
      attrs: [{ type, value }],
    }),
  );
  return (r.out.attrs as { type: number; value: number }[])[0]!;
}

function getAttr(h: Harness, pid: number, type: string, value = 0): number {
  return getAttrFull(h, pid, type, value).value;
}

describe('spec §10.4 conformance scenarios', () => {
  it('spec §10.4 scenario 1 (§5.2 check 3): CHECKPOINT without PROCESS_INFO → -EINVAL; after PROCESS_INFO+UNPAUSE → -EINVAL', () => {
    const h = new Harness();
    const app = buildApp(h, { vram: true, queue: true });
    const blind = h.criu(CRIU, `${APP}:${KFD_FD}`, {
      op: 'CHECKPOINT',
      devices: [],
      bos: [],
      priv_data: '',
      num_devices: 2,
      num_bos: 1,
      num_objects: 1,
      priv_data_size: 8,
    });
    expect(blind.ret).toBe(E.EINVAL);
    // No side effect: nothing paused, the queue still runs.
    expect(h.proc(APP).queues_paused).toBe(false);
    expect(h.queueActive(APP, app.queue!)).toBe(true);

    const info = h.must(h.processInfo(APP));
    h.must(h.unpause(APP));
    expect(h.checkpointWith(APP, info).ret).toBe(E.EINVAL);
    expect(h.proc(APP).queues_paused).toBe(false);
    expect(h.queueActive(APP, app.queue!)).toBe(true);
  });

  it('spec §10.4 scenario 2 (§5.1 step 2): PROCESS_INFO with no GPUs (n_pdds 0) → -ENODEV; nothing evicted or paused afterwards', () => {
    const h = new Harness({ gpus: [] });
    h.must(h.open(APP, '/dev/kfd'));
    expect(h.task(APP).pdds).toHaveLength(0);
    expect(h.processInfo(APP).ret).toBe(E.ENODEV);
    // The -ENODEV check precedes kfd_process_evict_queues and queues_paused = true.
    expect(h.proc(APP).queues_paused).toBe(false);
    // Hence UNPAUSE has nothing to undo (§5.3 check 1) …
    expect(h.unpause(APP).ret).toBe(E.EINVAL);
    // … and CHECKPOINT stops at its own n_pdds check (§5.2 check 2).
    expect(h.criu(CRIU, `${APP}:${KFD_FD}`, { op: 'CHECKPOINT', devices: [], bos: [], priv_data: '' }).ret).toBe(
      E.ENODEV,
    );
  });

  it('spec §10.4 scenario 3 (§5.2 check 4): PROCESS_INFO, ALLOC, CHECKPOINT → -EINVAL count mismatch', () => {
    const h = new Harness();
    const app = buildApp(h, { vram: true, queue: true });
    const info = h.must(h.processInfo(APP));
    // Another thread of the application allocates between the two ops.
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, 0x7f00aa000000n);
    expect(h.checkpointWith(APP, info).ret).toBe(E.EINVAL);
    // CHECKPOINT has no undo: the process stays paused, its queues evicted (§6.1).
    expect(h.proc(APP).queues_paused).toBe(true);
    expect(h.queueEvicted(APP, app.queue!)).toBe(true);
    // A fresh PROCESS_INFO reports the new count and CHECKPOINT then succeeds.
    const info2 = h.must(h.processInfo(APP));
    expect(info2.out.num_bos).toBe((info.out.num_bos as number) + 1);
    expect(h.checkpointWith(APP, info2).ret).toBe(0);
  });

  it('spec §10.4 scenario 4 (§5.1 steps 6–7): PROCESS_INFO with an SDMA_BY_ENG_ID queue → -EOPNOTSUPP, queues restored and queues_paused false', () => {
    const h = new Harness();
    h.setupProcess(APP);
    const compute = h.must(h.createQueue(APP, GPU_A, 'COMPUTE')).out.queue_id as number;
    const sdma = h.must(h.createQueue(APP, GPU_B, 'SDMA_BY_ENG_ID', { sdma_engine_id: 0 })).out.queue_id as number;
    expect(h.processInfo(APP).ret).toBe(E.EOPNOTSUPP);
    expect(h.proc(APP).queues_paused).toBe(false);
    expect(h.queueActive(APP, compute)).toBe(true);
    expect(h.queueActive(APP, sdma)).toBe(true);
    expect(h.pdd(APP, GPU_A).evicted).toBe(0);
    expect(h.pdd(APP, GPU_B).evicted).toBe(0);
    // Not paused, so CHECKPOINT and UNPAUSE are refused.
    expect(h.unpause(APP).ret).toBe(E.EINVAL);
  });

  it('spec §10.4 scenario 5 (§5.3, §6.1, §6.2): UNPAUSE twice → second -EINVAL; PROCESS_INFO twice + UNPAUSE once → queues still evicted (ref-count)', () => {
    const h = new Harness();
    const app = buildApp(h, { queue: true });
    h.must(h.processInfo(APP));
    expect(h.unpause(APP).ret).toBe(0);
    expect(h.unpause(APP).ret).toBe(E.EINVAL);
    expect(h.queueActive(APP, app.queue!)).toBe(true);
    expect(h.pdd(APP, GPU_A).evicted).toBe(0);

    h.must(h.processInfo(APP));
    h.must(h.processInfo(APP));
    expect(h.pdd(APP, GPU_A).evicted).toBe(2);
    expect(h.unpause(APP).ret).toBe(0);
    expect(h.proc(APP).queues_paused).toBe(false);
    expect(h.unpause(APP).ret).toBe(E.EINVAL);
    // One eviction reference is left: the queue stays off the hardware.
    expect(h.pdd(APP, GPU_A).evicted).toBe(1);
    expect(h.pdd(APP, GPU_B).evicted).toBe(1);
    expect(h.queueEvicted(APP, app.queue!)).toBe(true);
  });

  it('spec §10.4 scenario 6 (§5.4 step 3, §6.2): RESTORE with num_devices ≠ visible GPUs → -EINVAL; with a pdd that already did ACQUIRE_VM → -EINVAL', () => {
    const a = checkpointed({ gtt: true });
    const r1 = a.h.restore(RESTORED, a.ck, {
      edit: (args) => {
        args.devices = (args.devices as unknown[]).slice(0, 1);
        args.num_devices = 1;
      },
    });
    expect(r1.ret).toBe(E.EINVAL);
    expect(a.h.pdd(RESTORED, GPU_A).drm_file).toBeNull();
    expect(a.h.pdd(RESTORED, GPU_B).drm_file).toBeNull();

    const b = checkpointed({ gtt: true });
    // The restoring process acquired GPU A's VM itself before RESTORE.
    b.h.setupProcess(RESTORED, [GPU_A]);
    const acquired = b.h.pdd(RESTORED, GPU_A).drm_file;
    expect(b.h.restore(RESTORED, b.ck, { open: false }).ret).toBe(E.EINVAL);
    expect(b.h.pdd(RESTORED, GPU_A).drm_file).toBe(acquired);
    expect(Object.keys(b.h.userBos(RESTORED, GPU_A))).toHaveLength(0);
  });

  it('spec §10.4 scenario 7 (§5.4 step 3): RESTORE with user_gpu_id 0 → -EINVAL; unknown actual_gpu_id → -EINVAL; bad drm_fd → -EINVAL', () => {
    type Dev = { user_gpu_id: number; actual_gpu_id: number; drm_fd: number };
    const cases: [string, (d: Dev) => void][] = [
      ['user_gpu_id 0', (d) => (d.user_gpu_id = 0)],
      ['unknown actual_gpu_id', (d) => (d.actual_gpu_id = 0x7777)],
      ['drm_fd not open', (d) => (d.drm_fd = 42)],
    ];
    for (const [what, edit] of cases) {
      const { h, ck } = checkpointed({ gtt: true });
      const r = h.restore(RESTORED, ck, {
        edit: (args) => edit((args.devices as Dev[])[0]!),
      });
      expect(r.ret, what).toBe(E.EINVAL);
      expect(h.pdd(RESTORED, GPU_A).drm_file, what).toBeNull();
    }
  });

  it('spec §10.4 scenario 8 (§5.4 step 2): RESTORE with priv version ≠ 1 → -EINVAL; xnack_mode 1 on a non-XNACK GPU → -EPERM', () => {
    {
      const { h, ck } = checkpointed({ gtt: true });
      const d = decodeCk(ck);
      d.process.version = 2;
      expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(E.EINVAL);
      // Fails before criu_restore_devices: no VM was set up.
      expect(h.pdd(RESTORED, GPU_A).drm_file).toBeNull();
    }
    {
      const { h, ck } = checkpointed({ gtt: true });
      const d = decodeCk(ck);
      d.process.xnack_mode = 1;
      expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(E.EPERM);
      expect(h.proc(RESTORED).xnack_enabled).toBe(false);
    }
    {
      // Control: on XNACK-capable GPUs the same blob restores with xnack enabled.
      const { h, ck } = checkpointed({ gtt: true }, { gpuA: { xnack_capable: true }, gpuB: { xnack_capable: true } });
      const d = decodeCk(ck);
      d.process.xnack_mode = 1;
      expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(0);
      expect(h.proc(RESTORED).xnack_enabled).toBe(true);
    }
  });

  it('spec §10.4 scenario 9 (§5.4 step 4): RESTORE with two BOs with the same idr_handle on one GPU → second -ENOMEM, the first BO remains', () => {
    const h = new Harness();
    h.setupProcess(APP);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], PAGE, 0x7f0010000000n);
    h.alloc(APP, GPU_A, ['GTT', 'WRITABLE'], 2 * PAGE, 0x7f0020000000n);
    const ck = h.checkpoint(APP);
    const d = decodeCk(ck);
    expect(d.bos.map((b) => b.idr_handle)).toEqual([0, 1]);
    d.bos[1]!.idr_handle = d.bos[0]!.idr_handle;
    expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(E.ENOMEM);
    // No rollback (§5.4): the first BO stays at its exact handle.
    const bos = h.userBos(RESTORED, GPU_A);
    expect(Object.keys(bos).map(Number)).toEqual([0]);
    expect(bos[0]!.va).toBe(0x7f0010000000n);
  });

  it('spec §10.4 scenario 10 (§5.4 step 4): RESTORE of a DOORBELL BO whose size ≠ doorbell slice → -EINVAL; MMIO BO size ≠ PAGE_SIZE → -EINVAL', () => {
    {
      const { h, ck } = checkpointed({ doorbell: true });
      const i = ck.bos.findIndex((b) => b.addr === VA.doorbell);
      const r = h.restore(RESTORED, ck, {
        edit: (a) => ((a.bos as { size: bigint }[])[i]!.size = 4096n),
      });
      expect(r.ret).toBe(E.EINVAL);
      expect(Object.keys(h.userBos(RESTORED, GPU_A))).toHaveLength(0);
    }
    {
      const { h, ck } = checkpointed({ mmio: true });
      const i = ck.bos.findIndex((b) => b.addr === VA.mmio);
      const r = h.restore(RESTORED, ck, {
        edit: (a) => ((a.bos as { size: bigint }[])[i]!.size = 2n * BigInt(PAGE)),
      });
      expect(r.ret).toBe(E.EINVAL);
      expect(Object.keys(h.userBos(RESTORED, GPU_B))).toHaveLength(0);
    }
  });

  it('spec §10.4 scenario 11 (§5.4 step 4): RESTORE of a BO whose gpu_id is not a restored user id → -ENODEV; mapped_gpuids naming an unknown id → -EINVAL', () => {
    {
      const { h, ck } = checkpointed({ gtt: true });
      const r = h.restore(RESTORED, ck, {
        edit: (a) => ((a.bos as { gpu_id: number }[])[0]!.gpu_id = 0x7777),
      });
      expect(r.ret).toBe(E.ENODEV);
    }
    {
      const { h, ck } = checkpointed({ gtt: true });
      const d = decodeCk(ck);
      d.bos[0]!.mapped_gpuids = [0x7777];
      expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(E.EINVAL);
    }
  });

  it('spec §10.4 scenario 12 (§5.4 steps 5–6): RESTORE objects: unknown object_type → -EINVAL; duplicate queue q_id → -ENOSPC; event user_handle not a restored BO → -EINVAL; trailing bytes → -EINVAL', () => {
    {
      // One object (a MEMORY event) — rewrite its object_type to 7.
      const h = new Harness();
      h.setupProcess(APP);
      h.must(h.ioctl(APP, 'CREATE_EVENT', { event_type: 'MEMORY', auto_reset: 1 }));
      const ck = h.checkpoint(APP);
      expect(ck.num_objects).toBe(1);
      const priv = Uint8Array.from(ck.priv_data);
      const at = PRIV_SIZES.process + ck.num_devices * PRIV_SIZES.device + ck.num_bos * PRIV_SIZES.bo(64);
      new DataView(priv.buffer).setUint32(at, 7, true);
      expect(h.restore(RESTORED, blobWith(ck, priv)).ret).toBe(E.EINVAL);
    }
    {
      const h = new Harness();
      h.setupProcess(APP);
      h.must(h.createQueue(APP, GPU_A));
      h.must(h.createQueue(APP, GPU_A));
      const ck = h.checkpoint(APP);
      const d = decodeCk(ck);
      const qs = d.objects.filter((o) => o.object_type === 0) as { q_id: number }[];
      expect(qs.map((q) => q.q_id)).toEqual([0, 1]);
      qs[1]!.q_id = 0;
      expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(E.ENOSPC);
      // The first queue was restored before the collision.
      expect(Object.keys(h.task(RESTORED).queues).map(Number)).toEqual([0]);
    }
    {
      const { h, ck } = checkpointed({ events: true });
      const d = decodeCk(ck);
      const ev = d.objects.find((o) => o.object_type === 1 && o.user_handle !== 0n) as {
        user_handle: bigint;
      };
      expect(ev).toBeDefined();
      ev.user_handle = MAKE_HANDLE(GPU_A, 57);
      expect(h.restore(RESTORED, withPriv(ck, d)).ret).toBe(E.EINVAL);
      expect(h.proc(RESTORED).signal_page).toBe(false);
    }
    {
      // Control: BOs are restored before objects, so the event page is found.
      const { h, ck, handles } = checkpointed({ events: true });
      expect(h.restore(RESTORED, ck).ret).toBe(0);
      expect(h.proc(RESTORED).signal_handle).toBe(handles.eventPage);
    }
    {
      const { h, ck } = checkpointed({ gtt: true, queue: true });
      const priv = new Uint8Array(ck.priv_data.length + 8);
      priv.set(ck.priv_data);
      expect(h.restore(RESTORED, blobWith(ck, priv)).ret).toBe(E.EINVAL);
    }
  });

  it('spec §10.4 scenario 13 (§5.4 argument checks): RESTORE with num_bos 0 → -EINVAL on 6.17, accepted on ≥ 6.18', () => {
    for (const kernel of ['6.17', '6.18'] as const) {
      const h = new Harness({ variants: { kernel } });
      h.setupProcess(APP); // VMs acquired, no user BO (the IB/CWSR BOs are never checkpointed)
      const ck = h.checkpoint(APP);
      expect(ck.num_bos).toBe(0);
      const r = h.restore(RESTORED, ck);
      if (kernel === '6.17') {
        expect(r.ret, kernel).toBe(E.EINVAL);
        // Argument checks come before the lock: nothing happened.
        expect(h.pdd(RESTORED, GPU_A).drm_file).toBeNull();
      } else {
        expect(r.ret, kernel).toBe(0);
        expect(h.pdd(RESTORED, GPU_A).drm_file).not.toBeNull();
      }
    }
    // ≥ 6.18 also accepts a NULL bos pointer when num_bos is 0.
    const h = new Harness({ variants: { kernel: '6.18' } });
    h.setupProcess(APP);
    const ck = h.checkpoint(APP);
    expect(h.restore(RESTORED, ck, { edit: (a) => (a.bos = null) }).ret).toBe(0);
  });

  it('spec §10.4 scenario 14 (§5.5): RESUME for a pid without a kfd process → -ESRCH; RESUME twice / without RESTORE → -EINVAL', () => {
    const { h, ck } = checkpointed({ gtt: true });
    expect(h.resume(4242).ret).toBe(E.ESRCH); // no such pid
    h.must(h.open(OTHER, `/dev/dri/renderD128`));
    expect(h.resume(OTHER).ret).toBe(E.ESRCH); // a pid, but no kfd process
    expect(h.resume(APP).ret).toBe(E.EINVAL); // never restored
    h.must(h.restore(RESTORED, ck));
    expect(h.proc(RESTORED).block_mmu_notifications).toBe(true);
    expect(h.resume(RESTORED).ret).toBe(0);
    expect(h.proc(RESTORED).block_mmu_notifications).toBe(false);
    expect(h.resume(RESTORED).ret).toBe(E.EINVAL);
  });

  it('spec §10.4 scenario 15 (§5.4 step 1, §5.5, §9.6): queues stay inactive after RESTORE until RESUME + restore_userptr_worker; SVM attributes applied only at RESUME', () => {
    const { h, handles, ck } = checkpointed({ userptr: true, queue: true, svm: true });
    expect(getAttr(h, APP, 'PREFERRED_LOC')).toBe(GPU_A);
    expect(getAttrFull(h, APP, 'ACCESS', GPU_A).type).toBe(KFD_IOCTL_SVM_ATTR.ACCESS);
    h.must(h.restore(RESTORED, ck));
    const q = handles.queue!;
    expect(h.queueEvicted(RESTORED, q)).toBe(true);
    // SVM ranges are only metadata until RESUME.
    expect(h.svmRanges(RESTORED)).toHaveLength(0);
    expect(getAttr(h, RESTORED, 'PREFERRED_LOC')).toBe(KFD_IOCTL_SVM_LOCATION.UNDEFINED);
    // The restored userptr is not populated (invalid until the worker).
    const up = h.boId(RESTORED, handles.userptr!)!;
    expect(h.inState(up, 'live.pages.invalid')).toBe(true);
    // The worker has nothing to do before RESUME: queues stay evicted.
    h.must(h.userptrWorker(RESTORED));
    expect(h.queueEvicted(RESTORED, q)).toBe(true);

    expect(h.resume(RESTORED).ret).toBe(0);
    // RESUME applied the SVM attributes but queues wait for the worker.
    expect(h.svmRanges(RESTORED)).toHaveLength(1);
    expect(getAttr(h, RESTORED, 'PREFERRED_LOC')).toBe(GPU_A);
    expect(getAttrFull(h, RESTORED, 'ACCESS', GPU_A).type).toBe(KFD_IOCTL_SVM_ATTR.ACCESS);
    expect(h.queueEvicted(RESTORED, q)).toBe(true);

    h.must(h.userptrWorker(RESTORED));
    expect(h.queueActive(RESTORED, q)).toBe(true);
    expect(h.inState(up, 'live.pages.valid')).toBe(true);
    expect(h.pdd(RESTORED, GPU_A).evicted).toBe(0);
  });
});
