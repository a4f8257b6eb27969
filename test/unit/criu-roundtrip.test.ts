/**
 * Kernel-level checkpoint → restore → resume of the built-in scenario, checked
 * object by object against the spec's promises (§5.2, §5.4, §5.5).
 */
import { describe, expect, it } from 'vitest';
import { type BoContext, mappedVms } from '../../machines/kfd/bo.js';
import type { QueueContext } from '../../machines/kfd/queue.js';
import { readLog } from '../../src/log/reader.js';
import { Replayer } from '../../src/log/replay.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { rocmTwoGpus } from '../../src/scenarios/rocm-two-gpus.js';
import { ERRNO, GET_IDR_HANDLE, KFD_INVALID_FD } from '../../src/uapi/index.js';
import { contextOf, inState } from '../../src/world/objects.js';
import { step } from '../../src/world/step.js';
import type { FdRef, World } from '../../src/world/types.js';
import { parseTopology } from '../../src/world/topology.js';
import { createWorld, pddHandles } from '../../src/world/world.js';

const RESTORED = 200;

function checkpointed() {
  const s = rocmTwoGpus();
  const text = [JSON.stringify(s.header), ...s.events.map((e) => JSON.stringify(e))].join('\n');
  const { header, events } = readLog(text, 'scenario');
  const rp = new Replayer(header, 'scenario', new Set(events.map((e) => e.line)));
  const outs: Record<string, unknown>[] = [];
  for (const ev of events) {
    expect(rp.feed(ev)).toBeUndefined();
    expect(rp.last!.ret).toBe(0);
    outs.push(rp.last!.out);
  }
  const ckpt = outs[outs.length - 2]!;
  return { world: rp.world, ckpt };
}

function call(w: World, pid: number | undefined, name: string, fd: FdRef | undefined, raw: Record<string, unknown>) {
  const args = decodeArgs(callDef(name)!.args, raw, 'args');
  return step(w, { ...(pid === undefined ? {} : { pid }), call: name, ...(fd === undefined ? {} : { fd }), args });
}

function tasksBos(w: World, pid: number): BoContext[] {
  return Object.values(w.objects)
    .filter((r) => r.kind === 'kfd.bo' && (r.context as BoContext).pid === pid && !(r.context as BoContext).internal)
    .map((r) => r.context as BoContext);
}

function restore(w: World, ckpt: Record<string, unknown>) {
  let r = call(w, RESTORED, 'open', undefined, { path: '/dev/kfd' });
  const kfd = r.out.fd as number;
  r = call(r.world, RESTORED, 'open', undefined, { path: '/dev/dri/renderD128' });
  const a = r.out.fd as number;
  r = call(r.world, RESTORED, 'open', undefined, { path: '/dev/dri/renderD129' });
  const b = r.out.fd as number;
  const devices = (ckpt.devices as { user_gpu_id: number; actual_gpu_id: number }[]).map((d, i) => ({
    user_gpu_id: d.user_gpu_id,
    actual_gpu_id: d.actual_gpu_id,
    drm_fd: i === 0 ? a : b,
  }));
  const bos = (ckpt.bos as Record<string, unknown>[]).map((x) => ({ ...x }));
  r = step(r.world, {
    pid: RESTORED,
    call: 'AMDKFD_IOC_CRIU_OP',
    fd: kfd,
    args: {
      ...decodeArgs(callDef('AMDKFD_IOC_CRIU_OP')!.args, { op: 'RESTORE', num_objects: 0 }, 'args'),
      devices: devices.map((d) => ({ ...d, pad: 0 })),
      bos,
      priv_data: ckpt.priv_data,
      priv_data_size: ckpt.priv_data_size,
      num_devices: devices.length,
      num_bos: bos.length,
      num_objects: ckpt.num_objects,
    },
  });
  return { r, kfd };
}

describe('checkpoint → restore → resume of the built-in scenario', () => {
  const { world, ckpt } = checkpointed();

  it('spec §5.2.4: CHECKPOINT gives dmabuf fds only for VRAM/GTT BOs, KFD_INVALID_FD otherwise', () => {
    for (const b of ckpt.bos as { alloc_flags: number; dmabuf_fd: number }[]) {
      const vramOrGtt = (b.alloc_flags & 3) !== 0;
      expect(b.dmabuf_fd !== KFD_INVALID_FD).toBe(vramOrGtt);
    }
  });

  it('spec §5.4: RESTORE recreates every BO at its exact idr handle, size, address and flags', () => {
    const { r } = restore(world, ckpt);
    expect(r.ret).toBe(0);
    const before = tasksBos(world, 100).map((b) => [b.va, b.size, b.alloc_flags]);
    const after = tasksBos(r.world, RESTORED).map((b) => [b.va, b.size, b.alloc_flags]);
    expect(after.sort()).toEqual(before.sort());
    const handles = (w: World, pid: number) => w.tasks[pid]!.pdds.map((p) => pddHandles(w, p).map(([h]) => h));
    expect(handles(r.world, RESTORED)).toEqual(handles(world, 100));
  });

  it('spec §5.4: mappings are re-established on the GPUs in mapped_gpuids', () => {
    const { r } = restore(world, ckpt);
    const mapped = (w: World, pid: number) =>
      tasksBos(w, pid)
        .map((b) => `${b.va}:${mappedVms(b).map(String).sort()}`)
        .sort();
    expect(mapped(r.world, RESTORED)).toEqual(mapped(world, 100));
  });

  it('spec §5.4 step 1, §5.5: restored queues stay evicted until RESUME and the userptr restore worker', () => {
    const { r } = restore(world, ckpt);
    const queues = (w: World) =>
      Object.values(w.tasks[RESTORED]!.queues).map((q) => ({ q, c: contextOf<QueueContext>(w, q) }));
    expect(queues(r.world).map(({ c }) => c.queue_id)).toEqual(Object.keys(world.tasks[100]!.queues).map(Number));
    for (const { q } of queues(r.world)) expect(inState(r.world, q, 'evicted')).toBe(true);
    const resumed = call(r.world, 99, 'AMDKFD_IOC_CRIU_OP', undefined, { op: 'RESUME', pid: RESTORED });
    // RESUME needs a /dev/kfd fd of the caller; without one the dispatcher refuses it.
    expect(resumed.ret).toBe(-ERRNO.EBADF);
    const opened = call(r.world, 99, 'open', undefined, { path: '/dev/kfd' });
    const kfd = opened.out.fd as number;
    let w = opened.world;
    const res = call(w, 99, 'AMDKFD_IOC_CRIU_OP', kfd, { op: 'RESUME', pid: RESTORED });
    expect(res.ret).toBe(0);
    w = res.world;
    for (const { q } of queues(w)) expect(inState(w, q, 'evicted')).toBe(true);
    const worker = call(w, undefined, 'kfd.restore_userptr_worker', undefined, { pid: RESTORED });
    expect(worker.ret).toBe(0);
    for (const { q } of queues(worker.world)) expect(inState(worker.world, q, 'active')).toBe(true);
    // spec §5.5: a second RESUME finds block_mmu_notifications clear.
    expect(call(worker.world, 99, 'AMDKFD_IOC_CRIU_OP', kfd, { op: 'RESUME', pid: RESTORED }).ret).toBe(-ERRNO.EINVAL);
  });

  it('spec §5.4: the signal page BO and event ids come back exactly', () => {
    const { r } = restore(world, ckpt);
    expect(Object.keys(r.world.tasks[RESTORED]!.events)).toEqual(Object.keys(world.tasks[100]!.events));
    const handle = (w: World, pid: number) =>
      GET_IDR_HANDLE(contextOf<{ signal_handle: bigint }>(w, w.tasks[pid]!.kfd_process!).signal_handle);
    expect(handle(r.world, RESTORED)).toBe(handle(world, 100));
  });

  it('spec §5.4: a userptr BO is restored invalid and revalidated by the restore worker', () => {
    const { r } = restore(world, ckpt);
    const userptr = Object.entries(r.world.objects).find(
      ([, o]) => o.kind === 'kfd.bo' && (o.context as BoContext).pid === RESTORED && (o.context as BoContext).user_addr,
    )![0];
    expect(inState(r.world, userptr, 'live.pages.invalid')).toBe(true);
  });
});

describe('kernel-internal event signalling', () => {
  it('spec §5.2.2: a VM fault signals MEMORY events with exception data that CHECKPOINT saves', () => {
    const topo = { gpus: [{ gpu_id: 0x1002, render_minor: 128 }] };
    let w = step(createWorld(parseTopology(topo, [{ pid: 100, ptrace_parent: 99 }])), {
      pid: 100,
      call: 'open',
      args: { path: '/dev/kfd' },
    }).world;
    w = call(w, 100, 'AMDKFD_IOC_CREATE_EVENT', 3, { event_type: 'MEMORY', auto_reset: 0 }).world;
    const fault = call(w, undefined, 'kfd.vm_fault', undefined, { pid: 100, gpu_id: 0x1002, va: '0x7f0000001000' });
    expect(fault.ret).toBe(0);
    expect(fault.out.signaled).toBe(1);
    const id = Object.values(fault.world.tasks[100]!.events)[0]!;
    expect(inState(fault.world, id, 'signaled')).toBe(true);
    expect(contextOf<{ memory_exception_data: { va: bigint } }>(fault.world, id).memory_exception_data.va).toBe(
      0x7f0000001000n,
    );
    // No such GPU in the process → -EINVAL.
    expect(call(w, undefined, 'kfd.vm_fault', undefined, { pid: 100, gpu_id: 0x9999, va: 0 }).ret).toBe(-ERRNO.EINVAL);
  });
});
