/**
 * Encode/decode of the three message images (spec §9.1): `amdgpu-kfd-<id>.img` (criu_kfd),
 * `amdgpu-renderD-<id>.img` (criu_render_node), `amdgpu-dmabuf_<id>.img` (criu_dmabuf_node).
 * Each file is the 8-byte size prefix followed by the protobuf payload.
 *
 * Encoding and decoding run the same checks (docs/criu-images.md lists them): gpucr never writes
 * an image it would reject, and a reader gets an ImageError naming the file and the field.
 */
import { decodePrivData, KFD_CRIU_OBJECT_TYPE, KFD_CRIU_PRIV_VERSION, PrivDataError } from '../kfd-priv.js';
import { DEFAULT_MAX_GPU_INSTANCE, type MaxGpuInstance, type PrivData } from '../kfd-priv-layout.js';
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../../uapi/index.js';
import { decodePayload, encodePayload, splitSizePrefix, withSizePrefix } from './codec.js';
import {
  type CriuDmabufNode,
  type CriuKfd,
  type CriuRenderNode,
  GEM_HANDLE_MAX,
  hex,
  ImageError,
  NO_GEM_HANDLE,
  TOPO_IOLINK_TYPE,
} from './types.js';

export interface KfdImageOptions {
  /** MAX_GPU_INSTANCE of the kernel that wrote priv_data (fixes the BO record size, spec §3); default 64. */
  maxGpuInstance?: MaxGpuInstance;
}

const U64_LIMIT = 1n << 64n;
const F = KFD_IOC_ALLOC_MEM_FLAGS;
const MEMORY_TYPES = F.VRAM | F.GTT | F.USERPTR | F.DOORBELL | F.MMIO_REMAP;
const KNOWN_ALLOC_FLAGS = Object.values(F).reduce((a, b) => (a | b) >>> 0, 0);

function fail(file: string, field: string, expected: string, found: unknown, foundText?: string): never {
  throw new ImageError(file, field, expected, found, foundText);
}

function baseName(file: string): string {
  const i = file.lastIndexOf('/');
  return i < 0 ? file : file.slice(i + 1);
}

// ---------------------------------------------------------------------------------------------
// criu_kfd

/** GPU user gpu_ids of a criu_kfd's device entries, after the entry checks. */
function checkDevices(msg: CriuKfd, file: string): Set<number> {
  const entries = msg.device_entries;
  if (msg.num_of_gpus + msg.num_of_cpus !== entries.length) {
    fail(
      file,
      'num_of_gpus + num_of_cpus',
      `${entries.length} (one device_entries element per topology node, spec §9.4 g)`,
      msg.num_of_gpus + msg.num_of_cpus,
    );
  }
  const nodes = new Set<number>();
  const gpus = new Set<number>();
  entries.forEach((d, i) => {
    const p = `device_entries[${i}]`;
    if (nodes.has(d.node_id)) fail(file, `${p}.node_id`, 'a node_id no other device entry has', d.node_id);
    nodes.add(d.node_id);
    if (d.gpu_id !== 0) {
      if (gpus.has(d.gpu_id)) {
        fail(file, `${p}.gpu_id`, 'a gpu_id no other device entry has', d.gpu_id, hex(d.gpu_id));
      }
      gpus.add(d.gpu_id);
    }
    if (d.vram_public !== 0 && d.vram_public !== 1) fail(file, `${p}.vram_public`, '0 or 1', d.vram_public);
  });
  if (gpus.size !== msg.num_of_gpus) {
    fail(file, 'num_of_gpus', `${gpus.size} (the device entries with a non-zero gpu_id)`, msg.num_of_gpus);
  }
  entries.forEach((d, i) => {
    d.iolinks.forEach((l, j) => {
      const p = `device_entries[${i}].iolinks[${j}]`;
      if (l.type !== TOPO_IOLINK_TYPE.PCIE && l.type !== TOPO_IOLINK_TYPE.XGMI) {
        fail(file, `${p}.type`, `${TOPO_IOLINK_TYPE.PCIE} (PCIe) or ${TOPO_IOLINK_TYPE.XGMI} (XGMI)`, l.type);
      }
      if (!nodes.has(l.node_to_id)) {
        fail(
          file,
          `${p}.node_to_id`,
          'the node_id of a device entry (the plugin saves only valid iolinks)',
          l.node_to_id,
        );
      }
    });
  });
  return gpus;
}

function checkBos(msg: CriuKfd, file: string, gpus: Set<number>): void {
  if (msg.num_of_bos !== BigInt(msg.bo_entries.length)) {
    fail(file, 'num_of_bos', `${msg.bo_entries.length} (the number of bo_entries)`, msg.num_of_bos);
  }
  msg.bo_entries.forEach((b, i) => {
    const p = `bo_entries[${i}]`;
    if (b.size === 0n) fail(file, `${p}.size`, 'a non-zero size (ALLOC_MEMORY_OF_GPU rejects 0, spec §7.2)', b.size);
    if (b.addr + b.size > U64_LIMIT) {
      fail(file, `${p}.addr + size`, 'at most 2^64', b.addr + b.size, hex(b.addr + b.size));
    }
    if (!gpus.has(b.gpu_id)) {
      fail(file, `${p}.gpu_id`, 'the gpu_id of a GPU device entry', b.gpu_id, hex(b.gpu_id));
    }
    if ((b.alloc_flags & ~KNOWN_ALLOC_FLAGS) >>> 0 !== 0) {
      fail(
        file,
        `${p}.alloc_flags`,
        'KFD_IOC_ALLOC_MEM_FLAGS_* bits only (spec §2.3)',
        b.alloc_flags,
        `unknown bits ${hex((b.alloc_flags & ~KNOWN_ALLOC_FLAGS) >>> 0)}`,
      );
    }
    if ((b.alloc_flags & MEMORY_TYPES) === 0) {
      fail(
        file,
        `${p}.alloc_flags`,
        'a memory type (VRAM, GTT, USERPTR, DOORBELL or MMIO_REMAP, spec §2.3)',
        b.alloc_flags,
        hex(b.alloc_flags),
      );
    }
    if (b.handle !== NO_GEM_HANDLE && b.handle > GEM_HANDLE_MAX) {
      fail(file, `${p}.handle`, 'a GEM handle ≤ INT_MAX or -1 (0xffffffff) for none', b.handle, hex(b.handle));
    }
  });
}

/**
 * Decodes `priv_data` as `criu_restore` would with the image's counts (num_of_gpus devices,
 * num_of_bos BOs, num_of_objects objects; spec §3, §5.4) and checks what the image alone can tell:
 * the blob version, and that BO mappings and queues name GPUs of the image.
 */
export function decodeKfdPriv(msg: CriuKfd, file: string, opts: KfdImageOptions = {}): PrivData {
  const max = opts.maxGpuInstance ?? DEFAULT_MAX_GPU_INSTANCE;
  let priv: PrivData;
  try {
    priv = decodePrivData(
      msg.priv_data,
      { num_devices: msg.num_of_gpus, num_bos: msg.bo_entries.length, num_objects: msg.num_of_objects },
      max,
    );
  } catch (e) {
    if (!(e instanceof PrivDataError)) throw e;
    fail(
      file,
      `priv_data.${e.field}`,
      `a blob criu_restore accepts with num_of_gpus ${msg.num_of_gpus}, num_of_bos ${msg.bo_entries.length}, ` +
        `num_of_objects ${msg.num_of_objects}, MAX_GPU_INSTANCE ${max} (spec §3)`,
      e.offset,
      e.message.replace(/ \(field .*\)$/, ''),
    );
  }
  if (priv.process.version !== KFD_CRIU_PRIV_VERSION) {
    fail(
      file,
      'priv_data.process.version',
      `KFD_CRIU_PRIV_VERSION ${KFD_CRIU_PRIV_VERSION} (the only blob layout known, spec §3)`,
      priv.process.version,
    );
  }
  const gpus = new Set(msg.device_entries.filter((d) => d.gpu_id !== 0).map((d) => d.gpu_id));
  priv.bos.forEach((b, i) => {
    b.mapped_gpuids.forEach((g, j) => {
      if (!gpus.has(g)) {
        fail(file, `priv_data.bos[${i}].mapped_gpuids[${j}]`, 'the user gpu_id of a GPU device entry', g, hex(g));
      }
    });
  });
  priv.objects.forEach((o, i) => {
    if (o.object_type === KFD_CRIU_OBJECT_TYPE.QUEUE && !gpus.has(o.gpu_id)) {
      fail(file, `priv_data.objects[${i}].gpu_id`, 'the user gpu_id of a GPU device entry', o.gpu_id, hex(o.gpu_id));
    }
  });
  return priv;
}

/** Every check of a criu_kfd message (docs/criu-images.md); returns its decoded priv_data. */
export function validateKfd(msg: CriuKfd, file: string, opts: KfdImageOptions = {}): PrivData {
  const gpus = checkDevices(msg, file);
  checkBos(msg, file, gpus);
  return decodeKfdPriv(msg, file, opts);
}

/** The bytes of `amdgpu-kfd-<id>.img` for `msg` (size prefix + criu_kfd payload). */
export function encodeKfdImage(msg: CriuKfd, file = 'criu_kfd', opts: KfdImageOptions = {}): Uint8Array {
  const payload = encodePayload('criu_kfd', msg, file);
  validateKfd(msg, file, opts);
  return withSizePrefix(payload);
}

/** Decodes and checks the bytes of a whole `amdgpu-kfd-<id>.img` file; `file` names it in errors. */
export function decodeKfdImage(bytes: Uint8Array, file: string, opts: KfdImageOptions = {}): CriuKfd {
  const msg = decodePayload('criu_kfd', splitSizePrefix(bytes, file), file) as unknown as CriuKfd;
  validateKfd(msg, file, opts);
  return msg;
}

// ---------------------------------------------------------------------------------------------
// criu_render_node

/** Every check of a criu_render_node message (docs/criu-images.md). */
export function validateRenderNode(msg: CriuRenderNode, file: string): void {
  if (msg.gpu_id === 0) fail(file, 'gpu_id', 'the non-zero user gpu_id of the render node GPU', 0);
  const m = /^amdgpu-renderD-(\d+)\.img$/.exec(baseName(file));
  if (m && Number(m[1]) !== msg.id) fail(file, 'id', `${m[1]} (the file id in the image's name)`, msg.id);
  if (msg.num_of_bos !== BigInt(msg.bo_entries.length)) {
    fail(file, 'num_of_bos', `${msg.bo_entries.length} (the number of bo_entries)`, msg.num_of_bos);
  }
  const handles = new Set<number>();
  msg.bo_entries.forEach((b, i) => {
    const p = `bo_entries[${i}]`;
    if (b.handle > GEM_HANDLE_MAX) {
      fail(file, `${p}.handle`, 'a GEM handle ≤ INT_MAX (GEM_CHANGE_HANDLE restores it, spec §8.2)', b.handle);
    }
    if (handles.has(b.handle)) fail(file, `${p}.handle`, 'a GEM handle no other bo_entry has', b.handle);
    handles.add(b.handle);
    if (b.is_import !== 0 && b.is_import !== 1) fail(file, `${p}.is_import`, '0 or 1', b.is_import);
    if (b.num_of_vms !== b.vm_entries.length) {
      fail(file, `${p}.num_of_vms`, `${b.vm_entries.length} (the number of vm_entries)`, b.num_of_vms);
    }
    const last = b.vm_entries[b.vm_entries.length - 1];
    const want = last === undefined ? 0n : last.addr;
    if (b.addr !== want) {
      fail(
        file,
        `${p}.addr`,
        last === undefined
          ? '0 (a BO without VM entries keeps the initial addr, spec §9.2)'
          : `${hex(want)} (the addr of the last vm_entries element, spec §9.2)`,
        b.addr,
        hex(b.addr),
      );
    }
  });
}

/** The bytes of `amdgpu-renderD-<id>.img` for `msg`. */
export function encodeRenderDImage(msg: CriuRenderNode, file = 'criu_render_node'): Uint8Array {
  const payload = encodePayload('criu_render_node', msg, file);
  validateRenderNode(msg, file);
  return withSizePrefix(payload);
}

/** Decodes and checks a whole `amdgpu-renderD-<id>.img` file. */
export function decodeRenderDImage(bytes: Uint8Array, file: string): CriuRenderNode {
  const msg = decodePayload('criu_render_node', splitSizePrefix(bytes, file), file) as unknown as CriuRenderNode;
  validateRenderNode(msg, file);
  return msg;
}

// ---------------------------------------------------------------------------------------------
// criu_dmabuf_node

/** The checks of a criu_dmabuf_node message. */
export function validateDmabuf(msg: CriuDmabufNode, file: string): void {
  if (msg.gem_handle > GEM_HANDLE_MAX) fail(file, 'gem_handle', 'a GEM handle ≤ INT_MAX', msg.gem_handle);
}

/** The bytes of `amdgpu-dmabuf_<id>.img` for `msg`. */
export function encodeDmabufImage(msg: CriuDmabufNode, file = 'criu_dmabuf_node'): Uint8Array {
  const payload = encodePayload('criu_dmabuf_node', msg, file);
  validateDmabuf(msg, file);
  return withSizePrefix(payload);
}

/** Decodes and checks a whole `amdgpu-dmabuf_<id>.img` file. */
export function decodeDmabufImage(bytes: Uint8Array, file: string): CriuDmabufNode {
  const msg = decodePayload('criu_dmabuf_node', splitSizePrefix(bytes, file), file) as unknown as CriuDmabufNode;
  validateDmabuf(msg, file);
  return msg;
}
