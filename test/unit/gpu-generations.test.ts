/**
 * A GPU's GC IP version (`gc_version` in the log header, docs/log-format.md "topology"), and
 * what it decides: pqm_create_queue's max_queues, 127 user queues per device under the HWS
 * limit, 255 on GC 9.4.3, 9.4.4 and 9.5.0 ("No HWS limit"; spec §5.4 step 5), for CREATE_QUEUE
 * and for the queues a CRIU RESTORE re-creates alike; and on GC 11 and later (MES), that
 * init_user_queue refuses a queue without its write-pointer BO, which a CRIU restore never has;
 * and a GPU's XCC count (`num_xcc`): a queue's checkpoint carries an MQD and a control stack per
 * XCC, which the restore's mqd_size bounds check (one XCC's MQD) then refuses.
 */
import { describe, expect, it } from 'vitest';
import { decodePrivData } from '../../src/criu/kfd-priv.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import { encodeHeader } from '../../src/log/writer.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Variants } from '../../src/world/variants.js';
import { APP, E, GPU_A, Harness } from '../conformance/helpers.js';

const header = (gpu: object) =>
  JSON.stringify({ gpucr: 1, topology: { gpus: [{ gpu_id: 0x1001, render_minor: 128, ...gpu }] } });

/** A process with `n` compute queues on GPU A, whose GC version is `gc` (none: the default). */
function withQueues(
  gc: string | undefined,
  n: number,
  gpu: object = {},
  variants: Partial<Variants> = {},
): { h: Harness; last: number } {
  const h = new Harness({
    gpus: [{ gpu_id: GPU_A, render_minor: 128, ...(gc ? { gc_version: gc } : {}), ...gpu }],
    variants,
  });
  h.setupProcess(APP, [GPU_A]);
  let last = 0;
  for (let i = 0; i < n && last === 0; i++) last = h.createQueue(APP, GPU_A).ret;
  return { h, last };
}

/** What the round trip's KFD RESTORE returned (undefined: not issued). */
const kfdRestoreRet = (r: ReturnType<typeof roundtrip>) =>
  r.restore!.calls.find((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.op === KFD_CRIU_OP.RESTORE)?.ret;

describe('docs/log-format.md topology: a GPU’s gc_version', () => {
  it('read as given, kept by the header encoding and by a snapshot; absent when not given', () => {
    const { header: h } = readLog(`${header({ gc_version: '9.4.3' })}\n`, 'g.jsonl');
    expect(h.topology.gpus[0]!.gc_version).toBe('9.4.3');
    expect(readLog(`${JSON.stringify(encodeHeader(h))}\n`, 'again.jsonl').header.topology).toEqual(h.topology);
    const w = withQueues('9.5.0', 0).h.w;
    expect(restoreSnapshot(snapshotText(w)).topology).toEqual(w.topology);
    expect(Object.hasOwn(readLog(`${header({})}\n`, 'd.jsonl').header.topology.gpus[0]!, 'gc_version')).toBe(false);
  });

  it('bad input: not "major.minor.revision", or a part above 255 (IP_VERSION packs bytes)', () => {
    const err = (gc: unknown) => {
      try {
        readLog(`${header({ gc_version: gc })}\n`, 'g.jsonl');
      } catch (e) {
        return (e as LogError).message;
      }
      return 'no error';
    };
    for (const bad of ['9.4', 'gfx942', '9.4.256', 90403])
      expect(err(bad)).toContain('topology.gpus[0].gc_version: expected a GC IP version "major.minor.revision"');
  });
});

describe('spec §5.4 step 5, §7.2 CREATE_QUEUE: pqm_create_queue’s max_queues by GC version', () => {
  it('spec §7.2 CREATE_QUEUE: the default GPU (GC 9.4.2) and GC 10.3.0 stop at 127 queues (-ENOSPC)', () => {
    for (const gc of [undefined, '10.3.0']) {
      const { h, last } = withQueues(gc, 128);
      expect(last).toBe(E.ENOSPC);
      expect(Object.keys(h.task(APP).queues)).toHaveLength(127);
    }
  });

  it('spec §7.2 CREATE_QUEUE ("No HWS limit on GFX 9.4.3/9.5.0"): GC 9.4.3, 9.4.4 and 9.5.0 take 255 queues, the 256th → -ENOSPC', () => {
    for (const gc of ['9.4.3', '9.4.4', '9.5.0']) {
      const { h, last } = withQueues(gc, 256);
      expect(last).toBe(E.ENOSPC);
      expect(Object.keys(h.task(APP).queues)).toHaveLength(255);
    }
  });

  it('spec §5.4 step 5 (kfd_criu_restore_queue → pqm_create_queue): 200 queues on GC 9.4.3 are checkpointed and restored', () => {
    const { h } = withQueues('9.4.3', 200);
    const r = roundtrip(h.w, APP);
    expect(r.restore?.failure).toBeNull();
    expect(Object.keys(r.restored!.tasks[APP]!.queues)).toHaveLength(200);
    expect(r.differences).toEqual([]);
  });
});

describe('spec §5.4 step 5: no queue restores on a MES GPU (GC 11 and later)', () => {
  it('spec §5.4 step 5 (init_user_queue: "Queue initialization with shared MES requires queue buffers"; the partial revert of d3f670cfb535): a process with a queue on GC 11.0.0 is dumped, and its RESTORE fails with -EINVAL', () => {
    const { h } = withQueues('11.0.0', 1);
    expect(Object.keys(h.task(APP).queues)).toHaveLength(1);
    const r = roundtrip(h.w, APP);
    expect(r.dump.failure).toBeNull();
    expect(kfdRestoreRet(r)).toBe(E.EINVAL);
    expect(r.restore?.failure).not.toBeNull();
  });

  it('spec §5.4 step 5: the same process without its queue restores on GC 11.0.0; GC 10.3.0 (HWS) restores the queue', () => {
    expect(roundtrip(withQueues('11.0.0', 0).h.w, APP).restore?.failure).toBeNull();
    const hws = roundtrip(withQueues('10.3.0', 1).h.w, APP);
    expect(hws.restore?.failure).toBeNull();
    expect(hws.differences).toEqual([]);
  });
});

/** [mqd_size, ctl_stack_size] of each queue record in the dump's KFD image (one GPU). */
function dumpedQueueSizes(r: ReturnType<typeof roundtrip>): [number, number][] {
  const { kfd } = r.dump.images.kfd[0]!;
  const counts = { num_devices: 1, num_bos: Number(kfd.num_of_bos), num_objects: kfd.num_of_objects };
  const objects = decodePrivData(kfd.priv_data, counts).objects as { mqd_size: number; ctl_stack_size: number }[];
  return objects.map((o) => [o.mqd_size, o.ctl_stack_size]);
}

describe('spec §5.2.1, §5.4 step 5: a GPU of several XCCs (num_xcc)', () => {
  it('docs/log-format.md topology: num_xcc is 1 to 16, absent when not given', () => {
    const { header: h } = readLog(`${header({ num_xcc: 8 })}\n`, 'x.jsonl');
    expect(h.topology.gpus[0]!.num_xcc).toBe(8);
    expect(Object.hasOwn(readLog(`${header({})}\n`, 'd.jsonl').header.topology.gpus[0]!, 'num_xcc')).toBe(false);
    expect(() => readLog(`${header({ num_xcc: 0 })}\n`, 'x.jsonl')).toThrow(
      'topology.gpus[0].num_xcc: expected a number of XCCs from 1 to 16, found 0',
    );
  });

  it('spec §5.2.1 (get_queue_checkpoint_info, "Fix checkpoint-restore on multi-xcc"): CHECKPOINT saves one MQD and one control stack per XCC', () => {
    const ctl = 0x1000;
    const { h } = withQueues('9.4.3', 0, { num_xcc: 8 });
    h.must(h.createQueue(APP, GPU_A, 'COMPUTE', { ctl_stack_size: ctl, ctx_save_restore_size: 0x10000 }));
    h.must(h.createQueue(APP, GPU_A, 'SDMA'));
    const one = withQueues('9.4.3', 0).h;
    one.must(one.createQueue(APP, GPU_A, 'COMPUTE', { ctl_stack_size: ctl, ctx_save_restore_size: 0x10000 }));
    const r = roundtrip(h.w, APP);
    expect(r.dump.failure).toBeNull();
    const objects = dumpedQueueSizes(r);
    const [oneXcc] = dumpedQueueSizes(roundtrip(one.w, APP));
    expect(objects).toEqual([
      [oneXcc![0] * 8, ctl * 8],
      [expect.any(Number), 0],
    ]);
  });

  it('spec §5.4 step 5 (CVE-2026-68258 fix f19d8086f664: mqd_size ≠ mqd_size_from_queue_type → -EINVAL): on 8 XCCs the saved MQDs are 8 × one XCC’s, and the RESTORE of the queue fails', () => {
    const { h } = withQueues('9.4.3', 1, { num_xcc: 8 });
    const r = roundtrip(h.w, APP);
    expect(r.dump.failure).toBeNull();
    expect(kfdRestoreRet(r)).toBe(E.EINVAL);
    // one XCC (a CPX partition): the same queue restores
    expect(roundtrip(withQueues('9.4.3', 1, { num_xcc: 1 }).h.w, APP).restore?.failure).toBeNull();
  });

  it('spec §5.4 step 5, variant kfd-restore-mqd-size=num-xcc (the fix gpucr proposes): the 8-XCC queue restores, and its MQDs come back whole', () => {
    const fixed = { 'kfd-restore-mqd-size': 'num-xcc' } as const;
    const { h } = withQueues('9.4.3', 1, { num_xcc: 8 }, fixed);
    const r = roundtrip(h.w, APP);
    expect(r.restore?.failure).toBeNull();
    expect(r.equivalent).toBe(true);
    // The restored queue is checkpointed again with the same MQD and control stack sizes.
    expect(dumpedQueueSizes(roundtrip(r.restored!, APP))).toEqual(dumpedQueueSizes(r));
  });

  it('spec §5.4 step 5: the fix still bounds the MQD; a checkpoint of one XCC restored onto 8 XCCs is -EINVAL under num-xcc, and passes the kernel’s one-xcc check', () => {
    const onto8 = (w: ReturnType<typeof withQueues>['h']['w']) =>
      parseTopology(
        { page_size: 4096, gpus: [{ gpu_id: GPU_A, render_minor: 128, gc_version: '9.4.3', num_xcc: 8 }] },
        [...w.topology.processes],
      );
    const fixed = withQueues('9.4.3', 1, { num_xcc: 1 }, { 'kfd-restore-mqd-size': 'num-xcc' }).h.w;
    expect(kfdRestoreRet(roundtrip(fixed, APP, { topology: onto8(fixed) }))).toBe(E.EINVAL);
    const kernel = withQueues('9.4.3', 1, { num_xcc: 1 }).h.w;
    expect(kfdRestoreRet(roundtrip(kernel, APP, { topology: onto8(kernel) }))).toBe(0);
  });
});
