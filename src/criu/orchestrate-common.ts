/**
 * What the CRIU dump and restore orchestrations (src/criu/dump.ts, src/criu/restore.ts) share:
 * the call issuer that applies and records every ioctl, the `kfd_device_entry` of a GPU, an
 * index of a task's KFD BOs by (user gpu id, address), and the test for an activated process.
 */
import '../ioctls/all.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs, fieldNames, type FieldType, MAX_INLINE_ARRAY, type Schema } from '../ioctls/schema.js';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import { contextOf, inState } from '../world/objects.js';
import { applyInPlace, type CallResult } from '../world/step.js';
import type { Call, FdRef, World } from '../world/types.js';
import { allocIdr } from '../world/idr.js';
import { liveTask } from '../world/world.js';
import type { ImageDir, PageContent } from './images/index.js';

/** One call an orchestration issued: the call as the model received it (arguments decoded) and its result. */
export interface OrchestratedCall extends Call, CallResult {
  /** The CRIU stage / plugin hook that issued it. */
  stage: string;
}

const U32_MAX = 0xffffffff;
const U64_END = 1n << 64n;

const isU32 = (v: unknown) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX && !Object.is(v, -0);

/**
 * Whether `v` is already a value of `type` as decodeArgs returns it (u64 a bigint, u32, flags
 * and enums numbers, bytes a Uint8Array, a struct every field of its schema in schema order,
 * a null pointer null): decoding it again would give back the same value.
 */
function isDecoded(type: FieldType, v: unknown): boolean {
  switch (type.t) {
    case 'u32':
    case 'flags':
    case 'enum':
      return isU32(v);
    case 'u64':
      return typeof v === 'bigint' && v >= 0n && v < U64_END;
    case 's32':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 && !Object.is(v, -0);
    case 'bool':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'bytes':
      return v instanceof Uint8Array && Object.getPrototypeOf(v) === Uint8Array.prototype;
    case 'array':
      if (!Array.isArray(v) || v.length > MAX_INLINE_ARRAY) return false;
      for (const x of v) if (!isDecoded(type.of, x)) return false;
      return true;
    case 'struct':
      return isDecodedArgs(type.fields, v);
    case 'nullable':
      return v === null || isDecoded(type.of, v);
  }
}

/**
 * isDecoded of a struct: a plain object with exactly the schema's fields, in its order.
 * Walked with for-in (V8's per-shape key cache) rather than Object.keys, which copies the
 * key list of every struct: RESTORE's bucket array has one struct per BO.
 */
function isDecodedArgs(schema: Schema, v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const fields = fieldNames(schema);
  let i = 0;
  for (const k in v) {
    if (k !== fields[i] || !isDecoded(schema[k]!, (v as Record<string, unknown>)[k])) return false;
    i++;
  }
  return i === fields.length;
}

/** Arguments with their byte buffers as hex (the log form decodeArgs reads): the rest is read as it is. */
function logForm(raw: Record<string, unknown>): Record<string, unknown> {
  let out = raw;
  for (const k of Object.keys(raw)) {
    const v = raw[k];
    if (!(v instanceof Uint8Array)) continue;
    if (out === raw) out = { ...raw };
    out[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  }
  return out;
}

/** Applies calls to a world in place and records them (the shape CallIssuer users expect). */
export class Issuer {
  readonly calls: OrchestratedCall[] = [];
  /** Called after every issued call. */
  onIssued: (() => void) | undefined;
  constructor(readonly world: World) {}

  /**
   * Apply `call` with arguments `raw` in their log form, or already decoded (every field, in
   * schema order: see isDecoded), which are taken as they are (the orchestration's per-BO
   * calls, and RESTORE's bucket array, skip a decoding that would give back the same value).
   */
  issue(
    stage: string,
    pid: number | undefined,
    call: string,
    fd: FdRef | undefined,
    raw: Record<string, unknown> = {},
  ): CallResult {
    const def = callDef(call);
    if (!def) throw new Error(`no call ${call}`);
    const args = isDecodedArgs(def.args, raw) ? raw : decodeArgs(def.args, logForm(raw), `${call}.args`);
    const c: Call = { call, args };
    if (pid !== undefined) c.pid = pid;
    if (fd !== undefined) c.fd = fd;
    const r = applyInPlace(this.world, c);
    // the call becomes its record (the same fields in the same order as { ...c, ret, out, stage })
    const rec = c as OrchestratedCall;
    rec.ret = r.ret;
    rec.out = r.out;
    rec.stage = stage;
    this.calls.push(rec);
    this.onIssued?.();
    return r;
  }
}

/** The images of a dump (ImageDir) plus what a restore needs that the images name indirectly. */
export interface DumpResult {
  ok: boolean;
  failure: string | null;
  /** The criu.dump object. */
  object: string;
  images: ImageDir;
  /**
   * Contents of userptr BOs: ordinary process memory, which CRIU core saves in its own pages
   * images, not the plugin (spec §9.7). Keyed by user gpu_id and address.
   */
  memory: ProcessMemory[];
  calls: OrchestratedCall[];
  /**
   * The dumped tasks, in dump order, with the CRIU file id of each fd the plugin dumped: what
   * CRIU core's pstree and fdinfo images say (not the plugin's; src/criu/tasks-image.ts).
   */
  tasks: DumpedTask[];
}

/** A dumped task and its plugin files: fd → CRIU file id (one id per open file, spec §9.3). */
export interface DumpedTask {
  pid: number;
  fds: { fd: number; id: number }[];
}

/** One userptr BO's pages as CRIU core dumps them (process memory). */
export interface ProcessMemory {
  /** The task whose memory it is. */
  pid: number;
  gpu_id: number;
  addr: bigint;
  content: PageContent;
}

export const KFD_MIN = { major: 1, minor: 8 };

/**
 * kernel_supports_criu's verdict on a GET_VERSION result (dump, spec §9.4 d; restore, §9.5
 * step 3.1): null when the KFD ioctl version is KFD_MIN or later (AMDKFD_IOC_CRIU_OP), else why not.
 */
export function criuVersionFailure(v: CallResult): string | null {
  const major = v.out.major_version as number;
  const minor = v.out.minor_version as number;
  if (v.ret !== 0 || major < KFD_MIN.major || (major === KFD_MIN.major && minor < KFD_MIN.minor))
    return `KFD ioctl version ${major}.${minor} < ${KFD_MIN.major}.${KFD_MIN.minor}`;
  return null;
}

/** A KFD BO found by user gpu id and address, with its idr handle. */
export interface IndexedBo {
  bo: BoContext;
  idr: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** An address as a Map key: a number while exact (BO addresses are below 2^53), else the bigint itself. */
const addrKey = (addr: bigint): number | bigint => (addr <= MAX_SAFE ? Number(addr) : addr);

/** A task's KFD BOs by user gpu id and address, with their idr handles (one pass over the pdds). */
export class KfdBoIndex {
  private readonly byGpu = new Map<number, Map<number | bigint, IndexedBo>>();

  get(userGpuId: number, addr: bigint): IndexedBo | undefined {
    return this.byGpu.get(userGpuId)?.get(addrKey(addr));
  }

  /** Keep the first BO of an address (the lowest idr handle, as a scan in idr order finds). */
  addFirst(userGpuId: number, bo: BoContext, idr: number): void {
    let m = this.byGpu.get(userGpuId);
    if (!m) this.byGpu.set(userGpuId, (m = new Map()));
    const key = addrKey(bo.va);
    if (!m.has(key)) m.set(key, { bo, idr });
  }
}

/**
 * Index the task's KFD BOs by (user gpu id, address); the lowest idr handle wins, as a scan in
 * idr order finds. With `only`, just the BOs at those (user gpu id, address) pairs.
 */
export function kfdBoIndex(w: World, pid: number, only?: readonly { gpu_id: number; addr: bigint }[]): KfdBoIndex {
  let wanted: Map<number, Set<number | bigint>> | undefined;
  if (only) {
    wanted = new Map();
    for (const o of only) {
      let set = wanted.get(o.gpu_id);
      if (!set) wanted.set(o.gpu_id, (set = new Set()));
      set.add(addrKey(o.addr));
    }
  }
  const index = new KfdBoIndex();
  for (const p of liveTask(w, pid)?.pdds ?? []) {
    const user = contextOf<PddContext>(w, p).user_gpu_id;
    const want = wanted?.get(user);
    if (wanted && !want) continue;
    const idr = allocIdr(w, p);
    // integer keys enumerate in ascending order: idr order
    for (const h in idr) {
      const bo = contextOf<BoContext>(w, idr[h as unknown as number]!);
      if (want && !want.has(addrKey(bo.va))) continue;
      index.addFirst(user, bo, Number(h));
    }
  }
  return index;
}

/**
 * The restored process's GPU state is active: its kfd_process left the RESTORE → RESUME
 * block (MMU notifiers, userptr and SVM mappings, spec §5.5) or one of its queues runs.
 */
export function gpuActivated(w: World, pid: number): boolean {
  const t = liveTask(w, pid);
  if (!t?.kfd_process) return false;
  if (!inState(w, t.kfd_process, 'alive.mmu.blocked')) return true;
  return Object.values(t.queues).some((q) => inState(w, q, 'active'));
}
