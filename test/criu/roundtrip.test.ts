/** Round trip of the built-in scenario through the CRIU orchestration (spec §9.4, §9.5). */
import { describe, expect, it } from 'vitest';
import { gpuMap, setRestoreGpuMaps, topologyFromKfdImage } from '../../src/criu/remap.js';
import { processView, roundtrip } from '../../src/criu/roundtrip.js';
import '../../src/ioctls/all.js';
import { APP } from '../../src/scenarios/rocm-two-gpus.js';
import { scenarioWorld } from '../mbt/adapters/criu-scenario.js';
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
  it('spec §9.10: restored onto GPUs with other ids (set_restore_gpu_maps), the application sees the same state under its user gpu ids', () => {
    const world = scenarioWorld();
    const first = roundtrip(world, APP);
    const kfd = first.dump.images.kfd[0]!.kfd;
    const src = topologyFromKfdImage(kfd);
    const NEW = [0x7001, 0x7002];
    const dest = {
      nodes: src.nodes.map((n) =>
        n.gpu_id === 0 ? n : { ...n, gpu_id: NEW[src.nodes.filter((m) => m.gpu_id).indexOf(n)]! },
      ),
    };
    const maps = setRestoreGpuMaps(src, dest);
    expect(maps.ok).toBe(true);
    const map = gpuMap(maps);
    expect([...map.values()].sort()).toEqual([...NEW].sort());
    const topology = {
      ...world.topology,
      gpus: world.topology.gpus.map((g) => ({ ...g, gpu_id: map.get(g.gpu_id)! })),
    };
    const r = roundtrip(world, APP, { gpuMap: map, topology });
    expect(r.restore?.failure).toBeNull();
    expect(r.differences).toEqual([]);
    // the restored pdds run on the new GPUs under the old (user) ids
    const t = r.restored!.tasks[APP]!;
    const pdds = t.pdds.map((p) => r.restored!.objects[p]!.context as { gpu_id: number; user_gpu_id: number });
    for (const p of pdds) expect(map.get(p.user_gpu_id)).toBe(p.gpu_id);
  });

  it('spec §9.2: dumped again after a restore onto other GPUs, the images keep the user gpu ids, and restore onto the first GPUs', () => {
    const world = scenarioWorld();
    const NEW = new Map(world.topology.gpus.map((g, i) => [g.gpu_id, 0x7001 + i]));
    const moved = roundtrip(world, APP, {
      gpuMap: NEW,
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

  it('spec §9.5 step 3.3: a GPU the map does not name fails the restore ("Failed to map GPUs")', () => {
    const world = scenarioWorld();
    const topology = { ...world.topology, gpus: world.topology.gpus.map((g, i) => ({ ...g, gpu_id: 0x9000 + i })) };
    const r = roundtrip(world, APP, { topology });
    expect(r.equivalent).toBe(false);
    expect(r.restore?.failure).toMatch(/Failed to map GPUs/);
  });
});
