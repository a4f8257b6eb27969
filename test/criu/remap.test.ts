/**
 * GPU remapping on restore (spec §9.10): the nine cases of CRIU's
 * plugins/amdgpu/tests/test_topology_remap.c (spec §10.1) with their expected outcomes, plus the
 * environment switches. GPU ids follow the test's WXYZ scheme: W = A source / B destination,
 * Y = hive, Z = GPU; device ids 0xD000 / 0xD001. CPUs have cpu_cores_count 1 and no other
 * property is set, as in the C test.
 */
import { describe, expect, it } from 'vitest';
import {
  devicePropertiesMatch,
  gpuMap,
  type RemapOptions,
  type RemapResult,
  remapOptionsFromEnv,
  setRestoreGpuMaps,
  topologyFromKfdImage,
  type Topology,
  type TopoNode,
} from '../../src/criu/remap.js';
import { InputError } from '../../src/errors.js';
import { sampleKfd } from './images-fixtures.js';

const PCIE = 2;
const XGMI = 11;

/** A topology under construction: nodes by node id, directed links. */
class Sys {
  readonly nodes: TopoNode[] = [];
  cpu(id: number): this {
    this.nodes.push({ node_id: id, gpu_id: 0, cpu_cores_count: 1, iolinks: [] });
    return this;
  }
  gpu(id: number, gpu_id: number, device_id = 0): this {
    this.nodes.push({ node_id: id, gpu_id, device_id, iolinks: [] });
    return this;
  }
  node(id: number): TopoNode {
    return this.nodes.find((n) => n.node_id === id)!;
  }
  /** A directed iolink `from → to`. */
  link(from: number, type: number, to: number): this {
    this.node(from).iolinks!.push({ type, node_to_id: to });
    return this;
  }
  get topology(): Topology {
    return { nodes: this.nodes };
  }
}

/**
 * Two hives of 4 GPUs (nodes 2–5: W000–W003, nodes 6–9: W014–W017) behind two CPUs (nodes 0, 1),
 * GPU i linked to CPU i&1. `cpuLinks(i)`: CPU (i&1) also links back to GPU i (bi-directional).
 * `pcie(i, peer)`: GPU i has a PCIe link to node `peer` of the other hive.
 */
function twoHives(
  base: number,
  dev: [number, number],
  cpuLinks: (i: number) => boolean,
  pcie: (i: number, peer: number) => boolean,
): Sys {
  const s = new Sys().cpu(0).cpu(1);
  for (let i = 0; i < 8; i++) s.gpu(i + 2, base + (i < 4 ? i : 0x10 + i), dev[i < 4 ? 0 : 1]);
  for (let i = 0; i < 8; i++) {
    s.link(i + 2, PCIE, i & 1);
    if (cpuLinks(i)) s.link(i & 1, PCIE, i + 2);
    const hive = i < 4 ? 2 : 6;
    const other = i < 4 ? 6 : 2;
    for (let j = 1; j < 4; j++) s.link(i + 2, XGMI, ((i + j) % 4) + hive);
    for (let j = 4; j < 8; j++) {
      const peer = ((i + j) % 4) + other;
      if (pcie(i, peer)) s.link(i + 2, PCIE, peer);
    }
  }
  return s;
}

/** Five GPUs (nodes 1–5, W000–W004) and one CPU linked both ways; GPU i links to the GPU nodes < `below`. */
function fiveGpus(base: number, devs: number[], below: number): Sys {
  const s = new Sys().cpu(0);
  for (let i = 0; i < 5; i++) {
    s.gpu(i + 1, base + i, devs[i]);
    s.link(i + 1, PCIE, 0).link(0, PCIE, i + 1);
  }
  for (let i = 0; i < 5; i++) {
    for (let j = 1; j < 5; j++) {
      const peer = ((i + j) % 5) + 1;
      if (peer < below) s.link(i + 1, PCIE, peer);
    }
  }
  return s;
}

/**
 * test_topology_remap's verify_maps (spec §10.1: every CPU and every GPU got exactly one
 * mapping), plus what §9.10 implies of any mapping: a bijection between the GPUs, and equal
 * device ids on both sides (device_properties_match).
 */
function expectValidMaps(r: RemapResult, src: Sys, dest: Sys): Map<number, number> {
  expect(r.ok, r.ok ? '' : r.reason).toBe(true);
  if (!r.ok) throw new Error('unreachable');
  const srcGpus = src.nodes.filter((n) => n.gpu_id !== 0);
  const cpus = src.nodes.filter((n) => n.gpu_id === 0);
  expect(r.gpu_maps.map((m) => m.src).sort()).toEqual(srcGpus.map((n) => n.gpu_id).sort());
  expect(new Set(r.gpu_maps.map((m) => m.dest)).size).toBe(srcGpus.length);
  expect(r.cpu_maps.map((m) => m.src).sort()).toEqual(cpus.map((n) => n.node_id).sort());
  expect(new Set(r.cpu_maps.map((m) => m.dest)).size).toBe(cpus.length);
  const byGpu = (s: Sys, g: number) => s.nodes.find((n) => n.gpu_id === g)!;
  for (const m of r.gpu_maps) expect(byGpu(dest, m.dest).device_id).toBe(byGpu(src, m.src).device_id);
  return gpuMap(r);
}

const HIVE0 = (w: number) => [0, 1, 2, 3].map((z) => w + z);
const HIVE1 = (w: number) => [4, 5, 6, 7].map((z) => w + 0x10 + z);

describe('spec §10.1 test_topology_remap', () => {
  it('spec §10.1 test_topology_remap case 0: 8 GPUs in 2 XGMI hives of different device ids, full P2P-PCIe, destination hives swapped → SUCCESS, hive 0 → hive 1 and hive 1 → hive 0', () => {
    const all = () => true;
    const src = twoHives(0xa000, [0xd000, 0xd001], all, all);
    const dest = twoHives(0xb000, [0xd001, 0xd000], all, all);
    const m = expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
    for (const g of HIVE0(0xa000)) expect(HIVE1(0xb000)).toContain(m.get(g));
    for (const g of HIVE1(0xa000)) expect(HIVE0(0xb000)).toContain(m.get(g));
  });

  // Partial P2P-PCIe: hive 0 GPUs link to nodes 6, 7; the last 2 GPUs (no large BAR) have no CPU link back.
  const partial = (i: number) => i < 6;
  const partialPcie = (_i: number, peer: number) => peer < 8;

  it('spec §10.1 test_topology_remap case 1: 8 GPUs in 2 hives of one device id, GPUs 0–5 with P2P-PCIe, 6–7 without; destination = source → SUCCESS', () => {
    const src = twoHives(0xa000, [0xd000, 0xd000], partial, partialPcie);
    const dest = twoHives(0xb000, [0xd000, 0xd000], partial, partialPcie);
    expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
  });

  it('spec §10.1 test_topology_remap case 2: as case 1 with different device ids per hive and the destination hives swapped → FAIL (the P2P pattern forces hive 0 → 1 but the device ids differ)', () => {
    const src = twoHives(0xa000, [0xd000, 0xd001], partial, partialPcie);
    const dest = twoHives(0xb000, [0xd001, 0xd000], partial, partialPcie);
    const r = setRestoreGpuMaps(src.topology, dest.topology);
    expect(r).toMatchObject({ ok: false, errno: -22 });
  });

  /** Case 3/4: no GPU-GPU PCIe; CPU 0 / CPU 1 link back to one GPU each (the only bi-directional CPU links). */
  function cpuPair(base: number, back0: number, back1: number): Sys {
    const s = twoHives(
      base,
      [0xd000, 0xd001],
      () => false,
      () => false,
    );
    return s.link(0, PCIE, back0).link(1, PCIE, back1);
  }

  it('spec §10.1 test_topology_remap case 3: 2 hives (0xD000/0xD001), one GPU per hive with a bi-directional PCIe link at another index in source (A002, A017) and destination (B000, B015) → SUCCESS with A002→B000 and A017→B015', () => {
    const src = cpuPair(0xa000, 4, 9); // node 4 = A002 (CPU 0), node 9 = A017 (CPU 1)
    const dest = cpuPair(0xb000, 2, 7); // node 2 = B000 (CPU 0), node 7 = B015 (CPU 1)
    const m = expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
    expect(m.get(0xa002)).toBe(0xb000);
    expect(m.get(0xa017)).toBe(0xb015);
  });

  it('spec §10.1 test_topology_remap case 4: as case 3 but the destination link of B014 is uni-directional (CPU 1 → B014, B014 → CPU 0) → FAIL', () => {
    const src = cpuPair(0xa000, 4, 9);
    const dest = cpuPair(0xb000, 2, 6); // node 6 = B014, whose own link goes to CPU 0
    expect(setRestoreGpuMaps(src.topology, dest.topology)).toMatchObject({ ok: false, errno: -22 });
  });

  it('spec §10.1 test_topology_remap case 5: 4 GPUs in one hive + 4 without XGMI, all with P2P-PCIe; destination = source → SUCCESS', () => {
    const build = (base: number) => {
      const s = twoHives(
        base,
        [0xd000, 0xd000],
        () => true,
        () => true,
      );
      // The second four have no XGMI bridge: their XGMI links become PCIe links.
      for (const n of s.nodes.filter((x) => x.node_id >= 6)) {
        for (const l of n.iolinks!) if (l.type === XGMI) l.type = PCIE;
      }
      return s;
    };
    const src = build(0xa000);
    const dest = build(0xb000);
    expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
  });

  it('spec §10.1 test_topology_remap case 6: 5 GPUs, no XGMI, first 4 with P2P-PCIe, device ids mixed (A001/A002 swapped relative to the destination) → SUCCESS with A001→B002 and A002→B001', () => {
    const src = fiveGpus(0xa000, [0xd000, 0xd000, 0xd001, 0xd000, 0xd001], 5);
    const dest = fiveGpus(0xb000, [0xd000, 0xd001, 0xd000, 0xd000, 0xd001], 5);
    const m = expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
    expect(m.get(0xa001)).toBe(0xb002);
    expect(m.get(0xa002)).toBe(0xb001);
  });

  it('spec §10.1 test_topology_remap case 7: source hive of 4 + 4 GPUs without XGMI; destination two hives of 4 (more capable) → SUCCESS', () => {
    const build = (base: number, secondHive: boolean) => {
      const s = new Sys().cpu(0).cpu(1);
      for (let i = 0; i < 8; i++) s.gpu(i + 2, base + (i < 4 ? i : 0x10 + i), 0xd000);
      for (let i = 0; i < 4; i++) {
        s.link(i + 2, PCIE, i & 1);
        for (let j = 1; j < 4; j++) s.link(i + 2, XGMI, ((i + j) % 4) + 2);
      }
      if (secondHive) for (let i = 4; i < 8; i++) for (let j = 1; j < 4; j++) s.link(i + 2, XGMI, ((i + j) % 4) + 6);
      return s;
    };
    const src = build(0xa000, false);
    const dest = build(0xb000, true);
    expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
  });

  it('spec §10.1 test_topology_remap case 8: 5 GPUs, source 3 bi-directional + 2 uni-directional P2P, destination 4 bi + 1 uni → SUCCESS', () => {
    const src = fiveGpus(0xa000, [0xd000, 0xd000, 0xd000, 0xd000, 0xd000], 4);
    const dest = fiveGpus(0xb000, [0xd000, 0xd000, 0xd000, 0xd000, 0xd000], 5);
    expectValidMaps(setRestoreGpuMaps(src.topology, dest.topology), src, dest);
  });
});

describe('spec §9.10: the remapping rules and switches', () => {
  const one = (props: Partial<TopoNode>, base: number) => {
    const s = new Sys().cpu(0).gpu(1, base, 0xd000).link(1, PCIE, 0).link(0, PCIE, 1);
    Object.assign(s.node(1), props);
    return s.topology;
  };
  const map = (a: Partial<TopoNode>, b: Partial<TopoNode>, opts?: RemapOptions) =>
    setRestoreGpuMaps(one(a, 0xa000), one(b, 0xb000), opts).ok;

  it('spec §9.10: equal properties must be equal (device_id, simd_count, vram_public, …)', () => {
    expect(map({}, {})).toBe(true);
    expect(map({ simd_count: 304 }, { simd_count: 320 })).toBe(false);
    expect(map({ device_id: 0xd000 }, { device_id: 0xd001 })).toBe(false);
    expect(map({ vram_public: 1 }, { vram_public: 0 })).toBe(false);
    expect(map({ num_cp_queues: 24 }, { num_cp_queues: 24 })).toBe(true);
  });

  const switches: [keyof RemapOptions, string, Partial<TopoNode>, Partial<TopoNode>][] = [
    ['vramSizeCheck', 'KFD_VRAM_SIZE_CHECK', { vram_size: 2n << 30n }, { vram_size: 1n << 30n }],
    ['numGwsCheck', 'KFD_NUM_GWS_CHECK', { num_gws: 64 }, { num_gws: 0 }],
    ['cachesCountCheck', 'KFD_CACHES_COUNT_CHECK', { caches_count: 227 }, { caches_count: 100 }],
    ['fwVersionCheck', 'KFD_FW_VER_CHECK', { fw_version: 78 }, { fw_version: 77 }],
    ['sdmaFwVersionCheck', 'KFD_SDMA_FW_VER_CHECK', { sdma_fw_version: 21 }, { sdma_fw_version: 20 }],
  ];
  for (const [key, env, bigger, smaller] of switches) {
    it(`spec §9.10: ${env} — the destination needs ≥ the source unless the check is off`, () => {
      expect(map(smaller, bigger)).toBe(true);
      expect(map(bigger, smaller)).toBe(false);
      expect(map(bigger, smaller, { [key]: false })).toBe(true);
      expect(map(bigger, smaller, remapOptionsFromEnv({ [env]: '0' }))).toBe(true);
      expect(map(bigger, smaller, remapOptionsFromEnv({ [env]: 'YES' }))).toBe(false);
    });
  }

  it('spec §9.10: KFD_CAPABILITY_CHECK — capability must be equal unless the check is off', () => {
    expect(map({ capability: 1 }, { capability: 3 })).toBe(false);
    expect(map({ capability: 1 }, { capability: 3 }, remapOptionsFromEnv({ KFD_CAPABILITY_CHECK: 'no' }))).toBe(true);
    expect(devicePropertiesMatch({ node_id: 0, gpu_id: 1 }, { node_id: 0, gpu_id: 2 })).toBe(true);
  });

  it('spec §9.10: KFD_NUMA_CHECK — GPUs of one NUMA node stay together unless the check is off', () => {
    // Source: two GPUs both on CPU 0 (bi-directional). Destination: one GPU on each CPU.
    const src = new Sys().cpu(0).cpu(1).gpu(2, 0xa000).gpu(3, 0xa001);
    src.link(2, PCIE, 0).link(0, PCIE, 2).link(3, PCIE, 0).link(0, PCIE, 3);
    const dest = new Sys().cpu(0).cpu(1).gpu(2, 0xb000).gpu(3, 0xb001);
    dest.link(2, PCIE, 0).link(0, PCIE, 2).link(3, PCIE, 1).link(1, PCIE, 3);
    expect(setRestoreGpuMaps(src.topology, dest.topology).ok).toBe(false);
    expect(setRestoreGpuMaps(src.topology, dest.topology, { numaCheck: false }).ok).toBe(true);
    expect(setRestoreGpuMaps(src.topology, dest.topology, remapOptionsFromEnv({ KFD_NUMA_CHECK: 'NO' })).ok).toBe(true);
  });

  it('spec §9.10: a bi-directional CPU link cannot be replaced by a uni-directional one, the reverse can', () => {
    const build = (base: number, back: boolean) => {
      const s = new Sys().cpu(0).gpu(1, base).link(1, PCIE, 0);
      return (back ? s.link(0, PCIE, 1) : s).topology;
    };
    expect(setRestoreGpuMaps(build(0xa000, true), build(0xb000, false)).ok).toBe(false);
    expect(setRestoreGpuMaps(build(0xa000, false), build(0xb000, true)).ok).toBe(true);
  });

  it('spec §9.10: a GPU needs at least as many valid iolinks on the destination', () => {
    const build = (base: number, peers: number) => {
      const s = new Sys()
        .cpu(0)
        .gpu(1, base)
        .gpu(2, base + 1);
      for (const g of [1, 2]) s.link(g, PCIE, 0).link(0, PCIE, g);
      if (peers > 0) s.link(1, PCIE, 2).link(2, PCIE, 1);
      return s.topology;
    };
    expect(setRestoreGpuMaps(build(0xa000, 1), build(0xb000, 0)).ok).toBe(false);
    expect(setRestoreGpuMaps(build(0xa000, 0), build(0xb000, 1)).ok).toBe(true);
  });

  it('spec §9.10: links to nodes outside the topology (masked by cgroups) are not counted', () => {
    const src = new Sys().cpu(0).gpu(1, 0xa000).link(1, PCIE, 0).link(0, PCIE, 1).link(1, PCIE, 7);
    const dest = new Sys().cpu(0).gpu(1, 0xb000).link(1, PCIE, 0).link(0, PCIE, 1);
    expect(setRestoreGpuMaps(src.topology, dest.topology).ok).toBe(true);
  });

  it('spec §9.10: XGMI hives are matched as groups (a hive cannot be split over two hives)', () => {
    const hive = (s: Sys, nodes: number[]) => {
      for (const a of nodes) for (const b of nodes) if (a !== b) s.link(a, XGMI, b);
    };
    const src = new Sys().gpu(1, 0xa000).gpu(2, 0xa001).gpu(3, 0xa002).gpu(4, 0xa003);
    hive(src, [1, 2, 3, 4]);
    const dest = new Sys().gpu(1, 0xb000).gpu(2, 0xb001).gpu(3, 0xb002).gpu(4, 0xb003);
    hive(dest, [1, 2]);
    hive(dest, [3, 4]);
    const r = setRestoreGpuMaps(src.topology, dest.topology);
    expect(r.ok).toBe(false);
  });

  it('the GPU count must match; more source hives than destination hives fails', () => {
    const a = new Sys().gpu(1, 0xa000).gpu(2, 0xa001);
    const b = new Sys().gpu(1, 0xb000);
    expect(setRestoreGpuMaps(a.topology, b.topology)).toMatchObject({
      ok: false,
      reason: /Number of devices mismatch/,
    });
    const h = new Sys().gpu(1, 0xa000).gpu(2, 0xa001).link(1, XGMI, 2).link(2, XGMI, 1);
    const n = new Sys().gpu(1, 0xb000).gpu(2, 0xb001);
    expect(setRestoreGpuMaps(h.topology, n.topology)).toMatchObject({ ok: false, reason: /xgmi groups mismatch/ });
    // The reverse (no hive restored onto a hive) is fine: case 7's "more capable" destination.
    expect(setRestoreGpuMaps(n.topology, h.topology).ok).toBe(true);
  });

  it('hive matching is greedy like the plugin; xgmiGroupBacktracking retries the next destination hive', () => {
    // Source hive 1 (2 GPUs, few links) fits both destination hives; source hive 2 (extra PCIe
    // links between its GPUs and hive 1) fits only destination hive 1. Greedy takes hive 1 first.
    const build = (base: number, extraOn: 'first' | 'second') => {
      const s = new Sys();
      for (let i = 0; i < 4; i++) s.gpu(i + 1, base + i, 0xd000);
      s.link(1, XGMI, 2).link(2, XGMI, 1).link(3, XGMI, 4).link(4, XGMI, 3);
      const rich = extraOn === 'first' ? [1, 2] : [3, 4];
      const other = extraOn === 'first' ? [3, 4] : [1, 2];
      for (const r of rich) for (const o of other) s.link(r, PCIE, o);
      return s;
    };
    const src = build(0xa000, 'second'); // the rich GPUs are in the second source hive
    const dest = build(0xb000, 'first'); // and in the first destination hive
    expect(setRestoreGpuMaps(src.topology, dest.topology).ok).toBe(false);
    const r = setRestoreGpuMaps(src.topology, dest.topology, { xgmiGroupBacktracking: true });
    const m = expectValidMaps(r, src, dest);
    expect([0xb000, 0xb001]).toContain(m.get(0xa002));
  });

  it('a kfd image is a source topology as it is (devinfo_to_topology): it maps onto a renumbered copy', () => {
    const kfd = sampleKfd();
    const dest = structuredClone(kfd.device_entries).map((d) => ({
      ...d,
      gpu_id: d.gpu_id === 0 ? 0 : d.gpu_id ^ 0xff,
    }));
    const r = setRestoreGpuMaps(topologyFromKfdImage(kfd), { nodes: dest });
    const m = gpuMap(r);
    for (const d of kfd.device_entries.filter((e) => e.gpu_id !== 0)) expect(m.get(d.gpu_id)).toBe(d.gpu_id ^ 0xff);
  });

  it('environment values other than 0/1/YES/NO and malformed topologies are bad input', () => {
    expect(() => remapOptionsFromEnv({ KFD_NUMA_CHECK: 'maybe' })).toThrow(InputError);
    expect(remapOptionsFromEnv({ KFD_FW_VER_CHECK: '1', OTHER: 'x' })).toEqual({ fwVersionCheck: true });
    const dup = new Sys().gpu(1, 0xa000).gpu(1, 0xa001);
    expect(() => setRestoreGpuMaps(dup.topology, dup.topology)).toThrow(
      /node_id: expected a node_id no other node has/,
    );
    const gdup = new Sys().gpu(1, 0xa000).gpu(2, 0xa000);
    expect(() => setRestoreGpuMaps(gdup.topology, gdup.topology)).toThrow(InputError);
    expect(() => setRestoreGpuMaps({ nodes: 3 } as never, { nodes: [] })).toThrow(InputError);
  });
});
