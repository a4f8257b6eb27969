/**
 * A render node dumped before any /dev/kfd file (spec §9.8 "Dump of a render-node fd" step 3:
 * `gpu_id = checkpoint_maps[topology node of this minor]`): checkpoint_maps is filled by the
 * /dev/kfd files dumped so far (save_devices), so the plugin finds no gpu_id and fails the dump
 * with -ENODEV ("Failed to find valid gpu_id for the device", amdgpu_plugin_drm.c; CRIU issue
 * #2664). Until session 11 the model fell back to the device's own id, as a fork of the plugin
 * does.
 */
import { describe, expect, it } from 'vitest';
import { APP, CriuWorld, GPU_A, PEER } from '../mbt/adapters/criu-world.js';

const FAILURE = `Failed to find valid gpu_id for the device = ${GPU_A}`;

/** The criu.dump of `pids` (root first), whatever it returns. */
function dump(w: CriuWorld, pids: number[]) {
  const [pid, ...rest] = pids;
  return w.call(undefined, 'criu.dump', { pid, pids: rest }, undefined, null);
}
const issued = (r: ReturnType<typeof dump>) => r.out.issued as { call: string; args: { op?: unknown } }[];

describe('spec §9.8: a render node dumped before any /dev/kfd file', () => {
  it('spec §9.8 step 3: render node at fd 3, /dev/kfd at fd 4 — the dump fails at the render node, before any CRIU_OP', () => {
    const w = new CriuWorld();
    const a = w.render(GPU_A); // 3
    const kfd = w.open('/dev/kfd'); // 4
    w.call(APP, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: a, gpu_id: GPU_A }, kfd);
    w.gemCreate(a);
    const r = dump(w, [APP]);
    expect(r.ret).toBe(-5);
    expect(r.out.failure).toBe(FAILURE);
    expect(issued(r).some((c) => c.call === 'AMDKFD_IOC_CRIU_OP')).toBe(false);
  });

  it('spec §9.8 step 3, §8.3: a process with a render node and no /dev/kfd cannot be dumped (render-node-only CRIU is an RFC)', () => {
    const w = new CriuWorld();
    w.gemCreate(w.render(GPU_A));
    const r = dump(w, [APP]);
    expect(r.ret).toBe(-5);
    expect(r.out.failure).toBe(FAILURE);
  });

  it('spec §9.4 g, §9.8 step 3: checkpoint_maps is the dump’s — a task’s render node before its own /dev/kfd dumps when an earlier task’s /dev/kfd knows the GPU, under the user id', () => {
    const w = new CriuWorld();
    w.open('/dev/kfd'); // the application's, dumped first
    const a = w.render(GPU_A, PEER); // 3
    const kfd = w.open('/dev/kfd', PEER); // 4
    w.call(PEER, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: a, gpu_id: GPU_A }, kfd);
    w.gemCreate(a, PEER);
    const r = dump(w, [APP, PEER]);
    expect(r.out.failure).toBeUndefined();
    expect(r.ret).toBe(0);
    // and the other way round, the peer first, its render node finds no map
    const first = new CriuWorld();
    first.open('/dev/kfd');
    const b = first.render(GPU_A, PEER);
    first.gemCreate(b, PEER);
    first.open('/dev/kfd', PEER);
    expect(dump(first, [PEER, APP]).out.failure).toBe(FAILURE);
  });
});
