/**
 * criu-amdgpu.proto against spec §9.2 (names, types, numbers, labels), and the copy the build
 * puts beside the compiled codec (what dist/ reads at run time) against the .proto file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRIU_AMDGPU_PROTO, MESSAGE_NAMES, messageType } from '../../src/criu/images/index.js';
import { ensureBuilt, ROOT } from '../cli/helpers.js';

const PROTO_FILE = join(dirname(fileURLToPath(import.meta.url)), '../../src/criu/images/criu-amdgpu.proto');

/** Spec §9.2, message by message: [name, type, number]; every field required unless repeated (R). */
const SPEC: Record<string, [string, string, number, 'R'?][]> = {
  dev_iolink: [
    ['type', 'uint32', 1],
    ['node_to_id', 'uint32', 2],
  ],
  kfd_device_entry: [
    ...[
      'node_id',
      'gpu_id',
      'cpu_cores_count',
      'simd_count',
      'mem_banks_count',
      'caches_count',
      'io_links_count',
      'max_waves_per_simd',
      'lds_size_in_kb',
      'gds_size_in_kb',
      'num_gws',
      'wave_front_size',
      'array_count',
      'simd_arrays_per_engine',
      'cu_per_simd_array',
      'simd_per_cu',
      'max_slots_scratch_cu',
      'vendor_id',
      'device_id',
      'domain',
      'drm_render_minor',
    ].map((n, i): [string, string, number] => [n, 'uint32', i + 1]),
    ['hive_id', 'uint64', 22],
    ['num_sdma_engines', 'uint32', 23],
    ['num_sdma_xgmi_engines', 'uint32', 24],
    ['num_sdma_queues_per_engine', 'uint32', 25],
    ['num_cp_queues', 'uint32', 26],
    ['fw_version', 'uint32', 27],
    ['capability', 'uint32', 28],
    ['sdma_fw_version', 'uint32', 29],
    ['vram_public', 'uint32', 30],
    ['vram_size', 'uint64', 31],
    ['iolinks', 'dev_iolink', 32, 'R'],
  ],
  kfd_bo_entry: [
    ['addr', 'uint64', 1],
    ['size', 'uint64', 2],
    ['offset', 'uint64', 3],
    ['alloc_flags', 'uint32', 4],
    ['gpu_id', 'uint32', 5],
    ['handle', 'uint32', 6],
  ],
  criu_kfd: [
    ['pid', 'uint32', 1],
    ['num_of_gpus', 'uint32', 2],
    ['num_of_cpus', 'uint32', 3],
    ['device_entries', 'kfd_device_entry', 4, 'R'],
    ['num_of_bos', 'uint64', 5],
    ['bo_entries', 'kfd_bo_entry', 6, 'R'],
    ['num_of_objects', 'uint32', 7],
    ['shared_mem_size', 'uint64', 8],
    ['shared_mem_magic', 'uint32', 9],
    ['priv_data', 'bytes', 10],
  ],
  drm_bo_entry: [
    ['addr', 'uint64', 1],
    ['size', 'uint64', 2],
    ['offset', 'uint64', 3],
    ['alloc_flags', 'uint64', 4],
    ['alignment', 'uint64', 5],
    ['preferred_domains', 'uint32', 6],
    ['handle', 'uint32', 7],
    ['is_import', 'uint32', 8],
    ['num_of_vms', 'uint32', 9],
    ['vm_entries', 'drm_vm_entry', 10, 'R'],
  ],
  drm_vm_entry: [
    ['addr', 'uint64', 1],
    ['size', 'uint64', 2],
    ['offset', 'uint64', 3],
    ['flags', 'uint64', 4],
  ],
  criu_render_node: [
    ['gpu_id', 'uint32', 1],
    ['id', 'uint32', 2],
    ['drm_render_minor', 'uint32', 3],
    ['num_of_bos', 'uint64', 4],
    ['bo_entries', 'drm_bo_entry', 5, 'R'],
  ],
  criu_dmabuf_node: [['gem_handle', 'uint32', 1]],
};

describe('criu-amdgpu.proto', () => {
  it('spec §9.2: the messages, fields, types, numbers and labels of the plugin schema', () => {
    expect([...MESSAGE_NAMES].sort()).toEqual(Object.keys(SPEC).sort());
    for (const [name, fields] of Object.entries(SPEC)) {
      const t = messageType(name as (typeof MESSAGE_NAMES)[number]);
      const got = t.fieldsArray.map((f) => [
        f.name,
        f.type,
        f.id,
        f.repeated ? 'R' : f.required ? 'required' : 'optional',
      ]);
      expect(got, name).toEqual(fields.map(([n, ty, id, r]) => [n, ty, id, r ?? 'required']));
    }
  });

  it('spec §9.2: proto2 syntax', () => {
    expect(readFileSync(PROTO_FILE, 'utf8')).toMatch(/^syntax = "proto2";$/m);
  });

  it('the codec reads the .proto file, and the build copies it beside the compiled codec (dist/)', () => {
    expect(CRIU_AMDGPU_PROTO).toBe(readFileSync(PROTO_FILE, 'utf8'));
    ensureBuilt();
    expect(readFileSync(join(ROOT, 'dist/src/criu/images/criu-amdgpu.proto'), 'utf8')).toBe(CRIU_AMDGPU_PROTO);
  });
});
