/**
 * Every struct and union of include/uapi/drm/drm.h as field lists in header
 * order, laid out by `layoutDrmStruct` (x86-64), plus the spec §8.2 struct that
 * the CI header (libdrm-dev 2.4.114) does not have yet.
 */
import { type DrmFieldSpec, type DrmStructLayout, type DrmStructSpec, layoutDrmStructs } from './drm-layout.js';

/** Shorthand for runs of same-typed leaf fields. */
const run =
  (type: 'u32' | 'u64' | 'int' | 'uint' | 'ulong' | 'ushort' | 'uchar' | 'ptr') =>
  (...names: string[]): DrmFieldSpec[] =>
    names.map((n) => [n, type] as const);
const u32 = run('u32');
const u64 = run('u64');
const int = run('int');
const uint = run('uint');
const ulong = run('ulong');
const ptr = run('ptr');

/** Where the newer drm.h items come from (spec §8.2: "uapi: add ioctl for reassigning GEM handles", Linux 6.18). */
const SPEC_8_2_6_18 = { source: 'spec §8.2', sinceKernel: '6.18' } as const;

/** Field lists of the drm.h structs and unions, in header order (include/uapi/drm/drm.h). */
export const DRM_STRUCT_SPECS: Readonly<Record<string, DrmStructSpec>> = {
  drm_clip_rect: { kind: 'struct', fields: run('ushort')('x1', 'y1', 'x2', 'y2') },
  drm_drawable_info: { kind: 'struct', fields: [...uint('num_rects'), ...ptr('rects')] },
  drm_tex_region: { kind: 'struct', fields: [...run('uchar')('next', 'prev', 'in_use', 'padding'), ...uint('age')] },
  drm_hw_lock: { kind: 'struct', fields: [...uint('lock'), ['padding', 'char', 60]] },
  drm_version: {
    kind: 'struct',
    fields: [
      ...int('version_major', 'version_minor', 'version_patchlevel'),
      ['name_len', 'size_t'],
      ...ptr('name'),
      ['date_len', 'size_t'],
      ...ptr('date'),
      ['desc_len', 'size_t'],
      ...ptr('desc'),
    ],
  },
  drm_unique: { kind: 'struct', fields: [['unique_len', 'size_t'], ...ptr('unique')] },
  drm_list: { kind: 'struct', fields: [...int('count'), ...ptr('version')] },
  drm_block: { kind: 'struct', fields: int('unused') },
  drm_control: { kind: 'struct', fields: [['func', 'enum'], ...int('irq')] },
  drm_ctx_priv_map: { kind: 'struct', fields: [...uint('ctx_id'), ...ptr('handle')] },
  drm_map: {
    kind: 'struct',
    fields: [...ulong('offset', 'size'), ['type', 'enum'], ['flags', 'enum'], ...ptr('handle'), ...int('mtrr')],
  },
  drm_client: { kind: 'struct', fields: [...int('idx', 'auth'), ...ulong('pid', 'uid', 'magic', 'iocs')] },
  drm_stats: {
    kind: 'struct',
    fields: [
      ...ulong('count'),
      { kind: 'struct', name: 'data', dims: 15, fields: [...ulong('value'), ['type', 'enum']] },
    ],
  },
  drm_lock: { kind: 'struct', fields: [...int('context'), ['flags', 'enum']] },
  drm_buf_desc: {
    kind: 'struct',
    fields: [...int('count', 'size', 'low_mark', 'high_mark'), ['flags', 'enum'], ...ulong('agp_start')],
  },
  drm_buf_info: { kind: 'struct', fields: [...int('count'), ...ptr('list')] },
  drm_buf_free: { kind: 'struct', fields: [...int('count'), ...ptr('list')] },
  drm_buf_pub: { kind: 'struct', fields: [...int('idx', 'total', 'used'), ...ptr('address')] },
  // `void *virt` when compiled as C++, `void *virtual` in C.
  drm_buf_map: { kind: 'struct', fields: [...int('count'), ...ptr('virtual', 'list')] },
  drm_dma: {
    kind: 'struct',
    fields: [
      ...int('context', 'send_count'),
      ...ptr('send_indices', 'send_sizes'),
      ['flags', 'enum'],
      ...int('request_count', 'request_size'),
      ...ptr('request_indices', 'request_sizes'),
      ...int('granted_count'),
    ],
  },
  drm_ctx: { kind: 'struct', fields: [...uint('handle'), ['flags', 'enum']] },
  drm_ctx_res: { kind: 'struct', fields: [...int('count'), ...ptr('contexts')] },
  drm_draw: { kind: 'struct', fields: uint('handle') },
  drm_update_draw: { kind: 'struct', fields: [...uint('handle', 'type', 'num'), ['data', 'ulonglong']] },
  drm_auth: { kind: 'struct', fields: uint('magic') },
  drm_irq_busid: { kind: 'struct', fields: int('irq', 'busnum', 'devnum', 'funcnum') },
  drm_wait_vblank_request: { kind: 'struct', fields: [['type', 'enum'], ...uint('sequence'), ...ulong('signal')] },
  drm_wait_vblank_reply: {
    kind: 'struct',
    fields: [['type', 'enum'], ...uint('sequence'), ['tval_sec', 'long'], ['tval_usec', 'long']],
  },
  drm_wait_vblank: {
    kind: 'union',
    fields: [
      ['request', 'struct drm_wait_vblank_request'],
      ['reply', 'struct drm_wait_vblank_reply'],
    ],
  },
  drm_modeset_ctl: { kind: 'struct', fields: u32('crtc', 'cmd') },
  drm_agp_mode: { kind: 'struct', fields: ulong('mode') },
  drm_agp_buffer: { kind: 'struct', fields: ulong('size', 'handle', 'type', 'physical') },
  drm_agp_binding: { kind: 'struct', fields: ulong('handle', 'offset') },
  drm_agp_info: {
    kind: 'struct',
    fields: [
      ...int('agp_version_major', 'agp_version_minor'),
      ...ulong('mode', 'aperture_base', 'aperture_size', 'memory_allowed', 'memory_used'),
      ...run('ushort')('id_vendor', 'id_device'),
    ],
  },
  drm_scatter_gather: { kind: 'struct', fields: ulong('size', 'handle') },
  drm_set_version: { kind: 'struct', fields: int('drm_di_major', 'drm_di_minor', 'drm_dd_major', 'drm_dd_minor') },
  drm_gem_close: { kind: 'struct', fields: u32('handle', 'pad') },
  drm_gem_flink: { kind: 'struct', fields: u32('handle', 'name') },
  drm_gem_open: { kind: 'struct', fields: [...u32('name', 'handle'), ...u64('size')] },
  drm_get_cap: { kind: 'struct', fields: u64('capability', 'value') },
  drm_set_client_cap: { kind: 'struct', fields: u64('capability', 'value') },
  drm_prime_handle: { kind: 'struct', fields: [...u32('handle', 'flags'), ['fd', 's32']] },
  drm_syncobj_create: { kind: 'struct', fields: u32('handle', 'flags') },
  drm_syncobj_destroy: { kind: 'struct', fields: u32('handle', 'pad') },
  drm_syncobj_handle: { kind: 'struct', fields: [...u32('handle', 'flags'), ['fd', 's32'], ...u32('pad')] },
  drm_syncobj_transfer: {
    kind: 'struct',
    fields: [...u32('src_handle', 'dst_handle'), ...u64('src_point', 'dst_point'), ...u32('flags', 'pad')],
  },
  drm_syncobj_wait: {
    kind: 'struct',
    fields: [...u64('handles'), ['timeout_nsec', 's64'], ...u32('count_handles', 'flags', 'first_signaled', 'pad')],
  },
  drm_syncobj_timeline_wait: {
    kind: 'struct',
    fields: [
      ...u64('handles', 'points'),
      ['timeout_nsec', 's64'],
      ...u32('count_handles', 'flags', 'first_signaled', 'pad'),
    ],
  },
  drm_syncobj_array: { kind: 'struct', fields: [...u64('handles'), ...u32('count_handles', 'pad')] },
  drm_syncobj_timeline_array: {
    kind: 'struct',
    fields: [...u64('handles', 'points'), ...u32('count_handles', 'flags')],
  },
  drm_crtc_get_sequence: {
    kind: 'struct',
    fields: [...u32('crtc_id', 'active'), ...u64('sequence'), ['sequence_ns', 's64']],
  },
  drm_crtc_queue_sequence: { kind: 'struct', fields: [...u32('crtc_id', 'flags'), ...u64('sequence', 'user_data')] },
  drm_event: { kind: 'struct', fields: u32('type', 'length') },
  drm_event_vblank: {
    kind: 'struct',
    fields: [['base', 'struct drm_event'], ...u64('user_data'), ...u32('tv_sec', 'tv_usec', 'sequence', 'crtc_id')],
  },
  drm_event_crtc_sequence: {
    kind: 'struct',
    fields: [['base', 'struct drm_event'], ...u64('user_data'), ['time_ns', 's64'], ...u64('sequence')],
  },
  // spec §8.2: `struct drm_gem_change_handle { __u32 handle; __u32 new_handle; };` (Linux 6.18)
  drm_gem_change_handle: { kind: 'struct', fields: u32('handle', 'new_handle'), newer: SPEC_8_2_6_18 },
};

/** Layouts of every drm.h struct and union, newest version (include/uapi/drm/drm.h, x86-64). */
export const DRM_STRUCTS: Readonly<Record<string, DrmStructLayout>> = layoutDrmStructs(DRM_STRUCT_SPECS);
