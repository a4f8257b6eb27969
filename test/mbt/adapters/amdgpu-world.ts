/**
 * World set-up for the render-node model-based suites: two GPUs, an application (pid 100,
 * ptrace parent CRIU 99) that has opened /dev/kfd (fd 3), GPU A's render node twice (fd 4 =
 * file F1, the compute VM once ACQUIRE_VM ran; fd 5 = file F2) and GPU B's render node
 * (fd 6 = FB), and a driver that issues calls through `step()` and checks their results.
 */
import type { GemBoContext } from '../../../machines/amdgpu/gem-bo.js';
import type { Sut } from '../../../src/mbt/run.js';
import { callDef } from '../../../src/ioctls/registry.js';
import { decodeArgs } from '../../../src/ioctls/schema.js';
import { step } from '../../../src/world/step.js';
import { parseTopology } from '../../../src/world/topology.js';
import type { FdRef, Variants, World } from '../../../src/world/types.js';
import { createWorld } from '../../../src/world/world.js';

export const GPU_A = 0xa3e1;
export const GPU_B = 0x5c17;
export const APP = 100;
export const CRIU = 99;
export const KFD_FD = 3;
/** The application's render-node fds: F1 and F2 on GPU A, FB on GPU B. */
export const F1 = 4;
export const F2 = 5;
export const FB = 6;
export const PAGE = 4096n;

export class AmdgpuWorld implements Sut {
  world: World;
  /** World object id of the object under test, once it exists. */
  subject: string | undefined;
  readonly log: { call: string; ret: number }[] = [];

  constructor(variants: Partial<Variants> = {}) {
    const topology = parseTopology(
      {
        page_size: 4096,
        gpus: [
          { gpu_id: GPU_A, render_minor: 128 },
          { gpu_id: GPU_B, render_minor: 129 },
        ],
      },
      [{ pid: APP, ptrace_parent: CRIU }],
    );
    this.world = createWorld(topology, variants);
    this.open('/dev/kfd', KFD_FD);
    this.open('/dev/dri/renderD128', F1);
    this.open('/dev/dri/renderD128', F2);
    this.open('/dev/dri/renderD129', FB);
  }

  private open(path: string, fd: number): void {
    const out = this.call(APP, 'open', { path });
    if (out.fd !== fd) throw new Error(`open ${path} returned fd ${String(out.fd)}, expected ${fd}`);
  }

  /** A call with log-style args; its return value must be `expect`. */
  call(
    pid: number,
    name: string,
    args: Record<string, unknown>,
    opts: { fd?: FdRef; expect?: number } = {},
  ): Record<string, unknown> {
    const def = callDef(name);
    if (!def) throw new Error(`unknown call ${name}`);
    const r = step(this.world, {
      pid,
      call: name,
      ...(opts.fd === undefined ? {} : { fd: opts.fd }),
      args: decodeArgs(def.args, args, `${name}.args`),
    });
    this.world = r.world;
    this.log.push({ call: name, ret: r.ret });
    const expect = opts.expect ?? 0;
    if (r.ret !== expect)
      throw new Error(
        `${name} returned ${r.ret}, expected ${expect}; calls so far: ${this.log.map((c) => `${c.call}=${c.ret}`).join(', ')}`,
      );
    return r.out;
  }

  /** A render-node or KFD ioctl of the application on one of its fds. */
  ioctl(name: string, fd: number, args: Record<string, unknown>, expect = 0): Record<string, unknown> {
    return this.call(APP, name, args, { fd, expect });
  }

  acquireVm(): void {
    this.ioctl('AMDKFD_IOC_ACQUIRE_VM', KFD_FD, { drm_fd: F1, gpu_id: GPU_A });
  }

  fileId(fd: number, pid = APP): string {
    const id = this.world.tasks[pid]?.fds[fd];
    if (!id) throw new Error(`fd ${fd} of pid ${pid} is not open`);
    return id;
  }

  /** The GEM object behind a handle of a file. */
  gemAt(fd: number, handle: number): string {
    const g = this.world.drm?.[this.fileId(fd)]?.object_idr[handle];
    if (!g) throw new Error(`no object at handle ${handle} of fd ${fd}`);
    return g;
  }

  /** The `amdgpu.gem_bo` machine object of the GEM object behind a handle. */
  gemObject(fd: number, handle: number): string {
    return this.world.gems[this.gemAt(fd, handle)]!.object;
  }

  /** The bo_va of an object in a file's VM. */
  boVaOf(fd: number, gem: string): string {
    const id = this.world.drm?.[this.fileId(fd)]?.vm.bo_vas[gem];
    if (!id) throw new Error(`no bo_va of ${gem} in fd ${fd}'s VM`);
    return id;
  }

  gemContext(id: string): GemBoContext {
    return this.world.objects[id]!.context as GemBoContext;
  }
}
