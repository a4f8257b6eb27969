/**
 * XGMI hives from the topology (`hive_id`, docs/log-format.md) through CRIU (spec §9.4 g,
 * §9.10): a dump records each GPU's hive and its XGMI links to the other GPUs of its hive in the
 * device entries, and the restore's set_restore_gpu_maps keeps a hive together
 * (match_xgmi_groups) where the GPUs' order alone would map it elsewhere.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headerGpuOfEntry } from '../../src/criu/restore-maps.js';
import { roundtrip } from '../../src/criu/roundtrip.js';
import { TOPO_IOLINK_TYPE } from '../../src/criu/images/index.js';
import '../../src/ioctls/all.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import type { World } from '../../src/world/types.js';
import { restoredDevices } from './restored-devices.js';

const APP = 100;
const [A, B, C] = [0x1a01, 0x1b02, 0x1c03];
const [X, Y, Z] = [0x2a01, 0x2b02, 0x2c03];
const HIVE = '0xfeed';

type Gpu = { gpu_id: number; render_minor: number; hive_id?: string };
const gpu = (gpu_id: number, i: number, hive?: string): Gpu => ({
  gpu_id,
  render_minor: 128 + i,
  ...(hive ? { hive_id: hive } : {}),
});

/** A process with a VRAM BO on each GPU of `gpus`: GPU A alone, B and C one hive when `hives`. */
function application(hives: boolean): World {
  const gpus = [gpu(A, 0), gpu(B, 1, hives ? HIVE : undefined), gpu(C, 2, hives ? HIVE : undefined)];
  const lines: object[] = [
    { gpucr: 1, topology: { gpus }, processes: [{ pid: APP, ptrace_parent: 99 }] },
    { pid: APP, call: 'open', args: { path: '/dev/kfd' } },
    ...gpus.map((g) => ({ pid: APP, call: 'open', args: { path: `/dev/dri/renderD${g.render_minor}` } })),
    ...gpus.map((g, i) => ({
      pid: APP,
      call: 'AMDKFD_IOC_ACQUIRE_VM',
      fd: 3,
      args: { drm_fd: 4 + i, gpu_id: g.gpu_id },
    })),
    ...gpus.map((g, i) => ({
      pid: APP,
      call: 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
      fd: 3,
      args: { va_addr: `0x7f00${i}0000000`, size: 4096, gpu_id: g.gpu_id, flags: ['VRAM', 'WRITABLE'] },
    })),
  ];
  const { header, events } = readLog(lines.map((l) => JSON.stringify(l)).join('\n'), 'hive');
  return replay(header, events, { assertions: false }).world;
}

/** The machine restored onto: X and Y one hive (when `hives`), Z alone. */
function destination(w: World, hives: boolean): World['topology'] {
  const ids = [X, Y, Z];
  return {
    ...w.topology,
    gpus: w.topology.gpus.map((g, i) => {
      const { hive_id: _, ...rest } = g;
      return { ...rest, gpu_id: ids[i]!, ...(hives && i < 2 ? { hive_id: 0xbeefn } : {}) };
    }),
  };
}

describe('XGMI hives through dump and restore (spec §9.4 g, §9.10)', () => {
  it('the dump records each GPU’s hive and an XGMI link to every other GPU of it', () => {
    const r = roundtrip(application(true), APP);
    const entries = r.dump.images.kfd[0]!.kfd.device_entries;
    const byGpu = new Map(entries.map((e) => [e.gpu_id, e]));
    const node = (g: number) => byGpu.get(g)!.node_id;
    expect(byGpu.get(A)!.hive_id).toBe(0n);
    expect(byGpu.get(A)!.iolinks).toEqual([]);
    expect(byGpu.get(B)!.hive_id).toBe(0xfeedn);
    expect(byGpu.get(B)!.iolinks).toEqual([{ type: TOPO_IOLINK_TYPE.XGMI, node_to_id: node(C) }]);
    expect(byGpu.get(C)!.iolinks).toEqual([{ type: TOPO_IOLINK_TYPE.XGMI, node_to_id: node(B) }]);
    // sysfs counts the links it lists: io_links_count follows them unless the header gives it
    expect(entries.map((e) => e.io_links_count)).toEqual(entries.map((e) => e.iolinks.length));
    // restored onto the same machine, it is the same process
    expect(r.restore?.failure).toBeNull();
    expect(r.differences).toEqual([]);
  });

  it('the restore maps a hive onto a hive (match_xgmi_groups), not in the GPUs’ order', () => {
    const inOrder = roundtrip(application(false), APP, { topology: destination(application(false), false) });
    const mapOf = (r: typeof inOrder) => new Map(restoredDevices(r).map((d) => [d.user_gpu_id, d.actual_gpu_id]));
    expect(inOrder.restore?.failure).toBeNull();
    expect(mapOf(inOrder)).toEqual(
      new Map([
        [A, X],
        [B, Y],
        [C, Z],
      ]),
    );
    const world = application(true);
    const hives = roundtrip(world, APP, { topology: destination(world, true) });
    expect(hives.restore?.failure).toBeNull();
    expect(mapOf(hives)).toEqual(
      new Map([
        [B, X],
        [C, Y],
        [A, Z],
      ]),
    );
  });

  it('a restore on the dumping machine from the images alone (gpucr restore without gpucr-core.json) gets the hives back', () => {
    const world = application(true);
    const entries = roundtrip(world, APP).dump.images.kfd[0]!.kfd.device_entries;
    const gpus = entries.map(headerGpuOfEntry);
    expect(gpus.map((g) => g.hive_id)).toEqual([undefined, HIVE, HIVE]);
    const { header } = readLog(JSON.stringify({ gpucr: 1, topology: { gpus } }), 'h');
    expect(header.topology.gpus.map((g) => g.hive_id)).toEqual(world.topology.gpus.map((g) => g.hive_id));
  });

  it('docs/examples/criu-xgmi-hive.jsonl: SET_PLACEMENT succeeds until the BO is mapped on the other GPU of its hive, then -EINVAL; the dump and restore succeed', () => {
    const text = readFileSync(new URL('../../docs/examples/criu-xgmi-hive.jsonl', import.meta.url), 'utf8');
    const { header, events } = readLog(text, 'criu-xgmi-hive.jsonl');
    expect(header.topology.gpus.map((g) => g.hive_id)).toEqual([0x5a5a0001n, 0x5a5a0001n]);
    const at = (line: number) => events.find((e) => e.line === line)!;
    // op 1: AMDGPU_GEM_OP_SET_PLACEMENT
    expect([10, 12].map((l) => [at(l).call, (at(l).args as { op: number }).op, at(l).ret])).toEqual([
      ['DRM_IOCTL_AMDGPU_GEM_OP', 1, 0],
      ['DRM_IOCTL_AMDGPU_GEM_OP', 1, -22],
    ]);
    expect(at(11).call).toBe('AMDKFD_IOC_MAP_MEMORY_TO_GPU');
    expect(events.filter((e) => e.call.startsWith('criu.')).map((e) => [e.call, e.ret])).toEqual([
      ['criu.dump', 0],
      ['criu.restore', 0],
    ]);
    // what the lines assert is what the model does
    expect(replay(header, events).ok).toBe(true);
  });

  it('a hive restored onto a machine without one: "Failed to map GPUs"', () => {
    const world = application(true);
    const r = roundtrip(world, APP, { topology: destination(world, false) });
    expect(r.restore?.failure).toMatch(/^Failed to map GPUs: /);
  });
});
