/**
 * amdkfd CRIU kernel-private data (`priv_data`): encode/decode in the kernel's exact x86-64 layout.
 *
 * Blob order (spec §3): [process priv][device priv × num_devices][bo priv × num_bos][objects].
 * Objects are queues (header + MQD + control stack), events and SVM ranges (header + 4 + n_pdds
 * attrs), each starting with its u32 object_type. See docs/kfd-priv-data.md for the table.
 *
 * Implementation is split across kfd-priv-layout.ts (types, offsets, sizes, PrivDataError),
 * kfd-priv-encode.ts (criu_checkpoint side) and kfd-priv-decode.ts (criu_restore side).
 */

export {
  decodePrivData,
  type PrivDataCounts,
  Reader as PrivReader,
  readBoPriv,
  readEvent,
  readQueue,
  readSvm,
} from './kfd-priv-decode.js';
export { encodePrivData, privDataSize } from './kfd-priv-encode.js';
export {
  type BoPriv,
  checkMaxGpuInstance,
  DEFAULT_MAX_GPU_INSTANCE,
  type DevicePriv,
  EINVAL,
  type EventPriv,
  type HwExceptionData,
  KFD_CRIU_OBJECT_TYPE,
  KFD_CRIU_PRIV_VERSION,
  KFD_CRIU_SVM_COMMON_ATTRS,
  KFD_SVM_ATTR,
  type MaxGpuInstance,
  type MemoryExceptionData,
  type MemoryExceptionFailure,
  type ObjectPriv,
  PRIV_EVENT_TYPE,
  PRIV_OFFSETS,
  PRIV_SIZES,
  type PrivData,
  PrivDataError,
  type ProcessPriv,
  QUEUE_U32,
  QUEUE_U64,
  type QueuePriv,
  type SvmAttr,
  type SvmRangePriv,
} from './kfd-priv-layout.js';
