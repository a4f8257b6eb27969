/**
 * Decoder for the amdkfd CRIU `priv_data` blob that rejects exactly what the kernel restore path
 * (`criu_restore`, spec §5.4) rejects while *parsing* the blob:
 *  - any read past the end ("blob overflow") → -EINVAL,
 *  - an object whose first u32 is not QUEUE/EVENT/SVM_RANGE ("Invalid object type") → -EINVAL,
 *  - bytes left after num_objects objects ("Invalid private data size", step 6) → -EINVAL.
 * Semantic checks that need process state (version, n_pdds, gpu ids, queue types, ...) belong to
 * the restore handler, not here.
 * The blob's sections are read in the kernel's order, one step each (decodePrivData); the object
 * records (queues, events, SVM ranges) in kfd-priv-decode-objects.ts, through the cursor of
 * kfd-priv-reader.ts.
 */
import {
  type BoPriv,
  checkMaxGpuInstance,
  DEFAULT_MAX_GPU_INSTANCE,
  type DevicePriv,
  EINVAL,
  type MaxGpuInstance,
  type ObjectPriv,
  PRIV_OFFSETS,
  PRIV_SIZES,
  type PrivData,
  PrivDataError,
  type ProcessPriv,
} from './kfd-priv-layout.js';
import { readObject } from './kfd-priv-decode-objects.js';
import { Reader } from './kfd-priv-reader.js';

export { readEvent, readQueue, readSvm } from './kfd-priv-decode-objects.js';
export { Reader } from './kfd-priv-reader.js';

export interface PrivDataCounts {
  num_devices: number;
  num_bos: number;
  num_objects: number;
}

function checkCount(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new PrivDataError(`${name} must be a u32, got ${String(v)}`, 0, name, EINVAL);
  }
  return v;
}

/** One kfd_criu_bo_priv_data record at the cursor (mapped_gpuids read up to the 0 terminator). */
export function readBoPriv(r: Reader, max: MaxGpuInstance, field: string | number): BoPriv {
  const boSize = PRIV_SIZES.bo(max);
  // a number i names the record bos[i] (the name is made only for an error)
  if (boSize > r.remaining) r.need(boSize, typeof field === 'number' ? `bos[${field}]` : field);
  const base = r.pos;
  const mapped: number[] = [];
  // Kernel maps while mapped_gpuids[j] != 0 (0-terminated, at most MAX entries).
  for (let j = 0; j < max; j++) {
    const g = r.u32(base + PRIV_OFFSETS.bo.mapped_gpuids + 4 * j);
    if (g === 0) break;
    mapped.push(g);
  }
  r.pos += boSize;
  return {
    user_addr: r.u64(base + PRIV_OFFSETS.bo.user_addr),
    idr_handle: r.u32(base + PRIV_OFFSETS.bo.idr_handle),
    mapped_gpuids: mapped,
  };
}

/**
 * Decodes a `priv_data` blob as `criu_restore` consumes it (spec §5.4 steps 2–6).
 *
 * `counts` are the RESTORE args `num_devices`, `num_bos`, `num_objects`. The number of attrs of an
 * SVM range is not stored in the blob: the kernel derives it as `4 + n_pdds`, and since RESTORE
 * requires `num_devices == n_pdds` (§5.4 step 3) this decoder uses `counts.num_devices` as n_pdds.
 * `max` is MAX_GPU_INSTANCE of the restoring kernel (default 64); it fixes the BO record size.
 *
 * The process version is returned, not checked (that is the restore handler's job).
 * Throws PrivDataError (errno -22) for every rejection; never allocates in proportion to a count
 * before checking it against the remaining bytes.
 */
export function decodePrivData(
  blob: Uint8Array,
  counts: PrivDataCounts,
  max: MaxGpuInstance = DEFAULT_MAX_GPU_INSTANCE,
): PrivData {
  if (!(blob instanceof Uint8Array)) throw new TypeError('decodePrivData: blob must be a Uint8Array');
  checkMaxGpuInstance(max);
  const numDevices = checkCount(counts.num_devices, 'num_devices');
  const numBos = checkCount(counts.num_bos, 'num_bos');
  const numObjects = checkCount(counts.num_objects, 'num_objects');
  const r = new Reader(blob);
  const process = readProcess(r);
  const devices = readDevices(r, numDevices);
  const bos = readBos(r, numBos, max);
  const objects = readObjects(r, numObjects, numDevices);
  checkConsumed(r);
  return { process, devices, bos, objects };
}

/** Step 2: criu_restore_process. */
function readProcess(r: Reader): ProcessPriv {
  r.need(PRIV_SIZES.process, 'process');
  const process = {
    version: r.u32(PRIV_OFFSETS.process.version),
    xnack_mode: r.u32(PRIV_OFFSETS.process.xnack_mode),
  };
  r.pos += PRIV_SIZES.process;
  return process;
}

/** Step 3: criu_restore_devices (content ignored by the kernel; decoded for round trips). */
function readDevices(r: Reader, numDevices: number): DevicePriv[] {
  r.need(numDevices * PRIV_SIZES.device, 'devices');
  const devices: DevicePriv[] = [];
  for (let i = 0; i < numDevices; i++) {
    devices.push({ reserved: r.u64(r.pos + PRIV_OFFSETS.device.reserved) });
    r.pos += PRIV_SIZES.device;
  }
  return devices;
}

/** Step 4: criu_restore_bos — all records checked up front, so no single record overflows. */
function readBos(r: Reader, numBos: number, max: MaxGpuInstance): BoPriv[] {
  r.need(numBos * PRIV_SIZES.bo(max), 'bos');
  const bos: BoPriv[] = [];
  for (let i = 0; i < numBos; i++) bos.push(readBoPriv(r, max, i));
  return bos;
}

/** Step 5: criu_restore_objects — dispatch on the first u32 of each record. */
function readObjects(r: Reader, numObjects: number, nPdds: number): ObjectPriv[] {
  const objects: ObjectPriv[] = [];
  for (let i = 0; i < numObjects; i++) objects.push(readObject(r, i, nPdds));
  return objects;
}

/** Step 6: priv_offset != priv_data_size. */
function checkConsumed(r: Reader): void {
  if (r.remaining !== 0) {
    throw new PrivDataError(
      `Invalid private data size: consumed ${r.pos} of ${r.blob.byteLength} bytes`,
      r.pos,
      'priv_data_size',
      EINVAL,
    );
  }
}
