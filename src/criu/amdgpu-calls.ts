/**
 * What the render-node dump and restore sequences (amdgpu-upstream.ts,
 * amdgpu-criu-ioctl-v3.ts) share: a call issuer that applies ordinary calls to a world
 * and records them with their results (so a restore is itself a log of ordinary ioctls,
 * design "Layers" 5), and the KFD part of a checkpoint and a restore, which both designs
 * do the same way (AMDKFD_IOC_CRIU_OP, spec §5, §9.4, §9.5).
 */
import '../ioctls/all.js';
import { callDef } from '../ioctls/registry.js';
import { decodeArgs, encodeField } from '../ioctls/schema.js';
import { formatRecord } from '../log/writer.js';
import { KFD_INVALID_FD } from '../uapi/index.js';
import { applyInPlace, thaw } from '../world/step.js';
import type { FdRef, Variants, World } from '../world/types.js';
import type { RestoreResult } from './amdgpu-upstream.js';

/** One call a sequence issued, with what it returned (args in log form, out decoded). */
export interface IssuedCall {
  pid: number;
  call: string;
  fd?: FdRef;
  args: Record<string, unknown>;
  /** The same arguments decoded by the call's schema. */
  decoded: Record<string, unknown>;
  ret: number;
  out: Record<string, unknown>;
  /** Which step of the sequence issued it (for reports). */
  step: string;
}

/** Applies calls to its own mutable copy of a world and keeps the list of calls. */
export class CallIssuer {
  readonly world: World;
  readonly calls: IssuedCall[] = [];

  constructor(world: World) {
    this.world = thaw(world);
  }

  /** Issue a call with log-form args (flag names, enum names, 0x strings) and record it. */
  issue(step: string, pid: number, call: string, fd: FdRef | undefined, raw: Record<string, unknown> = {}) {
    const def = callDef(call);
    if (!def) throw new Error(`no call ${call}`);
    const args = decodeArgs(def.args, raw, `${call}.args`);
    const r = applyInPlace(this.world, { pid, call, ...(fd === undefined ? {} : { fd }), args });
    const logArgs = encodeField({ t: 'struct', fields: def.args }, raw) as Record<string, unknown>;
    this.calls.push({
      pid,
      call,
      ...(fd === undefined ? {} : { fd }),
      args: logArgs,
      decoded: args,
      ret: r.ret,
      out: r.out,
      step,
    });
    return r;
  }
}

/** A KFD checkpoint bucket as CHECKPOINT returns it (decoded). */
export type KfdBucket = Record<string, unknown> & { dmabuf_fd: number; addr: bigint; size: bigint };

/** The KFD part of a dump: CHECKPOINT's out, as the plugin saves it (spec §9.4). */
export interface DumpedKfd {
  devices: Record<string, unknown>[];
  bos: KfdBucket[];
  priv_data: Uint8Array;
  num_objects: number;
}

/**
 * The CHECKPOINT arguments (log form) that PROCESS_INFO's out asks for: empty buffers of the
 * counts and size it reported (the plugin allocates them; CHECKPOINT fills them, spec §5.2).
 */
export function checkpointArgs(processInfo: Record<string, unknown>): Record<string, unknown> {
  return {
    op: 'CHECKPOINT',
    devices: [],
    bos: [],
    priv_data: '',
    num_devices: processInfo.num_devices,
    num_bos: processInfo.num_bos,
    num_objects: processInfo.num_objects,
    priv_data_size: encodeField(undefined, processInfo.priv_data_size),
  };
}

/** AMDKFD_IOC_CRIU_OP PROCESS_INFO + CHECKPOINT by CRIU on the drained /dev/kfd fd (spec §5.1, §5.2). */
export function dumpKfd(x: CallIssuer, criu: number, app: number, kfdFd: number): DumpedKfd | null {
  const fd = { pid: app, fd: kfdFd };
  const info = x.issue('kfd dump', criu, 'AMDKFD_IOC_CRIU_OP', fd, { op: 'PROCESS_INFO' });
  if (info.ret !== 0) return null;
  const c = x.issue('kfd dump', criu, 'AMDKFD_IOC_CRIU_OP', fd, checkpointArgs(info.out));
  if (c.ret !== 0) return null;
  return {
    devices: c.out.devices as Record<string, unknown>[],
    bos: c.out.bos as KfdBucket[],
    priv_data: c.out.priv_data as Uint8Array,
    num_objects: info.out.num_objects as number,
  };
}

/** UNPAUSE at the end of the dump (spec §5.3). */
export function unpauseKfd(x: CallIssuer, criu: number, app: number, kfdFd: number): void {
  x.issue('kfd dump', criu, 'AMDKFD_IOC_CRIU_OP', { pid: app, fd: kfdFd }, { op: 'UNPAUSE' });
}

/** The restored process's files: its /dev/kfd fd and one render-node fd per GPU (topology order). */
export interface RestoredFiles {
  kfd: number;
  drm: Record<number, number>;
}

/** The restored process opens /dev/kfd and every render node (spec §9.5: the plugin opens them). */
export function openRestoredFiles(x: CallIssuer, pid: number): RestoredFiles {
  const kfd = x.issue('open', pid, 'open', undefined, { path: '/dev/kfd' }).out.fd as number;
  const drm: Record<number, number> = {};
  for (const g of x.world.topology.gpus)
    drm[g.gpu_id] = x.issue('open', pid, 'open', undefined, { path: `/dev/dri/renderD${g.render_minor}` }).out
      .fd as number;
  return { kfd, drm };
}

/**
 * AMDKFD_IOC_CRIU_OP RESTORE in the restored process, identity gpu ids, device buckets
 * naming its render-node fds (spec §5.4); returns the restored buckets (their dmabuf_fd are
 * fds of the restored process) or null.
 */
export function restoreKfd(x: CallIssuer, pid: number, files: RestoredFiles, kfd: DumpedKfd): KfdBucket[] | null {
  const r = x.issue('kfd restore', pid, 'AMDKFD_IOC_CRIU_OP', files.kfd, {
    op: 'RESTORE',
    devices: kfd.devices.map((d) => ({
      user_gpu_id: d.user_gpu_id,
      actual_gpu_id: d.actual_gpu_id,
      drm_fd: files.drm[d.actual_gpu_id as number],
      pad: 0,
    })),
    bos: kfd.bos.map((b) => encodeField(undefined, b)),
    priv_data: Buffer.from(kfd.priv_data).toString('hex'),
    num_objects: kfd.num_objects,
  });
  return r.ret === 0 ? (r.out.bos as KfdBucket[]) : null;
}

/**
 * What both render-node restore designs start from: the issuer, the restored process's
 * files, the KFD RESTORE step (run once, whenever the design places it) and the result.
 */
export class RestoreSession {
  readonly x: CallIssuer;
  readonly files: RestoredFiles;
  /** The KFD buckets the KFD RESTORE returned (null before it ran, or when it failed). */
  kfdBuckets: KfdBucket[] | null = null;

  constructor(
    world: World,
    readonly pid: number,
    private readonly kfd: DumpedKfd | null,
  ) {
    this.x = new CallIssuer(world);
    this.files = openRestoredFiles(this.x, pid);
  }

  /** KFD CRIU_OP RESTORE of the dumped /dev/kfd, if there is one: a failure message or null. */
  restoreKfd(): string | null {
    if (!this.kfd) return null;
    this.kfdBuckets = restoreKfd(this.x, this.pid, this.files, this.kfd);
    return this.kfdBuckets === null ? 'KFD RESTORE failed' : null;
  }

  result(failure: string | null): RestoreResult {
    return { ok: failure === null, calls: this.x.calls, world: this.x.world, drmFds: this.files.drm, failure };
  }
}

/**
 * Which render-node handle of the dumped file a KFD BO's dma-buf is: PRIME_FD_TO_HANDLE of
 * the checkpoint's dma-buf fd on the drained render-node fd gives the process's own handle
 * when the object is imported there (its prime cache knows the dma-buf). When it is not, the
 * call made a new handle, which is closed again. This is what the plugin's
 * shared_bo_has_exporter means to find (spec §9.8; §12 q9 on how the plugin really looks).
 */
export function kfdImportsOf(
  x: CallIssuer,
  criu: number,
  app: number,
  drmFd: number,
  kfd: DumpedKfd,
  handles: readonly number[],
): Map<number, number> {
  const byHandle = new Map<number, number>();
  const fd = { pid: app, fd: drmFd };
  kfd.bos.forEach((b, i) => {
    if (b.dmabuf_fd === KFD_INVALID_FD) return;
    const r = x.issue('correlate', criu, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', fd, { fd: b.dmabuf_fd });
    if (r.ret !== 0) return;
    const h = r.out.handle as number;
    if (handles.includes(h)) byHandle.set(h, i);
    else x.issue('correlate', criu, 'DRM_IOCTL_GEM_CLOSE', fd, { handle: h });
  });
  return byHandle;
}

/**
 * Calls as a gpucr log (version 1): a header with the world's topology, processes and the
 * given variants, then one line per call with its result as an assertion, so that
 * `gpucr replay` checks every result again.
 */
export function callsAsLog(world: World, variants: Partial<Variants>, calls: readonly IssuedCall[]): string {
  const { processes, ...topology } = world.topology;
  const header: Record<string, unknown> = {
    gpucr: 1,
    topology: {
      page_size: topology.page_size,
      gpus: topology.gpus.map((g) => ({ gpu_id: g.gpu_id, render_minor: g.render_minor })),
    },
  };
  if (processes.length)
    header.processes = processes.map((p) => ({
      pid: p.pid,
      ...(p.ptrace_parent === null ? {} : { ptrace_parent: p.ptrace_parent }),
    }));
  if (Object.keys(variants).length) header.variants = { ...variants };
  const lines = [JSON.stringify(header)];
  for (const c of calls)
    lines.push(
      formatRecord(
        { pid: c.pid, call: c.call, ...(c.fd === undefined ? {} : { fd: c.fd }), args: c.decoded },
        { ret: c.ret, out: c.out },
      ),
    );
  return `${lines.join('\n')}\n`;
}
