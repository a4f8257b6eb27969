/**
 * The text of criu-amdgpu.proto (this directory), embedded so that the built package (dist/)
 * needs no .proto file at run time. test/criu/images-schema.test.ts fails when the two differ;
 * after editing the .proto, paste its text here verbatim.
 */
export const CRIU_AMDGPU_PROTO = `// The CRIU amdgpu plugin's image schema (plugins/amdgpu/criu-amdgpu.proto), written from
// gpucr's spec §9.2: proto2, every field required unless repeated, message and field
// names and numbers as the plugin uses them. src/criu/images/proto-text.ts embeds this text
// verbatim (a test keeps the two identical); gpucr encodes and decodes with protobufjs, and
// the standard protoc --decode=<message> criu-amdgpu.proto reads the payload of every image.
syntax = "proto2";

message dev_iolink {
  required uint32 type = 1;
  required uint32 node_to_id = 2;
}

// One per topology node, CPU nodes (gpu_id 0) included.
message kfd_device_entry {
  required uint32 node_id = 1;
  required uint32 gpu_id = 2;
  required uint32 cpu_cores_count = 3;
  required uint32 simd_count = 4;
  required uint32 mem_banks_count = 5;
  required uint32 caches_count = 6;
  required uint32 io_links_count = 7;
  required uint32 max_waves_per_simd = 8;
  required uint32 lds_size_in_kb = 9;
  required uint32 gds_size_in_kb = 10;
  required uint32 num_gws = 11;
  required uint32 wave_front_size = 12;
  required uint32 array_count = 13;
  required uint32 simd_arrays_per_engine = 14;
  required uint32 cu_per_simd_array = 15;
  required uint32 simd_per_cu = 16;
  required uint32 max_slots_scratch_cu = 17;
  required uint32 vendor_id = 18;
  required uint32 device_id = 19;
  required uint32 domain = 20;
  required uint32 drm_render_minor = 21;
  required uint64 hive_id = 22;
  required uint32 num_sdma_engines = 23;
  required uint32 num_sdma_xgmi_engines = 24;
  required uint32 num_sdma_queues_per_engine = 25;
  required uint32 num_cp_queues = 26;
  required uint32 fw_version = 27;
  required uint32 capability = 28;
  required uint32 sdma_fw_version = 29;
  required uint32 vram_public = 30;
  required uint64 vram_size = 31;
  repeated dev_iolink iolinks = 32;
}

message kfd_bo_entry {
  required uint64 addr = 1;
  required uint64 size = 2;
  required uint64 offset = 3;
  required uint32 alloc_flags = 4;
  required uint32 gpu_id = 5;
  // GEM handle of the BO's dmabuf, or -1 (0xffffffff) when the BO has none.
  required uint32 handle = 6;
}

message criu_kfd {
  required uint32 pid = 1;
  required uint32 num_of_gpus = 2;
  required uint32 num_of_cpus = 3;
  repeated kfd_device_entry device_entries = 4;
  required uint64 num_of_bos = 5;
  repeated kfd_bo_entry bo_entries = 6;
  required uint32 num_of_objects = 7;
  // Size and 4-byte magic of libhsakmt's /dev/shm/hsakmt_shared_mem.
  required uint64 shared_mem_size = 8;
  required uint32 shared_mem_magic = 9;
  // The kernel's opaque CRIU blob (spec §3).
  required bytes priv_data = 10;
}

message drm_bo_entry {
  required uint64 addr = 1;
  required uint64 size = 2;
  required uint64 offset = 3;
  required uint64 alloc_flags = 4;
  required uint64 alignment = 5;
  required uint32 preferred_domains = 6;
  required uint32 handle = 7;
  required uint32 is_import = 8;
  required uint32 num_of_vms = 9;
  repeated drm_vm_entry vm_entries = 10;
}

message drm_vm_entry {
  required uint64 addr = 1;
  required uint64 size = 2;
  required uint64 offset = 3;
  required uint64 flags = 4;
}

message criu_render_node {
  required uint32 gpu_id = 1;
  required uint32 id = 2;
  required uint32 drm_render_minor = 3;
  required uint64 num_of_bos = 4;
  repeated drm_bo_entry bo_entries = 5;
}

message criu_dmabuf_node {
  required uint32 gem_handle = 1;
}
`;
