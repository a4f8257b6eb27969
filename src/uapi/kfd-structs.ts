/**
 * Every struct of `include/uapi/linux/kfd_ioctl.h`, as field lists in header
 * order, laid out by `layoutStruct` (x86-64). The catalogue models KFD 1.18;
 * structs and fields that appeared after 1.11 (the Linux 6.1 header that CI
 * compiles against) carry `sinceMinor` (spec §2.1, §2.4).
 */
import { type FieldSpec, layoutStruct, type StructLayout } from './kfd-layout.js';

interface StructSpec {
  fields: readonly FieldSpec[];
  sinceMinor?: number;
}

/** Shorthand for runs of same-typed fields. */
const u32 = (...names: string[]): FieldSpec[] => names.map((n) => [n, 'u32'] as const);
const u64 = (...names: string[]): FieldSpec[] => names.map((n) => [n, 'u64'] as const);

/** Field lists of the kfd_ioctl.h structs, in dependency order (include/uapi/linux/kfd_ioctl.h). */
export const KFD_STRUCT_SPECS: Readonly<Record<string, StructSpec>> = {
  kfd_ioctl_get_version_args: { fields: u32('major_version', 'minor_version') },
  kfd_ioctl_create_queue_args: {
    fields: [
      ...u64('ring_base_address', 'write_pointer_address', 'read_pointer_address', 'doorbell_offset'),
      ...u32('ring_size', 'gpu_id', 'queue_type', 'queue_percentage', 'queue_priority', 'queue_id'),
      ...u64('eop_buffer_address', 'eop_buffer_size', 'ctx_save_restore_address'),
      ...u32('ctx_save_restore_size', 'ctl_stack_size'),
      // 1.17: "Add SDMA queue creation with target SDMA engine ID" (spec §2.4; amd-gfx patch)
      ['sdma_engine_id', 'u32', undefined, { sinceMinor: 17 }],
      ['pad', 'u32', undefined, { sinceMinor: 17 }],
    ],
  },
  kfd_ioctl_destroy_queue_args: { fields: u32('queue_id', 'pad') },
  kfd_ioctl_update_queue_args: {
    fields: [...u64('ring_base_address'), ...u32('queue_id', 'ring_size', 'queue_percentage', 'queue_priority')],
  },
  kfd_ioctl_set_cu_mask_args: {
    fields: [...u32('queue_id', 'num_cu_mask'), ...u64('cu_mask_ptr')],
  },
  kfd_ioctl_get_queue_wave_state_args: {
    fields: [...u64('ctl_stack_address'), ...u32('ctl_stack_used_size', 'save_area_used_size', 'queue_id', 'pad')],
  },
  kfd_ioctl_get_available_memory_args: { fields: [...u64('available'), ...u32('gpu_id', 'pad')] },
  kfd_ioctl_set_memory_policy_args: {
    fields: [
      ...u64('alternate_aperture_base', 'alternate_aperture_size'),
      ...u32('gpu_id', 'default_policy', 'alternate_policy'),
      // 1.18: "rename pad in set_memory_policy_args to misc_process_flag" (spec §2.1)
      ['misc_process_flag', 'u32', undefined, { renamed: { from: 'pad', sinceMinor: 18 } }],
    ],
  },
  kfd_ioctl_get_clock_counters_args: {
    fields: [
      ...u64('gpu_clock_counter', 'cpu_clock_counter', 'system_clock_counter', 'system_clock_freq'),
      ...u32('gpu_id', 'pad'),
    ],
  },
  kfd_process_device_apertures: {
    fields: [
      ...u64('lds_base', 'lds_limit', 'scratch_base', 'scratch_limit', 'gpuvm_base', 'gpuvm_limit'),
      ...u32('gpu_id', 'pad'),
    ],
  },
  kfd_ioctl_get_process_apertures_args: {
    // NUM_OF_SUPPORTED_GPUS = 7
    fields: [['process_apertures', 'struct kfd_process_device_apertures', 7], ...u32('num_of_nodes', 'pad')],
  },
  kfd_ioctl_get_process_apertures_new_args: {
    fields: [...u64('kfd_process_device_apertures_ptr'), ...u32('num_of_nodes', 'pad')],
  },
  kfd_ioctl_dbg_register_args: { fields: u32('gpu_id', 'pad') },
  kfd_ioctl_dbg_unregister_args: { fields: u32('gpu_id', 'pad') },
  kfd_ioctl_dbg_address_watch_args: {
    fields: [...u64('content_ptr'), ...u32('gpu_id', 'buf_size_in_bytes')],
  },
  kfd_ioctl_dbg_wave_control_args: {
    fields: [...u64('content_ptr'), ...u32('gpu_id', 'buf_size_in_bytes')],
  },
  kfd_ioctl_create_event_args: {
    fields: [
      ...u64('event_page_offset'),
      ...u32('event_trigger_data', 'event_type', 'auto_reset', 'node_id', 'event_id', 'event_slot_index'),
    ],
  },
  kfd_ioctl_destroy_event_args: { fields: u32('event_id', 'pad') },
  kfd_ioctl_set_event_args: { fields: u32('event_id', 'pad') },
  kfd_ioctl_reset_event_args: { fields: u32('event_id', 'pad') },
  kfd_memory_exception_failure: { fields: u32('NotPresent', 'ReadOnly', 'NoExecute', 'imprecise') },
  kfd_hsa_memory_exception_data: {
    fields: [['failure', 'struct kfd_memory_exception_failure'], ...u64('va'), ...u32('gpu_id', 'ErrorType')],
  },
  kfd_hsa_hw_exception_data: { fields: u32('reset_type', 'reset_cause', 'memory_lost', 'gpu_id') },
  // 1.14: "Update kfd_event_data" (spec §2.1)
  kfd_hsa_signal_event_data: { fields: u64('last_event_age'), sinceMinor: 14 },
  kfd_event_data: {
    fields: [
      {
        union: [
          ['memory_exception_data', 'struct kfd_hsa_memory_exception_data'],
          ['hw_exception_data', 'struct kfd_hsa_hw_exception_data'],
          ['signal_event_data', 'struct kfd_hsa_signal_event_data', undefined, { sinceMinor: 14 }],
        ],
      },
      ...u64('kfd_event_data_ext'),
      ...u32('event_id', 'pad'),
    ],
  },
  kfd_ioctl_wait_events_args: {
    fields: [...u64('events_ptr'), ...u32('num_events', 'wait_for_all', 'timeout', 'wait_result')],
  },
  kfd_ioctl_set_scratch_backing_va_args: { fields: [...u64('va_addr'), ...u32('gpu_id', 'pad')] },
  kfd_ioctl_get_tile_config_args: {
    fields: [
      ...u64('tile_config_ptr', 'macro_tile_config_ptr'),
      ...u32('num_tile_configs', 'num_macro_tile_configs', 'gpu_id', 'gb_addr_config', 'num_banks', 'num_ranks'),
    ],
  },
  kfd_ioctl_set_trap_handler_args: {
    fields: [...u64('tba_addr', 'tma_addr'), ...u32('gpu_id', 'pad')],
  },
  kfd_ioctl_acquire_vm_args: { fields: u32('drm_fd', 'gpu_id') },
  kfd_ioctl_alloc_memory_of_gpu_args: {
    fields: [...u64('va_addr', 'size', 'handle', 'mmap_offset'), ...u32('gpu_id', 'flags')],
  },
  kfd_ioctl_free_memory_of_gpu_args: { fields: u64('handle') },
  kfd_ioctl_map_memory_to_gpu_args: {
    fields: [...u64('handle', 'device_ids_array_ptr'), ...u32('n_devices', 'n_success')],
  },
  kfd_ioctl_unmap_memory_from_gpu_args: {
    fields: [...u64('handle', 'device_ids_array_ptr'), ...u32('n_devices', 'n_success')],
  },
  kfd_ioctl_alloc_queue_gws_args: { fields: u32('queue_id', 'num_gws', 'first_gws', 'pad') },
  kfd_ioctl_get_dmabuf_info_args: {
    fields: [...u64('size', 'metadata_ptr'), ...u32('metadata_size', 'gpu_id', 'flags', 'dmabuf_fd')],
  },
  kfd_ioctl_import_dmabuf_args: {
    fields: [...u64('va_addr', 'handle'), ...u32('gpu_id', 'dmabuf_fd')],
  },
  // 1.12: "DMA buf export ioctl" (spec §2.4)
  kfd_ioctl_export_dmabuf_args: {
    fields: [...u64('handle'), ...u32('flags', 'dmabuf_fd')],
    sinceMinor: 12,
  },
  kfd_ioctl_smi_events_args: { fields: u32('gpuid', 'anon_fd') },
  kfd_ioctl_criu_args: {
    fields: [
      ...u64('devices', 'bos', 'priv_data', 'priv_data_size'),
      ...u32('num_devices', 'num_bos', 'num_objects', 'pid', 'op'),
    ],
  },
  kfd_criu_device_bucket: { fields: u32('user_gpu_id', 'actual_gpu_id', 'drm_fd', 'pad') },
  kfd_criu_bo_bucket: {
    fields: [...u64('addr', 'size', 'offset', 'restored_offset'), ...u32('gpu_id', 'alloc_flags', 'dmabuf_fd', 'pad')],
  },
  kfd_ioctl_svm_attribute: { fields: u32('type', 'value') },
  kfd_ioctl_svm_args: {
    fields: [...u64('start_addr', 'size'), ...u32('op', 'nattr'), ['attrs', 'struct kfd_ioctl_svm_attribute', 0]],
  },
  kfd_ioctl_set_xnack_mode_args: { fields: [['xnack_enabled', 's32']] },
  // 1.13: "debugger API" — only the two ioctl argument structs and the union
  // members of kfd_ioctl_dbg_trap_args are modelled (kfd_ioctl.h ≥ 6.5).
  kfd_ioctl_runtime_enable_args: {
    fields: [...u64('r_debug'), ...u32('mode_mask', 'capabilities_mask')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_enable_args: {
    fields: [...u64('exception_mask', 'rinfo_ptr'), ...u32('rinfo_size', 'dbg_fd')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_send_runtime_event_args: {
    fields: [...u64('exception_mask'), ...u32('gpu_id', 'queue_id')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_set_exceptions_enabled_args: { fields: u64('exception_mask'), sinceMinor: 13 },
  kfd_ioctl_dbg_trap_set_wave_launch_override_args: {
    fields: u32('override_mode', 'enable_mask', 'support_request_mask', 'pad'),
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_set_wave_launch_mode_args: {
    fields: u32('launch_mode', 'pad'),
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_suspend_queues_args: {
    fields: [...u64('exception_mask', 'queue_array_ptr'), ...u32('num_queues', 'grace_period')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_resume_queues_args: {
    fields: [...u64('queue_array_ptr'), ...u32('num_queues', 'pad')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_set_node_address_watch_args: {
    fields: [...u64('address'), ...u32('mode', 'mask', 'gpu_id', 'id')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_clear_node_address_watch_args: { fields: u32('gpu_id', 'id'), sinceMinor: 13 },
  kfd_ioctl_dbg_trap_set_flags_args: { fields: u32('flags', 'pad'), sinceMinor: 13 },
  kfd_ioctl_dbg_trap_query_debug_event_args: {
    fields: [...u64('exception_mask'), ...u32('gpu_id', 'queue_id')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_query_exception_info_args: {
    fields: [...u64('info_ptr'), ...u32('info_size', 'source_id', 'exception_code', 'clear_exception')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_queue_snapshot_args: {
    fields: [...u64('exception_mask', 'snapshot_buf_ptr'), ...u32('num_queues', 'entry_size')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_device_snapshot_args: {
    fields: [...u64('exception_mask', 'snapshot_buf_ptr'), ...u32('num_devices', 'entry_size')],
    sinceMinor: 13,
  },
  kfd_ioctl_dbg_trap_args: {
    fields: [
      ...u32('pid', 'op'),
      {
        union: [
          ['enable', 'struct kfd_ioctl_dbg_trap_enable_args'],
          ['send_runtime_event', 'struct kfd_ioctl_dbg_trap_send_runtime_event_args'],
          ['set_exceptions_enabled', 'struct kfd_ioctl_dbg_trap_set_exceptions_enabled_args'],
          ['launch_override', 'struct kfd_ioctl_dbg_trap_set_wave_launch_override_args'],
          ['launch_mode', 'struct kfd_ioctl_dbg_trap_set_wave_launch_mode_args'],
          ['suspend_queues', 'struct kfd_ioctl_dbg_trap_suspend_queues_args'],
          ['resume_queues', 'struct kfd_ioctl_dbg_trap_resume_queues_args'],
          ['set_node_address_watch', 'struct kfd_ioctl_dbg_trap_set_node_address_watch_args'],
          ['clear_node_address_watch', 'struct kfd_ioctl_dbg_trap_clear_node_address_watch_args'],
          ['set_flags', 'struct kfd_ioctl_dbg_trap_set_flags_args'],
          ['query_debug_event', 'struct kfd_ioctl_dbg_trap_query_debug_event_args'],
          ['query_exception_info', 'struct kfd_ioctl_dbg_trap_query_exception_info_args'],
          ['queue_snapshot', 'struct kfd_ioctl_dbg_trap_queue_snapshot_args'],
          ['device_snapshot', 'struct kfd_ioctl_dbg_trap_device_snapshot_args'],
        ],
      },
    ],
    sinceMinor: 13,
  },
};

function buildAll(minor: number): Record<string, StructLayout> {
  const out: Record<string, StructLayout> = {};
  for (const [name, spec] of Object.entries(KFD_STRUCT_SPECS)) {
    if (spec.sinceMinor !== undefined && spec.sinceMinor > minor) continue;
    const layout = layoutStruct(name, spec.fields, (tag) => out[tag], minor);
    if (spec.sinceMinor !== undefined) layout.sinceMinor = spec.sinceMinor;
    out[name] = layout;
  }
  return out;
}

/** Layouts of every kfd_ioctl.h struct as of the modelled KFD version (include/uapi/linux/kfd_ioctl.h, x86-64). */
export const KFD_STRUCTS: Readonly<Record<string, StructLayout>> = buildAll(Number.POSITIVE_INFINITY);

const byMinor = new Map<number, Record<string, StructLayout>>();

/** Layout of struct `name` as KFD minor version `minor` defines it, or undefined if it did not exist yet (kfd_ioctl.h history). */
export function kfdStructAt(name: string, minor: number): StructLayout | undefined {
  let all = byMinor.get(minor);
  if (!all) {
    all = buildAll(minor);
    byMinor.set(minor, all);
  }
  return all[name];
}
