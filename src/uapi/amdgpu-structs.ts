/**
 * Every struct and union of include/uapi/drm/amdgpu_drm.h as field lists in
 * header order, laid out by `layoutDrmStruct` (x86-64), plus what spec §8.2
 * gives for newer kernels: the Linux 6.18 CRIU query structs
 * (drm_amdgpu_gem_list_handles[_entry], drm_amdgpu_gem_vm_entry), the fields
 * GEM_OP gained for GET_MAPPING_INFO and the GEM_VA timeline-syncobj fields.
 */
import {
  type DrmFieldSpec,
  type DrmStructLayout,
  type DrmStructSpec,
  layoutDrmStructs,
  type UapiNewer,
} from './drm-layout.js';

const u32 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u32'] as const);
const u64 = (...names: string[]): DrmFieldSpec[] => names.map((n) => [n, 'u64'] as const);
const newerU32 = (newer: UapiNewer, ...names: string[]): DrmFieldSpec[] =>
  names.map((n) => [n, 'u32', undefined, { newer }] as const);
const newerU64 = (newer: UapiNewer, ...names: string[]): DrmFieldSpec[] =>
  names.map((n) => [n, 'u64', undefined, { newer }] as const);
const inOut = (name: string): DrmStructSpec => ({
  kind: 'union',
  fields: [
    ['in', `struct ${name}_in`],
    ['out', `struct ${name}_out`],
  ],
});

/** Spec §8.2 items that landed in Linux 6.18 (amdgpu CRIU support). */
const SPEC_8_2_6_18: UapiNewer = { source: 'spec §8.2', sinceKernel: '6.18' };
/** Spec §8.2 items whose first kernel release the spec does not give. */
const SPEC_8_2: UapiNewer = { source: 'spec §8.2' };

/** Field lists of the amdgpu_drm.h structs and unions, in header order (include/uapi/drm/amdgpu_drm.h; spec §8.2). */
export const AMDGPU_STRUCT_SPECS: Readonly<Record<string, DrmStructSpec>> = {
  drm_amdgpu_gem_create_in: { kind: 'struct', fields: u64('bo_size', 'alignment', 'domains', 'domain_flags') },
  drm_amdgpu_gem_create_out: { kind: 'struct', fields: u32('handle', '_pad') },
  drm_amdgpu_gem_create: inOut('drm_amdgpu_gem_create'),
  drm_amdgpu_bo_list_in: {
    kind: 'struct',
    fields: [...u32('operation', 'list_handle', 'bo_number', 'bo_info_size'), ...u64('bo_info_ptr')],
  },
  drm_amdgpu_bo_list_entry: { kind: 'struct', fields: u32('bo_handle', 'bo_priority') },
  drm_amdgpu_bo_list_out: { kind: 'struct', fields: u32('list_handle', '_pad') },
  drm_amdgpu_bo_list: inOut('drm_amdgpu_bo_list'),
  drm_amdgpu_ctx_in: { kind: 'struct', fields: [...u32('op', 'flags', 'ctx_id'), ['priority', 's32']] },
  drm_amdgpu_ctx_out: {
    kind: 'union',
    fields: [
      { kind: 'struct', name: 'alloc', fields: u32('ctx_id', '_pad') },
      { kind: 'struct', name: 'state', fields: [...u64('flags'), ...u32('hangs', 'reset_status')] },
      { kind: 'struct', name: 'pstate', fields: u32('flags', '_pad') },
    ],
  },
  drm_amdgpu_ctx: {
    kind: 'union',
    fields: [
      ['in', 'struct drm_amdgpu_ctx_in'],
      ['out', 'union drm_amdgpu_ctx_out'],
    ],
  },
  drm_amdgpu_vm_in: { kind: 'struct', fields: u32('op', 'flags') },
  drm_amdgpu_vm_out: { kind: 'struct', fields: u64('flags') },
  drm_amdgpu_vm: inOut('drm_amdgpu_vm'),
  drm_amdgpu_sched_in: { kind: 'struct', fields: [...u32('op', 'fd'), ['priority', 's32'], ...u32('ctx_id')] },
  drm_amdgpu_sched: { kind: 'union', fields: [['in', 'struct drm_amdgpu_sched_in']] },
  drm_amdgpu_gem_userptr: { kind: 'struct', fields: [...u64('addr', 'size'), ...u32('flags', 'handle')] },
  drm_amdgpu_gem_metadata: {
    kind: 'struct',
    fields: [
      ...u32('handle', 'op'),
      {
        kind: 'struct',
        name: 'data',
        fields: [...u64('flags', 'tiling_info'), ...u32('data_size_bytes'), ['data', 'u32', 64]],
      },
    ],
  },
  drm_amdgpu_gem_mmap_in: { kind: 'struct', fields: u32('handle', '_pad') },
  drm_amdgpu_gem_mmap_out: { kind: 'struct', fields: u64('addr_ptr') },
  drm_amdgpu_gem_mmap: inOut('drm_amdgpu_gem_mmap'),
  drm_amdgpu_gem_wait_idle_in: { kind: 'struct', fields: [...u32('handle', 'flags'), ...u64('timeout')] },
  drm_amdgpu_gem_wait_idle_out: { kind: 'struct', fields: u32('status', 'domain') },
  drm_amdgpu_gem_wait_idle: inOut('drm_amdgpu_gem_wait_idle'),
  drm_amdgpu_wait_cs_in: {
    kind: 'struct',
    fields: [...u64('handle', 'timeout'), ...u32('ip_type', 'ip_instance', 'ring', 'ctx_id')],
  },
  drm_amdgpu_wait_cs_out: { kind: 'struct', fields: u64('status') },
  drm_amdgpu_wait_cs: inOut('drm_amdgpu_wait_cs'),
  drm_amdgpu_fence: { kind: 'struct', fields: [...u32('ctx_id', 'ip_type', 'ip_instance', 'ring'), ...u64('seq_no')] },
  drm_amdgpu_wait_fences_in: {
    kind: 'struct',
    fields: [...u64('fences'), ...u32('fence_count', 'wait_all'), ...u64('timeout_ns')],
  },
  drm_amdgpu_wait_fences_out: { kind: 'struct', fields: u32('status', 'first_signaled') },
  drm_amdgpu_wait_fences: inOut('drm_amdgpu_wait_fences'),
  // spec §8.2: GET_MAPPING_INFO (Linux 6.18) appends num_entries + padding (16 → 24 bytes).
  drm_amdgpu_gem_op: {
    kind: 'struct',
    fields: [...u32('handle', 'op'), ...u64('value'), ...newerU32(SPEC_8_2_6_18, 'num_entries', 'padding')],
  },
  // spec §8.2 lists the timeline-syncobj fields (40 → 64 bytes) without a release.
  drm_amdgpu_gem_va: {
    kind: 'struct',
    fields: [
      ...u32('handle', '_pad', 'operation', 'flags'),
      ...u64('va_address', 'offset_in_bo', 'map_size'),
      ...newerU64(SPEC_8_2, 'vm_timeline_point'),
      ...newerU32(SPEC_8_2, 'vm_timeline_syncobj_out', 'num_syncobj_handles'),
      ...newerU64(SPEC_8_2, 'input_fence_syncobj_handles'),
    ],
  },
  drm_amdgpu_cs_chunk: { kind: 'struct', fields: [...u32('chunk_id', 'length_dw'), ...u64('chunk_data')] },
  drm_amdgpu_cs_in: {
    kind: 'struct',
    fields: [...u32('ctx_id', 'bo_list_handle', 'num_chunks', 'flags'), ...u64('chunks')],
  },
  drm_amdgpu_cs_out: { kind: 'struct', fields: u64('handle') },
  drm_amdgpu_cs: inOut('drm_amdgpu_cs'),
  drm_amdgpu_cs_chunk_ib: {
    kind: 'struct',
    fields: [...u32('_pad', 'flags'), ...u64('va_start'), ...u32('ib_bytes', 'ip_type', 'ip_instance', 'ring')],
  },
  drm_amdgpu_cs_chunk_dep: {
    kind: 'struct',
    fields: [...u32('ip_type', 'ip_instance', 'ring', 'ctx_id'), ...u64('handle')],
  },
  drm_amdgpu_cs_chunk_fence: { kind: 'struct', fields: u32('handle', 'offset') },
  drm_amdgpu_cs_chunk_sem: { kind: 'struct', fields: u32('handle') },
  drm_amdgpu_cs_chunk_syncobj: { kind: 'struct', fields: [...u32('handle', 'flags'), ...u64('point')] },
  drm_amdgpu_fence_to_handle: {
    kind: 'union',
    fields: [
      { kind: 'struct', name: 'in', fields: [['fence', 'struct drm_amdgpu_fence'], ...u32('what', 'pad')] },
      { kind: 'struct', name: 'out', fields: u32('handle') },
    ],
  },
  drm_amdgpu_cs_chunk_data: {
    kind: 'struct',
    fields: [
      {
        kind: 'union',
        fields: [
          ['ib_data', 'struct drm_amdgpu_cs_chunk_ib'],
          ['fence_data', 'struct drm_amdgpu_cs_chunk_fence'],
        ],
      },
    ],
  },
  drm_amdgpu_query_fw: { kind: 'struct', fields: u32('fw_type', 'ip_instance', 'index', '_pad') },
  drm_amdgpu_info: {
    kind: 'struct',
    fields: [
      ...u64('return_pointer'),
      ...u32('return_size', 'query'),
      {
        kind: 'union',
        fields: [
          { kind: 'struct', name: 'mode_crtc', fields: u32('id', '_pad') },
          { kind: 'struct', name: 'query_hw_ip', fields: u32('type', 'ip_instance') },
          { kind: 'struct', name: 'read_mmr_reg', fields: u32('dword_offset', 'count', 'instance', 'flags') },
          ['query_fw', 'struct drm_amdgpu_query_fw'],
          { kind: 'struct', name: 'vbios_info', fields: u32('type', 'offset') },
          { kind: 'struct', name: 'sensor_info', fields: u32('type') },
          { kind: 'struct', name: 'video_cap', fields: u32('type') },
        ],
      },
    ],
  },
  drm_amdgpu_info_gds: {
    kind: 'struct',
    fields: u32(
      'gds_gfx_partition_size',
      'compute_partition_size',
      'gds_total_size',
      'gws_per_gfx_partition',
      'gws_per_compute_partition',
      'oa_per_gfx_partition',
      'oa_per_compute_partition',
      '_pad',
    ),
  },
  drm_amdgpu_info_vram_gtt: { kind: 'struct', fields: u64('vram_size', 'vram_cpu_accessible_size', 'gtt_size') },
  drm_amdgpu_heap_info: {
    kind: 'struct',
    fields: u64('total_heap_size', 'usable_heap_size', 'heap_usage', 'max_allocation'),
  },
  drm_amdgpu_memory_info: {
    kind: 'struct',
    fields: [
      ['vram', 'struct drm_amdgpu_heap_info'],
      ['cpu_accessible_vram', 'struct drm_amdgpu_heap_info'],
      ['gtt', 'struct drm_amdgpu_heap_info'],
    ],
  },
  drm_amdgpu_info_firmware: { kind: 'struct', fields: u32('ver', 'feature') },
  drm_amdgpu_info_vbios: {
    kind: 'struct',
    fields: [
      ['name', 'u8', 64],
      ['vbios_pn', 'u8', 64],
      ...u32('version', 'pad'),
      ['vbios_ver_str', 'u8', 32],
      ['date', 'u8', 32],
    ],
  },
  drm_amdgpu_info_device: {
    kind: 'struct',
    fields: [
      ...u32('device_id', 'chip_rev', 'external_rev', 'pci_rev', 'family', 'num_shader_engines'),
      ...u32('num_shader_arrays_per_engine', 'gpu_counter_freq'),
      ...u64('max_engine_clock', 'max_memory_clock'),
      ...u32('cu_active_number', 'cu_ao_mask'),
      ['cu_bitmap', 'u32', [4, 4]],
      ...u32('enabled_rb_pipes_mask', 'num_rb_pipes', 'num_hw_gfx_contexts', '_pad'),
      ...u64('ids_flags', 'virtual_address_offset', 'virtual_address_max'),
      ...u32('virtual_address_alignment', 'pte_fragment_size', 'gart_page_size', 'ce_ram_size'),
      ...u32('vram_type', 'vram_bit_width', 'vce_harvest_config', 'gc_double_offchip_lds_buf'),
      ...u64('prim_buf_gpu_addr', 'pos_buf_gpu_addr', 'cntl_sb_buf_gpu_addr', 'param_buf_gpu_addr'),
      ...u32('prim_buf_size', 'pos_buf_size', 'cntl_sb_buf_size', 'param_buf_size', 'wave_front_size'),
      ...u32('num_shader_visible_vgprs', 'num_cu_per_sh', 'num_tcc_blocks', 'gs_vgt_table_depth'),
      ...u32('gs_prim_buffer_depth', 'max_gs_waves_per_vgt', '_pad1'),
      ['cu_ao_bitmap', 'u32', [4, 4]],
      ...u64('high_va_offset', 'high_va_max'),
      ...u32('pa_sc_tile_steering_override'),
      ...u64('tcc_disabled_mask'),
    ],
  },
  drm_amdgpu_info_hw_ip: {
    kind: 'struct',
    fields: [
      ...u32('hw_ip_version_major', 'hw_ip_version_minor'),
      ...u64('capabilities_flags'),
      ...u32('ib_start_alignment', 'ib_size_alignment', 'available_rings', '_pad'),
    ],
  },
  drm_amdgpu_info_num_handles: { kind: 'struct', fields: u32('uvd_max_handles', 'uvd_used_handles') },
  drm_amdgpu_info_vce_clock_table_entry: { kind: 'struct', fields: u32('sclk', 'mclk', 'eclk', 'pad') },
  drm_amdgpu_info_vce_clock_table: {
    kind: 'struct',
    fields: [
      // AMDGPU_VCE_CLOCK_TABLE_ENTRIES
      ['entries', 'struct drm_amdgpu_info_vce_clock_table_entry', 6],
      ...u32('num_valid_entries', 'pad'),
    ],
  },
  drm_amdgpu_info_video_codec_info: {
    kind: 'struct',
    fields: u32('valid', 'max_width', 'max_height', 'max_pixels_per_frame', 'max_level', 'pad'),
  },
  drm_amdgpu_info_video_caps: {
    kind: 'struct',
    // AMDGPU_INFO_VIDEO_CAPS_CODEC_IDX_COUNT
    fields: [['codec_info', 'struct drm_amdgpu_info_video_codec_info', 8]],
  },
  // spec §8.2 (Linux 6.18): DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES and GEM_OP(GET_MAPPING_INFO).
  drm_amdgpu_gem_list_handles: {
    kind: 'struct',
    fields: [...u64('entries'), ...u32('num_entries', 'padding')],
    newer: SPEC_8_2_6_18,
  },
  drm_amdgpu_gem_list_handles_entry: {
    kind: 'struct',
    fields: [...u32('gem_handle', 'flags'), ...u64('size', 'preferred_domains', 'alloc_flags', 'alignment')],
    newer: SPEC_8_2_6_18,
  },
  drm_amdgpu_gem_vm_entry: {
    kind: 'struct',
    fields: u64('addr', 'size', 'offset', 'flags'),
    newer: SPEC_8_2_6_18,
  },
};

/** Layouts of every amdgpu_drm.h struct and union, newest version (include/uapi/drm/amdgpu_drm.h, x86-64; spec §8.2). */
export const AMDGPU_STRUCTS: Readonly<Record<string, DrmStructLayout>> = layoutDrmStructs(AMDGPU_STRUCT_SPECS);
