/**
 * A GPU's GC IP version (`gc_version` in the log header, docs/log-format.md "topology"), and
 * what it decides: pqm_create_queue's max_queues, 127 user queues per device under the HWS
 * limit, 255 on GC 9.4.3, 9.4.4 and 9.5.0 ("No HWS limit"; spec §5.4 step 5), for CREATE_QUEUE
 * and for the queues a CRIU RESTORE re-creates alike; and on GC 11 and later (MES), that
 * init_user_queue refuses a queue without its write-pointer BO, which a CRIU restore never has.
 */
import { describe, expect, it } from 'vitest';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { restoreSnapshot, snapshotText } from '../../src/log/snapshot.js';
import { encodeHeader } from '../../src/log/writer.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';
import { APP, E, GPU_A, Harness } from '../conformance/helpers.js';

const header = (gpu: object) =>
  JSON.stringify({ gpucr: 1, topology: { gpus: [{ gpu_id: 0x1001, render_minor: 128, ...gpu }] } });

/** A process with `n` compute queues on GPU A, whose GC version is `gc` (none: the default). */
function withQueues(gc: string | undefined, n: number): { h: Harness; last: number } {
  const h = new Harness({ gpus: [{ gpu_id: GPU_A, render_minor: 128, ...(gc ? { gc_version: gc } : {}) }] });
  h.setupProcess(APP, [GPU_A]);
  let last = 0;
  for (let i = 0; i < n && last === 0; i++) last = h.createQueue(APP, GPU_A).ret;
  return { h, last };
}

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
    const restore = r.restore!.calls.find((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.args.op === KFD_CRIU_OP.RESTORE);
    expect(restore?.ret).toBe(E.EINVAL);
    expect(r.restore?.failure).not.toBeNull();
  });

  it('spec §5.4 step 5: the same process without its queue restores on GC 11.0.0; GC 10.3.0 (HWS) restores the queue', () => {
    expect(roundtrip(withQueues('11.0.0', 0).h.w, APP).restore?.failure).toBeNull();
    const hws = roundtrip(withQueues('10.3.0', 1).h.w, APP);
    expect(hws.restore?.failure).toBeNull();
    expect(hws.differences).toEqual([]);
  });
});
