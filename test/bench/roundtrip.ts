/**
 * `npm run bench -- roundtrip [bos=100000] [runs=1]`: a CRIU dump + restore round trip (issue 5 item 7)
 * of one process with `bos` KFD BOs, each mapped on two GPUs (2 × `bos` mappings), plus a
 * render-node file with a few BOs. The process is built directly through `applyInPlace`
 * (not by parsing a log), so the timed part is the round trip itself: the dump of the world
 * (every plugin ioctl through the handlers), the restore into a fresh world, and the
 * equivalence check (`roundtrip(w, pid, { inPlace: true })`; the deep copy a non-destructive
 * round trip makes first is timed apart). Memory: heap used after the build and after the
 * round trip, per BO, at `bos` and at `bos / 4`, to show it is linear in the object count.
 *
 * With `runs` > 1 the round trip of `bos` BOs is run `runs` times (each from a fresh world) and
 * listed with the best and the median: one run on this shared machine can take 1.5× another.
 *
 * Run alone: npx tsc -p tsconfig.bench.json && node dist/test/bench/roundtrip.js [bos] [runs]
 */
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { roundtrip, type RoundtripTimings } from '../../src/criu/roundtrip.js';
import { applyInPlace } from '../../src/world/step.js';
import { parseTopology } from '../../src/world/topology.js';
import type { Call, FdRef, World } from '../../src/world/types.js';
import { createWorld } from '../../src/world/world.js';

const APP = 100;
const CRIU = 99;
const GPU_A = 0x1001;
const GPU_B = 0x2002;
const BASE = 0x7f0000000000n;
const PAGE = 4096n;

function issue(w: World, name: string, raw: Record<string, unknown>, fd?: FdRef): Record<string, unknown> {
  const c: Call = { call: name, pid: APP, args: decodeArgs(callDef(name)!.args, raw, name) };
  if (fd !== undefined) c.fd = fd;
  const r = applyInPlace(w, c);
  if (r.ret !== 0) throw new Error(`bench setup: ${name} returned ${r.ret}`);
  return r.out;
}

/**
 * The benchmark process: `bos` VRAM BOs of one page on GPU A, each mapped on A and B. With
 * `shared`, each BO is also CPU-visible (PUBLIC), mapped on GPU B only, exported
 * (EXPORT_DMABUF) and imported into GPU A's render-node file (PRIME_FD_TO_HANDLE), the fd
 * closed after: a render node holding a handle of every KFD BO, which the dump lists and the
 * restore imports again. (Mapped on A too, the KFD mapping would be in that file's VM, and the
 * plugin's GEM_VA of it after KFD RESTORE fails: docs/checkpoint-restore.md "Round-trip
 * findings". A second render file of GPU A is restored into the same file as the first.)
 */
export function buildProcess(bos: number, shared = false): World {
  const topology = parseTopology(
    {
      page_size: 4096,
      gpus: [
        { gpu_id: GPU_A, render_minor: 128, vram_size: '0x100000000000' },
        { gpu_id: GPU_B, render_minor: 129, vram_size: '0x100000000000' },
      ],
    },
    [{ pid: APP, ptrace_parent: CRIU }],
  );
  const w = createWorld(topology);
  const kfd = issue(w, 'open', { path: '/dev/kfd' }).fd as number;
  const drmFds: number[] = [];
  for (const [gpu, minor] of [
    [GPU_A, 128],
    [GPU_B, 129],
  ] as const) {
    const drm = issue(w, 'open', { path: `/dev/dri/renderD${minor}` }).fd as number;
    issue(w, 'AMDKFD_IOC_ACQUIRE_VM', { drm_fd: drm, gpu_id: gpu }, kfd);
    drmFds.push(drm);
  }
  for (let i = 0; i < bos; i++) {
    const va = BASE + BigInt(i) * 2n * PAGE;
    const h = issue(
      w,
      'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU',
      { va_addr: va, size: 4096, gpu_id: GPU_A, flags: shared ? ['VRAM', 'WRITABLE', 'PUBLIC'] : ['VRAM', 'WRITABLE'] },
      kfd,
    ).handle;
    issue(w, 'AMDKFD_IOC_MAP_MEMORY_TO_GPU', { handle: h, device_ids: shared ? [GPU_B] : [GPU_A, GPU_B] }, kfd);
    if (shared) {
      const fd = issue(w, 'AMDKFD_IOC_EXPORT_DMABUF', { handle: h, flags: 2 }, kfd).dmabuf_fd as number;
      issue(w, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', { fd, flags: 0, handle: 0 }, drmFds[0]!);
      issue(w, 'close', { fd });
    }
    if (i % 64 === 0) issue(w, 'gpu_write', { handle: h, page: 0, value: 1 + (i % 0xfff) }, kfd);
  }
  // a render-node BO of GPU A's compute VM mapped twice (GEM_VA)
  const drm = drmFds[0]!;
  const g = issue(w, 'DRM_IOCTL_AMDGPU_GEM_CREATE', { bo_size: 2 * 4096, domains: ['GTT'] }, drm).handle;
  for (let i = 0; i < 2; i++)
    issue(
      w,
      'DRM_IOCTL_AMDGPU_GEM_VA',
      {
        handle: g,
        operation: 'MAP',
        flags: ['PAGE_READABLE'],
        va_address: 0x200000000n + BigInt(i) * 0x100000n,
        offset_in_bo: i * 4096,
        map_size: 4096,
      },
      drm,
    );
  return w;
}

setFlagsFromString('--expose-gc');
/** A full collection before each heap reading (so the readings compare). */
const gc = runInNewContext('gc') as () => void;

function heapMiB(): number {
  gc();
  return process.memoryUsage().heapUsed / (1 << 20);
}

interface Run {
  bos: number;
  build: number;
  copy: number;
  total: number;
  timings: RoundtripTimings;
  heapBuilt: number;
  heapAfter: number;
  /** ArrayBuffer memory the round trip keeps (outside the V8 heap; V8 forces a full collection when it grows by 64 MiB). */
  buffersAdded: number;
  dumpCalls: number;
  restoreCalls: number;
}

function runOnce(bos: number, shared: boolean): Run {
  const base = heapMiB();
  let t0 = performance.now();
  const w = buildProcess(bos, shared);
  const build = (performance.now() - t0) / 1000;
  const heapBuilt = heapMiB() - base;
  const buffersBefore = process.memoryUsage().arrayBuffers;
  // what a non-destructive round trip adds: a deep copy of the source world (measured apart)
  t0 = performance.now();
  structuredClone(w);
  const copy = (performance.now() - t0) / 1000;
  // The copy is garbage now; collected here, not during the round trip it is not part of.
  gc();
  const timings: RoundtripTimings = {};
  t0 = performance.now();
  const r = roundtrip(w, APP, { timings, inPlace: true });
  const total = (performance.now() - t0) / 1000;
  if (!r.equivalent) throw new Error(`round trip not equivalent: ${r.differences.slice(0, 5).join('; ')}`);
  const heapAfter = heapMiB() - base;
  const buffersAdded = (process.memoryUsage().arrayBuffers - buffersBefore) / (1 << 20);
  return {
    bos,
    build,
    copy,
    total,
    timings,
    heapBuilt,
    heapAfter,
    buffersAdded,
    dumpCalls: r.dump.calls.length,
    restoreCalls: r.restore!.calls.length,
  };
}

/** The median of a non-empty list of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * `roundtrip [bos] [runs]`, or with `shared` (the `roundtrip-shared` mode) the process whose
 * KFD BOs each have a render-node handle too (buildProcess): its round trip must stay linear
 * (the bar's time is the plain process's).
 */
export function roundtripBench(argv: string[], shared = false): void {
  const [bos = 100_000, runs = 1] = argv.filter(Boolean).map(Number);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: runs must be a positive integer, found ${runs}`);
  const small = runOnce(Math.max(1, Math.floor(bos / 4)), shared);
  // On a shared machine one run can take 1.5× another: with runs > 1 the full-size round
  // trip is repeated (a fresh world each time) and every run is listed with the best and the median.
  const bigs = Array.from({ length: runs }, () => runOnce(bos, shared));
  const big = bigs.reduce((a, b) => (b.total < a.total ? b : a));
  console.log(
    shared
      ? `CRIU round trip benchmark: ${bos.toLocaleString('en-US')} KFD BOs mapped on GPU B, each also imported into GPU A’s render node`
      : `CRIU round trip benchmark: ${bos.toLocaleString('en-US')} KFD BOs × 2 GPUs = ${(2 * bos).toLocaleString('en-US')} mappings`,
  );
  for (const r of [small, big]) {
    const phases = Object.entries(r.timings)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ');
    console.log(
      `  ${r.bos.toLocaleString('en-US').padStart(9)} BOs: build ${r.build.toFixed(2)} s; round trip ${r.total.toFixed(2)} s (${phases}); ` +
        `${r.dumpCalls} dump + ${r.restoreCalls} restore calls; a copy of the world would add ${r.copy.toFixed(2)} s`,
    );
    console.log(
      `  ${''.padStart(9)}       heap: world ${r.heapBuilt.toFixed(0)} MiB (${((r.heapBuilt * (1 << 20)) / r.bos).toFixed(0)} B/BO), ` +
        `after round trip ${r.heapAfter.toFixed(0)} MiB (${((r.heapAfter * (1 << 20)) / r.bos).toFixed(0)} B/BO); ` +
        `ArrayBuffers kept (priv_data) ${r.buffersAdded.toFixed(0)} MiB`,
    );
  }
  if (runs > 1) {
    const totals = bigs.map((r) => r.total);
    console.log(
      `  ${runs} runs of ${bos.toLocaleString('en-US')} BOs: ${totals.map((t) => t.toFixed(2)).join(', ')} s; ` +
        `best ${big.total.toFixed(2)} s (shown above), median ${median(totals).toFixed(2)} s`,
    );
  }
  console.log(
    `  time ratio ${big.bos}/${small.bos} BOs: ${(big.total / small.total).toFixed(2)}× for ${(big.bos / small.bos).toFixed(0)}× the objects; ` +
      `round trip ${big.total.toFixed(2)} s${runs > 1 ? ` (best of ${runs})` : ''}${shared ? '' : ' (bar: < 5 s)'}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) roundtripBench(process.argv.slice(2));
