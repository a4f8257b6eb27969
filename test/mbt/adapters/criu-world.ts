/**
 * A small world for the CRIU orchestration suites: two GPUs, the application (pid 100) traced
 * by CRIU (pid 99), and helpers that issue calls through `applyInPlace`.
 */
import '../../../src/ioctls/all.js';
import { callDef } from '../../../src/ioctls/registry.js';
import { decodeArgs } from '../../../src/ioctls/schema.js';
import { applyInPlace } from '../../../src/world/step.js';
import type { Call, FdRef, Variants, World } from '../../../src/world/types.js';
import { parseTopology } from '../../../src/world/topology.js';
import { createWorld } from '../../../src/world/world.js';

export const APP = 100;
/** A second task of the application's tree (CAP_SYS_PTRACE: it may take the application's fds). */
export const PEER = 101;
export const CRIU = 99;
/** A process without CAP_CHECKPOINT_RESTORE / CAP_SYS_ADMIN. */
export const UNPRIVILEGED = 98;
export const GPU_A = 0x1001;
export const GPU_B = 0x2002;
const MINOR = { [GPU_A]: 128, [GPU_B]: 129 } as Record<number, number>;

export class CriuWorld {
  world: World;
  subject: string | undefined;

  constructor(variants: Partial<Variants> = {}) {
    const topology = parseTopology(
      {
        page_size: 4096,
        gpus: [
          { gpu_id: GPU_A, render_minor: MINOR[GPU_A] },
          { gpu_id: GPU_B, render_minor: MINOR[GPU_B] },
        ],
      },
      [
        { pid: APP, ptrace_parent: CRIU },
        { pid: PEER, ptrace_parent: CRIU, caps: ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE', 'CAP_SYS_PTRACE'] },
        { pid: UNPRIVILEGED, caps: [] },
      ],
    );
    this.world = createWorld(topology, variants);
  }

  /** Issue a call; throws if its ret differs from `expect` (a number) unless expect is null. */
  call(pid: number | undefined, name: string, raw: Record<string, unknown>, fd?: FdRef, expect: number | null = 0) {
    const c: Call = { call: name, args: decodeArgs(callDef(name)!.args, raw, `${name}.args`) };
    if (pid !== undefined) c.pid = pid;
    if (fd !== undefined) c.fd = fd;
    const r = applyInPlace(this.world, c);
    if (expect !== null && r.ret !== expect)
      throw new Error(
        `${name} returned ${r.ret}, expected ${expect}: ${JSON.stringify(r.out, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    return r;
  }

  open(path: string, pid = APP): number {
    return this.call(pid, 'open', { path }).out.fd as number;
  }

  render(gpu: number, pid = APP): number {
    return this.open(`/dev/dri/renderD${MINOR[gpu]}`, pid);
  }

  /** A VRAM KFD BO on `gpu`; its handle. */
  alloc(kfd: number, gpu: number, va: bigint): bigint {
    return this.call(
      APP,
      'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
      { va_addr: va, size: 1 << 20, gpu_id: gpu, flags: ['VRAM', 'WRITABLE'] },
      kfd,
    ).out.handle as bigint;
  }

  gemCreate(fd: number, pid = APP): number {
    return this.call(
      pid,
      'DRM_IOCTL_AMDGPU_GEM_CREATE',
      { bo_size: 1 << 20, alignment: 4096, domains: 4, domain_flags: 0 },
      fd,
    ).out.handle as number;
  }

  /** criu.dump of the application; the dump object becomes the subject. */
  dump(expect: number | null = 0, args: Record<string, unknown> = {}) {
    const r = this.call(undefined, 'criu.dump', { pid: APP, ...args }, undefined, expect);
    this.subject = r.out.object as string;
    return r;
  }

  /**
   * The application exports a render-node BO as a dma-buf, the peer takes the fd with
   * pidfd_getfd and the application closes its own: the peer holds the only fd of a dma-buf
   * whose BO the application's render file holds.
   */
  sharedDmabuf(): void {
    const a = this.render(GPU_A);
    const h = this.gemCreate(a);
    const fd = this.call(APP, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h, flags: 0 }, a).out.fd as number;
    this.call(PEER, 'pidfd_getfd', { pid: APP, targetfd: fd, flags: 0 });
    this.call(APP, 'close', { fd });
  }

  /**
   * criu.dump of the application and the peer, both exit, criu.restore of the tree with the
   * tasks' turns in `order`; the restore object becomes the subject.
   */
  dumpTreeAndRestore(order: number[], expect: number | null = 0) {
    const d = this.dump(0, { pids: [PEER] });
    this.call(APP, 'exit', {});
    this.call(PEER, 'exit', {});
    const r = this.call(undefined, 'criu.restore', { dump: d.out.object, criu: CRIU, order }, undefined, expect);
    this.subject = r.out.object as string;
    return r;
  }

  /** criu.restore of the last dump as `pid`; the restore object becomes the subject. */
  restore(dumpObject: string, pid: number, expect: number | null = 0, criu = CRIU) {
    const r = this.call(undefined, 'criu.restore', { dump: dumpObject, pid, criu }, undefined, expect);
    this.subject = r.out.object as string;
    return r;
  }
}
