/**
 * GPU remapping on restore (spec §9.10): every property `device_properties_match` compares,
 * one at a time. The list is taken from the spec text, not from the model (remap-devices.ts):
 *
 *   "`device_properties_match()` requires equality of simd_count, mem_banks_count,
 *   io_links_count, max_waves_per_simd, lds_size_in_kb, wave_front_size, array_count,
 *   simd_arrays_per_engine, cu_per_simd_array, simd_per_cu, max_slots_scratch_cu, vendor_id,
 *   device_id, num_sdma_engines, num_sdma_xgmi_engines, num_sdma_queues_per_engine,
 *   num_cp_queues, vram_public, and (each switchable) capability equal, vram_size ≤, num_gws ≤,
 *   caches_count ≤, fw_version ≤, sdma_fw_version ≤ on the destination."
 *
 * and the switches: "`KFD_FW_VER_CHECK`, `KFD_SDMA_FW_VER_CHECK`, `KFD_CACHES_COUNT_CHECK`,
 * `KFD_NUM_GWS_CHECK`, `KFD_VRAM_SIZE_CHECK`, … `KFD_CAPABILITY_CHECK` (all default enabled;
 * values 0/1/YES/NO)".
 *
 * Each case is one CPU and one GPU linked both ways, on both sides; the destination GPU differs
 * from the source GPU in a single property.
 */
import { describe, expect, it } from 'vitest';
import { type DeviceProperties, remapOptionsFromEnv, setRestoreGpuMaps, type TopoNode } from '../../src/criu/remap.js';

const PCIE = 2;

/** Spec §9.10: the properties that must be equal. */
const SPEC_EQUAL = [
  'simd_count',
  'mem_banks_count',
  'io_links_count',
  'max_waves_per_simd',
  'lds_size_in_kb',
  'wave_front_size',
  'array_count',
  'simd_arrays_per_engine',
  'cu_per_simd_array',
  'simd_per_cu',
  'max_slots_scratch_cu',
  'vendor_id',
  'device_id',
  'num_sdma_engines',
  'num_sdma_xgmi_engines',
  'num_sdma_queues_per_engine',
  'num_cp_queues',
  'vram_public',
] as const satisfies readonly (keyof DeviceProperties)[];

/** Spec §9.10: the switchable checks, with the environment variable that switches each off. */
const SPEC_SWITCHABLE = [
  ['capability', '=', 'KFD_CAPABILITY_CHECK'],
  ['vram_size', '≤', 'KFD_VRAM_SIZE_CHECK'],
  ['num_gws', '≤', 'KFD_NUM_GWS_CHECK'],
  ['caches_count', '≤', 'KFD_CACHES_COUNT_CHECK'],
  ['fw_version', '≤', 'KFD_FW_VER_CHECK'],
  ['sdma_fw_version', '≤', 'KFD_SDMA_FW_VER_CHECK'],
] as const satisfies readonly (readonly [keyof DeviceProperties, '=' | '≤', string])[];

/** A realistic GPU (MI200-like), every listed property set and non-zero. */
const BASE: DeviceProperties = {
  simd_count: 416,
  mem_banks_count: 1,
  io_links_count: 1,
  max_waves_per_simd: 8,
  lds_size_in_kb: 64,
  wave_front_size: 64,
  array_count: 8,
  simd_arrays_per_engine: 1,
  cu_per_simd_array: 16,
  simd_per_cu: 4,
  max_slots_scratch_cu: 32,
  vendor_id: 0x1002,
  device_id: 0x740f,
  num_sdma_engines: 2,
  num_sdma_xgmi_engines: 3,
  num_sdma_queues_per_engine: 8,
  num_cp_queues: 24,
  vram_public: 1,
  capability: 0x2b8e4280,
  vram_size: 64n << 30n,
  num_gws: 64,
  caches_count: 235,
  fw_version: 78,
  sdma_fw_version: 20,
};

/** One CPU (node 0) and one GPU (node 1, `gpu_id`) with `props`, linked both ways by PCIe. */
function system(gpu_id: number, props: Partial<TopoNode> & Record<string, unknown>) {
  const cpu: TopoNode = { node_id: 0, gpu_id: 0, cpu_cores_count: 64, iolinks: [{ type: PCIE, node_to_id: 1 }] };
  const gpu: TopoNode = { node_id: 1, gpu_id, iolinks: [{ type: PCIE, node_to_id: 0 }], ...BASE, ...props };
  return { nodes: [cpu, gpu] };
}

/** Restores a source GPU with BASE + `src` onto a destination GPU with BASE + `dest`. */
function remap(
  src: Partial<TopoNode> & Record<string, unknown>,
  dest: Partial<TopoNode> & Record<string, unknown>,
  env: Record<string, string> = {},
) {
  return setRestoreGpuMaps(system(0xa000, src), system(0xb000, dest), remapOptionsFromEnv(env));
}

/** A value of property `k` other than BASE's: one more (vram_public: the flag cleared). */
function other(k: keyof DeviceProperties): Partial<TopoNode> {
  if (k === 'vram_public') return { vram_public: 0 };
  const v = BASE[k];
  return { [k]: typeof v === 'bigint' ? v + 1n : Number(v) + 1 };
}

const FAILED = { ok: false, errno: -22 };

describe('spec §9.10: device_properties_match, property by property', () => {
  it('spec §9.10: control — a destination GPU with all properties equal to the source maps', () => {
    expect(remap({}, {})).toEqual({
      ok: true,
      gpu_maps: [{ src: 0xa000, dest: 0xb000 }],
      cpu_maps: [{ src: 0, dest: 0 }],
    });
  });

  for (const k of SPEC_EQUAL) {
    it(`spec §9.10: ${k} must be equal — a destination GPU differing only in ${k} does not map`, () => {
      expect(remap({}, other(k)), `destination ${k} differs`).toMatchObject(FAILED);
      expect(remap(other(k), {}), `source ${k} differs`).toMatchObject(FAILED);
    });
  }

  for (const [k, rel] of SPEC_SWITCHABLE) {
    if (rel === '=') {
      it(`spec §9.10: ${k} must be equal (check on by default) — a difference either way does not map`, () => {
        expect(remap({}, other(k)), `destination ${k} larger`).toMatchObject(FAILED);
        expect(remap(other(k), {}), `destination ${k} smaller`).toMatchObject(FAILED);
      });
    } else {
      it(`spec §9.10: ${k} ≤ on the destination (check on by default) — a smaller destination ${k} does not map, a larger one does`, () => {
        expect(remap(other(k), {}), `destination ${k} smaller`).toMatchObject(FAILED);
        expect(remap({}, other(k)).ok, `destination ${k} larger`).toBe(true);
      });
    }
  }
});

describe('spec §9.10: properties that are not compared', () => {
  for (const [k, rel, env] of SPEC_SWITCHABLE) {
    it(`spec §9.10: ${env}=0 — ${k} is not compared: a difference that fails with the check on maps`, () => {
      const [src, dest] = rel === '=' ? [{}, other(k)] : [other(k), {}];
      expect(remap(src, dest, { [env]: '1' })).toMatchObject(FAILED);
      expect(remap(src, dest, { [env]: '0' }).ok, `${env}=0`).toBe(true);
      expect(remap(src, dest, { [env]: 'NO' }).ok, `${env}=NO`).toBe(true);
    });
  }

  it('spec §9.10: with every switchable check off, the properties that must be equal are still compared', () => {
    const off = Object.fromEntries(SPEC_SWITCHABLE.map(([, , env]) => [env, '0']));
    const worse = Object.fromEntries(SPEC_SWITCHABLE.map(([k]) => [k, 0]));
    expect(remap({}, worse, off).ok).toBe(true);
    for (const k of SPEC_EQUAL) expect(remap({}, { ...worse, ...other(k) }, off), k).toMatchObject(FAILED);
  });

  it('spec §9.10: kfd_device_entry fields outside the list (hive_id, drm_render_minor, cpu_cores_count, gds_size_in_kb, domain) are not compared', () => {
    const src = { hive_id: 0x1234n, drm_render_minor: 128, cpu_cores_count: 0, gds_size_in_kb: 0, domain: 0 };
    const dest = { hive_id: 0x5678n, drm_render_minor: 129, cpu_cores_count: 2, gds_size_in_kb: 64, domain: 1 };
    expect(remap(src, dest).ok).toBe(true);
  });
});
