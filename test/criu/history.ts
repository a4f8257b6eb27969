/**
 * Random process histories for the CRIU round-trip property tests (issue 5 item 5): an
 * application (pid 100) on two GPUs, each with its /dev/kfd and a render node per GPU (the
 * compute VMs), issuing ordinary calls chosen by fast-check:
 *
 * - KFD BOs of every kind (VRAM, GTT, userptr, doorbell, MMIO remap), maps on several GPUs,
 *   content writes, frees; events; queues (compute, AQL, SDMA) created and destroyed; SVM
 *   ranges (SET_ATTR with access, granularity and flags, overlapping so ranges split);
 * - render-node BOs (GEM_CREATE) with several GEM_VA mappings;
 * - BOs shared between KFD and the render node: a KFD BO exported (EXPORT_DMABUF) and imported
 *   on a render node (PRIME_FD_TO_HANDLE), and a render-node BO exported (PRIME_HANDLE_TO_FD)
 *   and imported by KFD (IMPORT_DMABUF), the dma-buf fd closed or kept;
 * - contents of render-node BOs, written with `sdma_write` through a dma-buf fd of the BO;
 * - a second process (pid 101) sharing dma-bufs with the first (see `share`): it takes the
 *   application's dma-buf fd with pidfd_getfd. Both hold CAP_SYS_PTRACE (pidfd_getfd's ptrace
 *   check; a restore fetches published dma-bufs across tasks the same way, where the real
 *   restored tasks still hold CRIU's credentials, docs/checkpoint-restore.md).
 *
 * Calls that the kernel refuses in a generated state are kept as refusals (ret < 0): the
 * history is what an application could have done, failures included.
 */
import fc from 'fast-check';
import type { ImageDir } from '../../src/criu/images/index.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { applyInPlace, type CallResult } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Call, FdRef, World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';

export const APP = 100;
export const PEER = 101;
export const CRIU = 99;
export const GPU_A = 0x1001;
export const GPU_B = 0x2002;
export const GPUS = [GPU_A, GPU_B] as const;
const MINOR = [128, 129] as const;
const CAPS = ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE', 'CAP_SYS_PTRACE'];
const PAGE = 4096n;

type G = 0 | 1;
/** KFD allocation kinds; VRAM_PUBLIC is CPU-visible VRAM (KFD_IOC_ALLOC_MEM_FLAGS_PUBLIC). */
type Kind = 'VRAM' | 'VRAM_PUBLIC' | 'GTT' | 'USERPTR' | 'DOORBELL' | 'MMIO_REMAP';
/** KFD BOs a render node can import and map with the CPU (see `kfdToRender`). */
const SHAREABLE = (k: string) => k === 'GTT' || k === 'VRAM_PUBLIC';
type P = 0 | 1;

export type Op =
  | { op: 'alloc'; p: P; gpu: G; kind: Kind; pages: number }
  | { op: 'map'; p: P; bo: number; gpus: G[] }
  | { op: 'unmap'; p: P; bo: number; gpus: G[] }
  | { op: 'write'; p: P; bo: number; page: number; value: number }
  | { op: 'free'; p: P; bo: number }
  | { op: 'event'; p: P; type: 'SIGNAL' | 'MEMORY'; autoReset: boolean }
  | { op: 'queue'; p: P; gpu: G; type: 'COMPUTE' | 'COMPUTE_AQL' | 'SDMA' }
  | { op: 'destroyQueue'; p: P; q: number }
  | { op: 'svm'; p: P; page: number; pages: number; attr: 'ACCESS' | 'NO_ACCESS' | 'GRANULARITY' | 'FLAGS'; gpu: G }
  | { op: 'gem'; p: P; gpu: G; pages: number; domain: 'GTT' | 'VRAM' }
  | { op: 'gemVa'; p: P; gem: number; maps: number }
  | { op: 'gemClose'; p: P; gem: number }
  | { op: 'kfdToRender'; p: P; bo: number; closeFd: boolean; map: boolean }
  | { op: 'renderToKfd'; p: P; gem: number; gpu: G; closeFd: boolean; map: boolean }
  /** An SDMA write into a render-node BO through a dma-buf fd of it (exported, written, closed). */
  | { op: 'gemWrite'; p: P; gem: number; page: number; value: number }
  | {
      op: 'share';
      from: 'kfd' | 'gem';
      index: number;
      /** What the peer does with the dma-buf: import it on its render node, with KFD, or only hold it. */
      peer: 'render' | 'kfd' | 'hold';
      /** The application closes its own fd of the dma-buf after the peer took it. */
      appCloses: boolean;
      /** The peer closes its fd after importing. */
      closeFd: boolean;
    };

const g = fc.constantFrom<G>(0, 1);
const p = (twoProcesses: boolean) => (twoProcesses ? fc.constantFrom<P>(0, 0, 1) : fc.constant<P>(0));
const idx = fc.nat(15);

/** The order of the arbitraries in `opArb`. */
const OP_ORDER: Op['op'][] = [
  'alloc',
  'map',
  'unmap',
  'write',
  'free',
  'event',
  'queue',
  'destroyQueue',
  'svm',
  'gem',
  'gemVa',
  'gemClose',
  'kfdToRender',
  'renderToKfd',
  'gemWrite',
  'share',
];

/** One operation; `twoProcesses` adds the peer process and `share`. */
export function opArb(twoProcesses = false): fc.Arbitrary<Op> {
  const pp = p(twoProcesses);
  const ops: fc.Arbitrary<Op>[] = [
    fc.record({
      op: fc.constant('alloc' as const),
      p: pp,
      gpu: g,
      kind: fc.constantFrom(
        'VRAM' as const,
        'GTT' as const,
        'USERPTR' as const,
        'DOORBELL' as const,
        'MMIO_REMAP' as const,
      ),
      pages: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ op: fc.constant('map' as const), p: pp, bo: idx, gpus: fc.subarray<G>([0, 1], { minLength: 1 }) }),
    fc.record({ op: fc.constant('unmap' as const), p: pp, bo: idx, gpus: fc.subarray<G>([0, 1], { minLength: 1 }) }),
    fc.record({
      op: fc.constant('write' as const),
      p: pp,
      bo: idx,
      page: fc.nat(3),
      value: fc.integer({ min: 1, max: 0xffff }),
    }),
    fc.record({ op: fc.constant('free' as const), p: pp, bo: idx }),
    fc.record({
      op: fc.constant('event' as const),
      p: pp,
      type: fc.constantFrom('SIGNAL' as const, 'MEMORY' as const),
      autoReset: fc.boolean(),
    }),
    fc.record({
      op: fc.constant('queue' as const),
      p: pp,
      gpu: g,
      type: fc.constantFrom('COMPUTE' as const, 'COMPUTE_AQL' as const, 'SDMA' as const),
    }),
    fc.record({ op: fc.constant('destroyQueue' as const), p: pp, q: idx }),
    fc.record({
      op: fc.constant('svm' as const),
      p: pp,
      page: fc.nat(15),
      pages: fc.integer({ min: 1, max: 8 }),
      attr: fc.constantFrom('ACCESS' as const, 'NO_ACCESS' as const, 'GRANULARITY' as const, 'FLAGS' as const),
      gpu: g,
    }),
    fc.record({
      op: fc.constant('gem' as const),
      p: pp,
      gpu: g,
      pages: fc.integer({ min: 1, max: 4 }),
      domain: fc.constantFrom('GTT' as const, 'VRAM' as const),
    }),
    fc.record({ op: fc.constant('gemVa' as const), p: pp, gem: idx, maps: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ op: fc.constant('gemClose' as const), p: pp, gem: idx }),
    fc.record({ op: fc.constant('kfdToRender' as const), p: pp, bo: idx, closeFd: fc.boolean(), map: fc.boolean() }),
    fc.record({
      op: fc.constant('renderToKfd' as const),
      p: pp,
      gem: idx,
      gpu: g,
      closeFd: fc.boolean(),
      map: fc.boolean(),
    }),
    fc.record({
      op: fc.constant('gemWrite' as const),
      p: pp,
      gem: idx,
      page: fc.nat(3),
      value: fc.integer({ min: 1, max: 0xffff }),
    }),
  ];
  if (twoProcesses)
    ops.push(
      fc.record({
        op: fc.constant('share' as const),
        from: fc.constantFrom('kfd' as const, 'gem' as const),
        index: idx,
        peer: fc.constantFrom('render' as const, 'kfd' as const, 'hold' as const),
        appCloses: fc.boolean(),
        closeFd: fc.boolean(),
      }),
    );
  // allocations first in weight, so that later operations find objects to work on
  const weight: Partial<Record<Op['op'], number>> = {
    alloc: 4,
    gem: 3,
    kfdToRender: 2,
    renderToKfd: 2,
    write: 2,
    gemWrite: 2,
    share: 4,
  };
  return fc.oneof(...ops.map((arbitrary, i) => ({ arbitrary, weight: weight[OP_ORDER[i]!] ?? 1 })));
}

/** A KFD BO the builder knows: its handle and GPU. */
interface KfdBo {
  handle: bigint;
  gpu: G;
  kind: string;
  /**
   * The GPU of a render node that holds a handle of the BO (a KFD import of a render-node BO,
   * or a KFD BO imported on a render node): a KFD mapping in that render node's VM is left out.
   */
  renderGpu?: G;
}
/** A render-node handle the builder knows: its render fd's GPU and handle. */
interface GemHandle {
  gpu: G;
  handle: number;
  pages: number;
  /** GEM_CREATE's domain, or 'kfd' for the import of a KFD BO. */
  domain: 'GTT' | 'VRAM' | 'kfd';
}

/** One process of the history: its fds and what it allocated. */
class Proc {
  kfd = -1;
  drm: [number, number] = [-1, -1];
  bos: KfdBo[] = [];
  gems: GemHandle[] = [];
  queues: number[] = [];
  constructor(
    readonly pid: number,
    readonly base: bigint,
  ) {}
}

/** Builds the world of a history by applying its calls in place; `calls` is the history as calls. */
export class History {
  readonly world: World;
  readonly calls: Call[] = [];
  readonly procs: Proc[];
  private va: bigint[];
  private gpuVa = 0x400000000n;

  constructor(twoProcesses = false) {
    const topology = parseTopology(
      {
        page_size: 4096,
        gpus: GPUS.map((gpu_id, i) => ({ gpu_id, render_minor: MINOR[i] })),
      },
      [
        { pid: APP, ptrace_parent: CRIU, caps: CAPS },
        { pid: PEER, ptrace_parent: CRIU, caps: CAPS },
      ],
    );
    this.world = createWorld(topology);
    this.procs = [new Proc(APP, 0x7f0000000000n)];
    if (twoProcesses) this.procs.push(new Proc(PEER, 0x7e0000000000n));
    this.va = this.procs.map((q) => q.base);
    for (const q of this.procs) this.setup(q);
  }

  call(pid: number, name: string, raw: Record<string, unknown>, fd?: FdRef): CallResult {
    const c: Call = { pid, call: name, args: decodeArgs(callDef(name)!.args, raw, `${name}.args`) };
    if (fd !== undefined) c.fd = fd;
    this.calls.push(c);
    return applyInPlace(this.world, c);
  }

  private must(r: CallResult, what: string): Record<string, unknown> {
    if (r.ret !== 0) throw new Error(`history setup: ${what} returned ${r.ret}`);
    return r.out;
  }

  private setup(q: Proc): void {
    q.kfd = this.must(this.call(q.pid, 'open', { path: '/dev/kfd' }), 'open kfd').fd as number;
    GPUS.forEach((gpu, i) => {
      const fd = this.must(this.call(q.pid, 'open', { path: `/dev/dri/renderD${MINOR[i]}` }), 'open render')
        .fd as number;
      q.drm[i] = fd;
      this.must(this.call(q.pid, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: fd, gpu_id: gpu }, q.kfd), 'ACQUIRE_VM');
    });
  }

  /** A fresh VA range of `pages` pages (with a guard page) in process `p`'s KFD area. */
  private nextVa(pi: number, pages: number): bigint {
    const v = this.va[pi]!;
    this.va[pi] = v + BigInt(pages + 1) * PAGE + 0x10000n;
    return v;
  }

  private pick<T>(list: T[], i: number): T | undefined {
    return list.length ? list[i % list.length] : undefined;
  }

  apply(o: Op): void {
    if (o.op === 'share') return this.share(o);
    const pi = o.p < this.procs.length ? o.p : 0;
    const q = this.procs[pi]!;
    const kfd = q.kfd;
    switch (o.op) {
      case 'alloc': {
        const size = o.kind === 'DOORBELL' ? 8192 : o.kind === 'MMIO_REMAP' ? 4096 : o.pages * 4096;
        const va = this.nextVa(pi, Math.max(o.pages, 2));
        const flags = o.kind === 'VRAM_PUBLIC' ? ['VRAM', 'PUBLIC', 'WRITABLE'] : [o.kind, 'WRITABLE'];
        const args: Record<string, unknown> = { va_addr: va, size, gpu_id: GPUS[o.gpu], flags };
        if (o.kind === 'USERPTR') args.mmap_offset = 0x7ffd00000000n + (va - q.base);
        const r = this.call(q.pid, 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', args, kfd);
        if (r.ret === 0) q.bos.push({ handle: r.out.handle as bigint, gpu: o.gpu, kind: o.kind });
        return;
      }
      case 'map':
      case 'unmap': {
        const b = this.pick(q.bos, o.bo);
        if (!b) return;
        const call = o.op === 'map' ? 'AMDKFD_IOC_MAP_MEMORY_TO_GPU' : 'AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU';
        // a KFD mapping of a render-node BO in that render node's own VM: the restore maps it
        // twice (docs/checkpoint-restore.md "Round-trip findings"), so histories leave it out
        const gpus = o.gpus.filter((x) => o.op === 'unmap' || x !== b.renderGpu);
        if (!gpus.length) return;
        this.call(q.pid, call, { handle: b.handle, device_ids: gpus.map((x) => GPUS[x]) }, kfd);
        return;
      }
      case 'write': {
        // memory BOs only: a doorbell or MMIO page is a register, not content the plugin saves
        const b = this.pick(
          q.bos.filter((x) => x.kind !== 'DOORBELL' && x.kind !== 'MMIO_REMAP'),
          o.bo,
        );
        if (b) this.call(q.pid, 'gpu_write', { handle: b.handle, page: o.page, value: o.value }, kfd);
        return;
      }
      case 'free': {
        if (!q.bos.length) return;
        const i = o.bo % q.bos.length;
        if (this.call(q.pid, 'AMDKFD_IOC_FREE_MEMORY_OF_GPU', { handle: q.bos[i]!.handle }, kfd).ret === 0)
          q.bos.splice(i, 1);
        return;
      }
      case 'event':
        this.call(q.pid, 'AMDKFD_IOC_CREATE_EVENT', { event_type: o.type, auto_reset: o.autoReset ? 1 : 0 }, kfd);
        return;
      case 'queue': {
        const ring = this.nextVa(pi, 16);
        const r = this.call(
          q.pid,
          'AMDKFD_IOC_CREATE_QUEUE',
          {
            ring_base_address: ring,
            ring_size: 65536,
            gpu_id: GPUS[o.gpu],
            queue_type: o.type,
            queue_percentage: 100,
            queue_priority: 7,
            read_pointer_address: ring + 0x10000n,
            write_pointer_address: ring + 0x10008n,
          },
          kfd,
        );
        if (r.ret === 0) q.queues.push(r.out.queue_id as number);
        return;
      }
      case 'destroyQueue': {
        if (!q.queues.length) return;
        const i = o.q % q.queues.length;
        if (this.call(q.pid, 'AMDKFD_IOC_DESTROY_QUEUE', { queue_id: q.queues[i] }, kfd).ret === 0)
          q.queues.splice(i, 1);
        return;
      }
      case 'svm': {
        const attrs =
          o.attr === 'GRANULARITY'
            ? [{ type: 'GRANULARITY', value: 9 }]
            : o.attr === 'FLAGS'
              ? [{ type: 'SET_FLAGS', value: 0x1 }]
              : [{ type: o.attr, value: GPUS[o.gpu] }];
        const start = 0x10000000n + BigInt(pi) * 0x1000000n + BigInt(o.page) * PAGE;
        this.call(
          q.pid,
          'AMDKFD_IOC_SVM',
          { start_addr: start, size: BigInt(o.pages) * PAGE, op: 'SET_ATTR', attrs },
          kfd,
        );
        return;
      }
      case 'gem': {
        const r = this.call(
          q.pid,
          'DRM_IOCTL_AMDGPU_GEM_CREATE',
          { bo_size: o.pages * 4096, alignment: 4096, domains: [o.domain] },
          q.drm[o.gpu],
        );
        if (r.ret === 0) q.gems.push({ gpu: o.gpu, handle: r.out.handle as number, pages: o.pages, domain: o.domain });
        return;
      }
      case 'gemVa': {
        const h = this.pick(q.gems, o.gem);
        if (h) this.gemVa(q, h, o.maps);
        return;
      }
      case 'gemClose': {
        if (!q.gems.length) return;
        const i = o.gem % q.gems.length;
        const h = q.gems[i]!;
        if (this.call(q.pid, 'DRM_IOCTL_GEM_CLOSE', { handle: h.handle }, q.drm[h.gpu]).ret === 0) q.gems.splice(i, 1);
        return;
      }
      case 'kfdToRender': {
        const b = this.pick(
          q.bos.filter((x) => SHAREABLE(x.kind)),
          o.bo,
        );
        if (b) this.kfdToRender(q, b, o.closeFd, o.map);
        return;
      }
      case 'renderToKfd': {
        // GTT render-node BOs only: KFD restores an import as its own allocation (spec §5.1,
        // IMPORT_DMABUF), so a VRAM one would come back counted in vram_usage and with KFD's
        // domains and CPU access (docs/checkpoint-restore.md "Round-trip findings")
        const h = this.pick(
          q.gems.filter((x) => x.domain === 'GTT'),
          o.gem,
        );
        if (!h) return;
        const e = this.call(q.pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h.handle, flags: 0 }, q.drm[h.gpu]);
        if (e.ret !== 0) return;
        const dfd = e.out.fd as number;
        const va = this.nextVa(pi, h.pages);
        const imp = this.call(
          q.pid,
          'AMDKFD_IOC_IMPORT_DMABUF',
          { va_addr: va, gpu_id: GPUS[o.gpu], dmabuf_fd: dfd },
          kfd,
        );
        if (imp.ret === 0) {
          const b = { handle: imp.out.handle as bigint, gpu: o.gpu, kind: 'import', renderGpu: h.gpu };
          q.bos.push(b);
          if (o.map && o.gpu !== h.gpu)
            this.call(q.pid, 'AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: b.handle, device_ids: [GPUS[o.gpu]] }, kfd);
        }
        if (o.closeFd || imp.ret !== 0) this.call(q.pid, 'close', { fd: dfd });
        return;
      }
      case 'gemWrite': {
        // a BO the render node created (an import's pages are its exporter's)
        const h = this.pick(
          q.gems.filter((x) => x.domain !== 'kfd'),
          o.gem,
        );
        if (!h) return;
        const e = this.call(q.pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h.handle, flags: 0 }, q.drm[h.gpu]);
        if (e.ret !== 0) return;
        this.call(q.pid, 'sdma_write', { page: o.page % h.pages, value: o.value }, e.out.fd as number);
        this.call(q.pid, 'close', { fd: e.out.fd });
        return;
      }
    }
  }

  /** A KFD BO exported (EXPORT_DMABUF) and imported on the render node of its GPU; the handle. */
  private kfdToRender(q: Proc, b: KfdBo, closeFd: boolean, map: boolean): GemHandle | undefined {
    const e = this.call(q.pid, 'AMDKFD_IOC_EXPORT_DMABUF', { handle: b.handle, flags: 0 }, q.kfd);
    if (e.ret !== 0) return undefined;
    const dfd = e.out.dmabuf_fd as number;
    const imp = this.call(q.pid, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: dfd }, q.drm[b.gpu]);
    let h: GemHandle | undefined;
    if (imp.ret === 0) {
      b.renderGpu = b.gpu;
      h = { gpu: b.gpu, handle: imp.out.handle as number, pages: 1, domain: 'kfd' };
      if (!q.gems.some((x) => x.gpu === h!.gpu && x.handle === h!.handle)) q.gems.push(h);
      if (map) this.gemVa(q, h, 1);
    }
    if (closeFd || imp.ret !== 0) this.call(q.pid, 'close', { fd: dfd });
    return h;
  }

  /** `maps` GEM_VA mappings of distinct pages of a render-node BO at fresh GPU VAs. */
  private gemVa(q: Proc, h: GemHandle, maps: number): void {
    for (let i = 0; i < maps; i++) {
      const va = this.gpuVa;
      this.gpuVa += 0x100000n;
      this.call(
        q.pid,
        'DRM_IOCTL_AMDGPU_GEM_VA',
        {
          handle: h.handle,
          operation: 'MAP',
          flags: i % 2 ? ['PAGE_READABLE', 'PAGE_WRITEABLE'] : ['PAGE_READABLE'],
          va_address: va,
          offset_in_bo: (i % h.pages) * 4096,
          map_size: 4096,
        },
        q.drm[h.gpu],
      );
    }
  }

  /**
   * Two processes sharing a dma-buf: the application exports one of its BOs (a KFD BO with
   * EXPORT_DMABUF imported on its render node, or a render-node BO, then PRIME_HANDLE_TO_FD
   * on its render file), the peer takes the fd with pidfd_getfd and imports it on its render
   * node of that GPU (PRIME_FD_TO_HANDLE), with KFD (IMPORT_DMABUF), or only holds it.
   */
  private share(o: Extract<Op, { op: 'share' }>): void {
    const app = this.procs[0]!;
    const peer = this.procs[1];
    if (!peer) return;
    let h: GemHandle | undefined;
    if (o.from === 'kfd') {
      // the application's KFD BO, imported on its own render node first: the render file is
      // what the dma-buf is exported from
      const b = this.pick(
        app.bos.filter((x) => SHAREABLE(x.kind)),
        o.index,
      );
      if (b) h = this.kfdToRender(app, b, true, false);
    } else h = this.pick(app.gems, o.index);
    if (!h) return;
    const e = this.call(app.pid, 'DRM_IOCTL_PRIME_HANDLE_TO_FD', { handle: h.handle, flags: 0 }, app.drm[h.gpu]);
    if (e.ret !== 0) return;
    const got = this.call(peer.pid, 'pidfd_getfd', { pid: app.pid, targetfd: e.out.fd, flags: 0 });
    if (o.appCloses) this.call(app.pid, 'close', { fd: e.out.fd });
    if (got.ret !== 0) return;
    const dfd = got.out.fd as number;
    const gpu = h.gpu;
    let ok = true;
    if (o.peer === 'kfd') {
      const va = this.nextVa(1, h.pages);
      const imp = this.call(
        peer.pid,
        'AMDKFD_IOC_IMPORT_DMABUF',
        { va_addr: va, gpu_id: GPUS[gpu], dmabuf_fd: dfd },
        peer.kfd,
      );
      ok = imp.ret === 0;
      if (ok) peer.bos.push({ handle: imp.out.handle as bigint, gpu, kind: 'import' });
    } else if (o.peer === 'render') {
      const imp = this.call(peer.pid, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd: dfd }, peer.drm[gpu]);
      ok = imp.ret === 0;
      if (ok && !peer.gems.some((x) => x.gpu === gpu && x.handle === imp.out.handle))
        peer.gems.push({ gpu, handle: imp.out.handle as number, pages: h.pages, domain: h.domain });
    }
    if (o.peer !== 'hold' && (o.closeFd || !ok)) this.call(peer.pid, 'close', { fd: dfd });
  }
}

/** The world of a history. */
export function buildHistory(ops: readonly Op[], twoProcesses = false): History {
  const h = new History(twoProcesses);
  for (const o of ops) h.apply(o);
  return h;
}

/**
 * spec §9.8 restore_bo_contents_drm: a created render-node BO with saved non-zero contents
 * and no GPU mapping (num_of_vms 0), whose contents the plugin does not write back.
 */
export function unmappedRenderContent(images: ImageDir): boolean {
  return images.renderD.some((r) =>
    r.renderD.bo_entries.some(
      (b, i) => !b.is_import && b.vm_entries.length === 0 && Object.values(r.contents?.[i] ?? {}).some((v) => v !== 0),
    ),
  );
}
