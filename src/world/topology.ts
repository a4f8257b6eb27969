/**
 * The GPU topology of a log header, with documented defaults (docs/log-format.md).
 */
import { InputError } from '../errors.js';
import type { DevicePropertyKey, GpuTopology, ProcessSpec, Topology } from './types.js';

export const DEFAULT_CAPS = ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE'];

/** Default GPU fields; `gpuvm_base` is SVM_USER_BASE = TBA/TMA (2 pages) + 2 pages (kfd_flat_memory.c). */
export function gpuDefaults(pageSize: number): Omit<GpuTopology, 'gpu_id' | 'render_minor'> {
  return {
    vram_size: 16n << 30n,
    doorbell_slice_size: 8192,
    xnack_capable: false,
    large_bar: true,
    is_apu: false,
    gpuvm_base: BigInt(4 * pageSize),
    mmio_remap_bus_addr: 0xfe000000n,
  };
}

/**
 * The KFD topology properties of a GPU that the header does not give (`properties`): an
 * MI210-like discrete GPU's (device 0x740f, gfx90a), the values every dump recorded before
 * session 11.
 */
export const DEFAULT_DEVICE_PROPERTIES: Readonly<Record<DevicePropertyKey, number>> = {
  cpu_cores_count: 0,
  simd_count: 4,
  mem_banks_count: 1,
  caches_count: 0,
  io_links_count: 0,
  max_waves_per_simd: 8,
  lds_size_in_kb: 64,
  gds_size_in_kb: 0,
  num_gws: 0,
  wave_front_size: 64,
  array_count: 1,
  simd_arrays_per_engine: 1,
  cu_per_simd_array: 1,
  simd_per_cu: 4,
  max_slots_scratch_cu: 32,
  vendor_id: 0x1002,
  device_id: 0x740f,
  domain: 0,
  num_sdma_engines: 2,
  num_sdma_xgmi_engines: 0,
  num_sdma_queues_per_engine: 8,
  num_cp_queues: 24,
  fw_version: 0,
  capability: 0,
  sdma_fw_version: 0,
};

export const DEVICE_PROPERTY_KEYS = Object.keys(DEFAULT_DEVICE_PROPERTIES) as DevicePropertyKey[];

/** The GC IP version of a GPU whose header gives none: the MI210's (gfx90a), as the default properties. */
export const DEFAULT_GC_VERSION = '9.4.2';

/** A GPU's GC IP version (KFD_GC_VERSION). */
export function gcVersion(g: GpuTopology): string {
  return g.gc_version ?? DEFAULT_GC_VERSION;
}

/** A header's `gc_version`: "major.minor.revision", each below 256 (IP_VERSION packs them in bytes). */
function parseGcVersion(raw: unknown, where: string): string {
  const m = typeof raw === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(raw) : null;
  if (!m || m.slice(1).some((p) => Number(p) > 255))
    throw new InputError(where, 'a GC IP version "major.minor.revision", such as "9.4.3"', raw);
  return m.slice(1).map(Number).join('.');
}

/** A header's `num_xcc`: 1 to 16 XCCs in the GPU's partition (xcc_mask is a 16-bit mask). */
function parseNumXcc(raw: unknown, where: string): number {
  const n = Number(parseUnsigned(raw, 32, where));
  if (n < 1 || n > 16) throw new InputError(where, 'a number of XCCs from 1 to 16', raw);
  return n;
}

/** A header's `hive_id`: a non-zero u64 (0 is a GPU without a hive: leave the field out). */
function parseHiveId(raw: unknown, where: string): bigint {
  const id = parseUnsigned(raw, 64, where);
  if (id === 0n) throw new InputError(where, 'a non-zero XGMI hive id (a GPU without a hive has no hive_id)', raw);
  return id;
}

/**
 * amdgpu_xgmi_same_hive: two different GPUs of one XGMI hive (with amdgpu_use_xgmi_p2p, the
 * default). A GPU is not in the same hive as itself.
 */
export function sameHive(a: GpuTopology, b: GpuTopology): boolean {
  return a.gpu_id !== b.gpu_id && a.hive_id !== undefined && a.hive_id === b.hive_id;
}

/** A GPU's properties: the defaults, with what the header gives over them. */
export function deviceProperties(g: GpuTopology): Record<DevicePropertyKey, number> {
  return { ...DEFAULT_DEVICE_PROPERTIES, ...g.properties };
}

/** A header's `properties` of a GPU: u32 values of known keys, in the order given. */
function parseProperties(raw: unknown, where: string): GpuTopology['properties'] {
  if (!isRecord(raw)) throw new InputError(where, 'an object of KFD topology properties', raw);
  onlyKeys(raw, DEVICE_PROPERTY_KEYS, where);
  const out: Partial<Record<DevicePropertyKey, number>> = {};
  for (const k of Object.keys(raw) as DevicePropertyKey[]) out[k] = Number(parseUnsigned(raw[k], 32, `${where}.${k}`));
  return out;
}

const GPU_KEYS = [
  'gpu_id',
  'render_minor',
  'vram_size',
  'doorbell_slice_size',
  'xnack_capable',
  'large_bar',
  'is_apu',
  'gpuvm_base',
  'mmio_remap_bus_addr',
  'gc_version',
  'num_xcc',
  'hive_id',
  'properties',
] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new InputError(`${where}.${k}`, `one of ${keys.join(', ')}`, k);
  }
}

/** An unsigned integer that fits `bits`, from a JSON number or a decimal/0x string. */
export function parseUnsigned(v: unknown, bits: 32 | 64, where: string): bigint {
  let n: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) n = BigInt(v);
  if (n === undefined || n < 0n || n >= 1n << BigInt(bits))
    throw new InputError(where, `an unsigned ${bits}-bit integer`, v);
  return n;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new InputError(where, 'true or false', v);
  return v;
}

function parseGpu(raw: unknown, where: string, pageSize: number): GpuTopology {
  if (!isRecord(raw)) throw new InputError(where, 'an object', raw);
  onlyKeys(raw, GPU_KEYS, where);
  const d = gpuDefaults(pageSize);
  if (raw.gpu_id === undefined) throw new InputError(`${where}.gpu_id`, 'a gpu_id', undefined);
  if (raw.render_minor === undefined)
    throw new InputError(`${where}.render_minor`, 'a render node minor (128..255)', undefined);
  const gpu_id = Number(parseUnsigned(raw.gpu_id, 32, `${where}.gpu_id`));
  if (gpu_id === 0 || gpu_id >= 1 << 16)
    // KFD_GPU_ID_HASH_WIDTH 16: gpu_ids are non-zero 16-bit hashes (spec §2.6).
    throw new InputError(`${where}.gpu_id`, 'a non-zero 16-bit gpu_id', raw.gpu_id);
  const render_minor = Number(parseUnsigned(raw.render_minor, 32, `${where}.render_minor`));
  if (render_minor < 128 || render_minor > 255)
    throw new InputError(`${where}.render_minor`, 'a render node minor (128..255)', raw.render_minor);
  return {
    gpu_id,
    render_minor,
    vram_size: raw.vram_size === undefined ? d.vram_size : parseUnsigned(raw.vram_size, 64, `${where}.vram_size`),
    doorbell_slice_size:
      raw.doorbell_slice_size === undefined
        ? d.doorbell_slice_size
        : Number(parseUnsigned(raw.doorbell_slice_size, 32, `${where}.doorbell_slice_size`)),
    xnack_capable:
      raw.xnack_capable === undefined ? d.xnack_capable : bool(raw.xnack_capable, `${where}.xnack_capable`),
    large_bar: raw.large_bar === undefined ? d.large_bar : bool(raw.large_bar, `${where}.large_bar`),
    is_apu: raw.is_apu === undefined ? d.is_apu : bool(raw.is_apu, `${where}.is_apu`),
    gpuvm_base: raw.gpuvm_base === undefined ? d.gpuvm_base : parseUnsigned(raw.gpuvm_base, 64, `${where}.gpuvm_base`),
    mmio_remap_bus_addr:
      raw.mmio_remap_bus_addr === undefined
        ? d.mmio_remap_bus_addr
        : parseUnsigned(raw.mmio_remap_bus_addr, 64, `${where}.mmio_remap_bus_addr`),
    ...(raw.gc_version === undefined ? {} : { gc_version: parseGcVersion(raw.gc_version, `${where}.gc_version`) }),
    ...(raw.num_xcc === undefined ? {} : { num_xcc: parseNumXcc(raw.num_xcc, `${where}.num_xcc`) }),
    ...(raw.hive_id === undefined ? {} : { hive_id: parseHiveId(raw.hive_id, `${where}.hive_id`) }),
    ...(raw.properties === undefined ? {} : { properties: parseProperties(raw.properties, `${where}.properties`) }),
  };
}

function parseProcess(raw: unknown, where: string): ProcessSpec {
  if (!isRecord(raw)) throw new InputError(where, 'an object', raw);
  onlyKeys(raw, ['pid', 'caps', 'ptrace_parent'], where);
  const pid = Number(parseUnsigned(raw.pid, 32, `${where}.pid`));
  let caps = DEFAULT_CAPS;
  if (raw.caps !== undefined) {
    if (!Array.isArray(raw.caps) || !raw.caps.every((c) => typeof c === 'string' && /^CAP_[A-Z_]+$/.test(c)))
      throw new InputError(`${where}.caps`, 'a list of capability names such as "CAP_SYS_ADMIN"', raw.caps);
    caps = [...raw.caps] as string[];
  }
  const ptrace_parent =
    raw.ptrace_parent === undefined || raw.ptrace_parent === null
      ? null
      : Number(parseUnsigned(raw.ptrace_parent, 32, `${where}.ptrace_parent`));
  return { pid, caps, ptrace_parent };
}

/** Validate a topology object (the header's `topology`, plus its optional `processes`). */
export function parseTopology(raw: unknown, processes: unknown, where = 'topology'): Topology {
  if (!isRecord(raw)) throw new InputError(where, 'an object', raw);
  onlyKeys(raw, ['page_size', 'gpus'], where);
  const page_size = raw.page_size === undefined ? 4096 : Number(parseUnsigned(raw.page_size, 32, `${where}.page_size`));
  if (page_size < 4096 || (page_size & (page_size - 1)) !== 0)
    throw new InputError(`${where}.page_size`, 'a power of two ≥ 4096', raw.page_size);
  if (!Array.isArray(raw.gpus)) throw new InputError(`${where}.gpus`, 'a list of GPUs', raw.gpus);
  const gpus = raw.gpus.map((g, i) => parseGpu(g, `${where}.gpus[${i}]`, page_size));
  const seen = new Set<number>();
  const minors = new Set<number>();
  gpus.forEach((g, i) => {
    if (seen.has(g.gpu_id)) throw new InputError(`${where}.gpus[${i}].gpu_id`, 'a gpu_id not used before', g.gpu_id);
    if (minors.has(g.render_minor))
      throw new InputError(`${where}.gpus[${i}].render_minor`, 'a render minor not used before', g.render_minor);
    seen.add(g.gpu_id);
    minors.add(g.render_minor);
  });
  let procs: ProcessSpec[] = [];
  if (processes !== undefined) {
    if (!Array.isArray(processes)) throw new InputError('processes', 'a list of processes', processes);
    procs = processes.map((p, i) => parseProcess(p, `processes[${i}]`));
    const pids = new Set<number>();
    procs.forEach((p, i) => {
      if (p.pid === 0) throw new InputError(`processes[${i}].pid`, 'a pid ≥ 1', p.pid);
      if (pids.has(p.pid)) throw new InputError(`processes[${i}].pid`, 'a pid not listed before', p.pid);
      pids.add(p.pid);
    });
  }
  return { page_size, gpus, processes: procs };
}
