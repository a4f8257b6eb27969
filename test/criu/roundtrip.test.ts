/** Round trip of the built-in scenario through the CRIU orchestration (spec §9.4, §9.5). */
import { describe, expect, it } from 'vitest';
import { gpuMap, remapOptionsFromEnv, setRestoreGpuMaps, topologyFromKfdImage } from '../../src/criu/remap.js';
import { processView, roundtrip } from '../../src/criu/roundtrip.js';
import '../../src/ioctls/all.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';
import { restoredDevices } from './restored-devices.js';
import { KFD_CRIU_OP } from '../../src/uapi/index.js';

describe('criu round trip', () => {
  it('spec §9.4/§9.5: dump → restore of the built-in scenario is equivalent', () => {
    const r = roundtrip(scenarioWorld(), APP);
    if (!r.equivalent)
      console.log(
        r.differences.slice(0, 30),
        r.restore?.calls.map((c) => `${c.stage} ${c.pid} ${c.call} ${c.ret}`),
      );
    expect(r.dump.failure).toBeNull();
    expect(r.restore?.failure).toBeNull();
    expect(r.differences).toEqual([]);
  });
});

describe('criu round trip detects differences', () => {
  it('the compared view holds BOs with content, queues and events (the comparison is not vacuous)', () => {
    const r = roundtrip(scenarioWorld(), APP);
    const keys = Object.keys(processView(r.restored!, APP));
    expect(keys.some((k) => k.startsWith('queue '))).toBe(true);
    expect(keys.some((k) => k.startsWith('event '))).toBe(true);
    expect(keys.filter((k) => k.startsWith('gpu ')).length).toBe(2);
  });

  it('spec §9.4 h: a BO content lost in the pages image is a difference', () => {
    const r = roundtrip(scenarioWorld(), APP, {
      images: (i) => {
        const k = i.kfd[0]!;
        const idx = (k.contents ?? []).findIndex((c) => c && Object.keys(c).length > 0);
        expect(idx).toBeGreaterThanOrEqual(0);
        k.contents![idx] = {};
        return i;
      },
    });
    expect(r.equivalent).toBe(false);
    expect(r.differences.some((d) => d.includes('content'))).toBe(true);
  });

  it('spec §9.5: restore issues KFD RESTORE in the restored task and RESUME by the CRIU master after COMPLETE', () => {
    const r = roundtrip(scenarioWorld(), APP);
    const calls = r.restore!.calls;
    const restore = calls.findIndex((c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.stage === 'RESTORE_EXT_FILE');
    const resume = calls.findIndex(
      (c) => c.call === 'AMDKFD_IOC_CRIU_OP' && c.stage === 'RESUME_DEVICES_LATE' && c.args.op === KFD_CRIU_OP.RESUME,
    );
    expect(calls[restore]!.pid).toBe(APP);
    expect(resume).toBeGreaterThan(restore);
    expect(calls[resume]!.pid).not.toBe(APP);
    expect(calls[calls.length - 1]!.call).toBe('kfd.restore_userptr_worker');
  });
});

describe('criu round trip onto other GPUs (spec §9.10)', () => {
  it('spec §9.5 step 3.3, §9.10: restored onto GPUs with other ids, the restore maps them (set_restore_gpu_maps) and the application sees the same state under its user gpu ids', () => {
    const world = scenarioWorld();
    const NEW = [0x7001, 0x7002];
    const topology = { ...world.topology, gpus: world.topology.gpus.map((g, i) => ({ ...g, gpu_id: NEW[i]! })) };
    const r = roundtrip(world, APP, { topology });
    expect(r.restore?.failure).toBeNull();
    expect(r.differences).toEqual([]);
    // the map is set_restore_gpu_maps' of the image's device entries onto the new GPUs
    const src = topologyFromKfdImage(r.dump.images.kfd[0]!.kfd);
    const expected = gpuMap(setRestoreGpuMaps(src, { nodes: src.nodes.map((n, i) => ({ ...n, gpu_id: NEW[i]! })) }));
    expect([...expected.values()].sort()).toEqual(NEW);
    const devices = restoredDevices(r);
    expect(devices.length).toBe(2);
    for (const d of devices) expect(d.actual_gpu_id).toBe(expected.get(d.user_gpu_id));
    // the restored pdds run on the new GPUs under the old (user) ids
    const t = r.restored!.tasks[APP]!;
    const pdds = t.pdds.map((p) => r.restored!.objects[p]!.context as { gpu_id: number; user_gpu_id: number });
    for (const p of pdds) expect(expected.get(p.user_gpu_id)).toBe(p.gpu_id);
  });

  it('spec §9.10: device_properties_match decides the map, not the ids: GPUs whose VRAM sizes are swapped between the ids restore crossed', () => {
    const base = scenarioWorld();
    const [a, b] = base.topology.gpus.map((g) => g.gpu_id) as [number, number];
    const sized = (w: typeof base.topology, small: number): typeof base.topology => ({
      ...w,
      gpus: w.gpus.map((g) => ({ ...g, vram_size: g.gpu_id === small ? 16n << 30n : 32n << 30n })),
    });
    const world = scenarioWorld();
    world.topology = sized(world.topology, a);
    // the local system: the same ids, but the small GPU is b now
    const r = roundtrip(world, APP, { topology: sized(world.topology, b) });
    expect(r.restore?.failure).toBeNull();
    expect(r.differences).toEqual([]);
    const map = new Map(restoredDevices(r).map((d) => [d.user_gpu_id, d.actual_gpu_id]));
    expect(map).toEqual(
      new Map([
        [a, b],
        [b, a],
      ]),
    );
  });

  it('spec §9.5 step 3.3, §9.10: the map is made even with identical ids — a local system with one GPU more fails ("Failed to map GPUs")', () => {
    const world = scenarioWorld();
    const extra = { ...world.topology.gpus[0]!, gpu_id: 0x9000, render_minor: 200 };
    const r = roundtrip(world, APP, { topology: { ...world.topology, gpus: [...world.topology.gpus, extra] } });
    expect(r.equivalent).toBe(false);
    expect(r.restore?.failure).toBe('Failed to map GPUs: Number of devices mismatch (checkpointed:2 local:3)');
    // nothing was restored: CRIU_OP(RESTORE) was never issued
    expect(r.restore!.calls.some((c) => c.call === 'AMDKFD_IOC_CRIU_OP')).toBe(false);
  });

  it('spec §9.10: a local GPU with less VRAM, same id, fails the map unless KFD_VRAM_SIZE_CHECK=0', () => {
    const world = scenarioWorld();
    const topology = {
      ...world.topology,
      gpus: world.topology.gpus.map((g) => ({ ...g, vram_size: g.vram_size / 2n })),
    };
    const strict = roundtrip(world, APP, { topology });
    expect(strict.restore?.failure).toMatch(/^Failed to map GPUs: /);
    const lax = roundtrip(world, APP, { topology, remap: remapOptionsFromEnv({ KFD_VRAM_SIZE_CHECK: '0' }) });
    expect(lax.restore?.failure).toBeNull();
    expect(restoredDevices(lax).every((d) => d.actual_gpu_id === d.user_gpu_id)).toBe(true);
  });

  it('spec §9.10: vram_public must be equal — a local GPU without a large BAR, same id, fails the map', () => {
    const world = scenarioWorld();
    const topology = { ...world.topology, gpus: world.topology.gpus.map((g) => ({ ...g, large_bar: !g.large_bar })) };
    expect(roundtrip(world, APP, { topology }).restore?.failure).toMatch(/^Failed to map GPUs: /);
  });

  it('spec §9.2: dumped again after a restore onto other GPUs, the images keep the user gpu ids, and restore onto the first GPUs', () => {
    const world = scenarioWorld();
    const NEW = new Map(world.topology.gpus.map((g, i) => [g.gpu_id, 0x7001 + i]));
    const moved = roundtrip(world, APP, {
      topology: { ...world.topology, gpus: world.topology.gpus.map((g) => ({ ...g, gpu_id: NEW.get(g.gpu_id)! })) },
    });
    expect(moved.restore?.failure).toBeNull();
    const renderIds = (r: typeof moved) => r.dump.images.renderD.map((i) => i.renderD.gpu_id).sort();
    // The first dump's render-node images name the GPUs by the ids the application knows.
    expect(renderIds(moved).length).toBeGreaterThan(0);
    // Back onto the first topology: "kfd_device_entry.gpu_id / kfd_bo_entry.gpu_id /
    // criu_render_node.gpu_id are **user** gpu ids", so the second dump names the same ids
    // although the process now runs on 0x7001 and 0x7002 (checkpoint_maps: actual → user).
    const back = roundtrip(moved.restored!, APP, { topology: world.topology });
    expect(renderIds(back)).toEqual(renderIds(moved));
    expect(back.dump.images.kfd[0]!.kfd.device_entries.map((e) => e.gpu_id).sort()).toEqual(
      world.topology.gpus.map((g) => g.gpu_id).sort(),
    );
    expect(back.restore?.failure).toBeNull();
    expect(back.differences).toEqual([]);
  });
});
