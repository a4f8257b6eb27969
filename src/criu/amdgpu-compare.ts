/**
 * The render-node CRIU designs side by side (docs/design-variants.md, "amdgpu-criu"): one
 * scenario — a process with KFD and render-node BOs, a KFD BO shared with the render node,
 * a render-node BO with three mappings — dumped and restored under each design, and what
 * each restore issued and produced. The comparison block of docs/design-variants.md is
 * generated from `compareDesigns()` (`comparisonMarkdown`), and test/unit/amdgpu-designs.test.ts
 * checks both the results (against the spec) and that the page is current.
 */
import type { BoVaContext } from '../../machines/amdgpu/bo-va.js';
import type { BoContext } from '../../machines/kfd/bo.js';
import type { PddContext } from '../../machines/kfd/pdd.js';
import '../ioctls/all.js';
import type { Defect } from '../ioctls/amdgpu/oops.js';
import { retName } from '../log/format.js';
import { parseTopology } from '../world/topology.js';
import type { Variants, World } from '../world/types.js';
import { createWorld } from '../world/world.js';
import { CallIssuer, callsAsLog, type IssuedCall } from './amdgpu-calls.js';
import { dumpV3, restoreV3 } from './amdgpu-criu-ioctl-v3.js';
import { dumpUpstream, type RestoreResult, restoreUpstream } from './amdgpu-upstream.js';

export const SCENARIO = {
  gpu_id: 0x1a2b,
  minor: 128,
  app: 100,
  criu: 99,
  restored: 200,
  kfdFd: 3,
  drmFd: 4,
  /** VAs of the two KFD BOs and of the three mappings of the render-node BO. */
  vram_va: 0x7f0000000000n,
  shared_va: 0x7f0000200000n,
  map_vas: [0x200000000n, 0x200100000n, 0x200200000n],
} as const;

/** A scenario call's out; a call that fails throws, since the scenario is then broken, not a result to compare. */
type Must = (r: { ret: number; out: Record<string, unknown> }) => Record<string, unknown>;

/** The scenario's KFD BOs: one in VRAM, one in GTT to share, both mapped; returns the shared one's dma-buf fd. */
function scenarioKfdBos(x: CallIssuer, must: Must): unknown {
  const s = SCENARIO;
  const app = s.app;
  const k1 = must(
    x.issue('app', app, 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', s.kfdFd, {
      va_addr: s.vram_va,
      size: 1 << 20,
      gpu_id: s.gpu_id,
      flags: ['VRAM', 'WRITABLE'],
    }),
  ).handle;
  must(x.issue('app', app, 'AMDKFD_IOC_MAP_MEMORY_TO_GPU', s.kfdFd, { handle: k1, device_ids: [s.gpu_id] }));
  const k2 = must(
    x.issue('app', app, 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU', s.kfdFd, {
      va_addr: s.shared_va,
      size: 2 * 4096,
      gpu_id: s.gpu_id,
      flags: ['GTT', 'WRITABLE', 'EXECUTABLE'],
    }),
  ).handle;
  must(x.issue('app', app, 'AMDKFD_IOC_MAP_MEMORY_TO_GPU', s.kfdFd, { handle: k2, device_ids: [s.gpu_id] }));
  return must(x.issue('app', app, 'AMDKFD_IOC_EXPORT_DMABUF', s.kfdFd, { handle: k2, flags: 0 })).dmabuf_fd;
}

/**
 * The scenario's render-node BOs: a BO with three mappings at a handle that is not the lowest
 * (a scratch BO created before it and closed), so that a restore must move it to its saved
 * handle, and the shared KFD BO imported from `dmabuf`.
 */
function scenarioDrmBos(x: CallIssuer, must: Must, dmabuf: unknown): void {
  const s = SCENARIO;
  const app = s.app;
  const scratch = must(
    x.issue('app', app, 'DRM_IOCTL_AMDGPU_GEM_CREATE', s.drmFd, { bo_size: 4096, domains: ['GTT'] }),
  ).handle;
  const bo = must(
    x.issue('app', app, 'DRM_IOCTL_AMDGPU_GEM_CREATE', s.drmFd, { bo_size: 3 * 4096, domains: ['GTT'] }),
  ).handle;
  const flags = [['PAGE_READABLE'], ['PAGE_READABLE', 'PAGE_WRITEABLE'], ['PAGE_READABLE', 'PAGE_EXECUTABLE']];
  s.map_vas.forEach((va, i) =>
    must(
      x.issue('app', app, 'DRM_IOCTL_AMDGPU_GEM_VA', s.drmFd, {
        handle: bo,
        operation: 'MAP',
        flags: flags[i],
        va_address: va,
        offset_in_bo: i * 4096,
        map_size: 4096,
      }),
    ),
  );
  must(x.issue('app', app, 'DRM_IOCTL_PRIME_FD_TO_HANDLE', s.drmFd, { fd: dmabuf }));
  must(x.issue('app', app, 'DRM_IOCTL_GEM_CLOSE', s.drmFd, { handle: scratch }));
}

/** The scenario's application: its calls in order (log form). */
export function buildScenario(variants: Partial<Variants>): { world: World; calls: IssuedCall[] } {
  const s = SCENARIO;
  const topology = parseTopology({ page_size: 4096, gpus: [{ gpu_id: s.gpu_id, render_minor: s.minor }] }, [
    { pid: s.app, ptrace_parent: s.criu },
    { pid: s.restored, ptrace_parent: s.criu },
  ]);
  const x = new CallIssuer(createWorld(topology, variants));
  const app = s.app;
  const must: Must = (r) => {
    if (r.ret !== 0) throw new Error(`scenario call failed: ${JSON.stringify(x.calls[x.calls.length - 1])}`);
    return r.out;
  };
  must(x.issue('app', app, 'open', undefined, { path: '/dev/kfd' }));
  must(x.issue('app', app, 'open', undefined, { path: `/dev/dri/renderD${s.minor}` }));
  must(x.issue('app', app, 'AMDKFD_IOC_ACQUIRE_VM', s.kfdFd, { drm_fd: s.drmFd, gpu_id: s.gpu_id }));
  const dmabuf = scenarioKfdBos(x, must);
  scenarioDrmBos(x, must, dmabuf);
  must(x.issue('app', app, 'close', undefined, { fd: dmabuf }));
  return { world: x.world, calls: x.calls };
}

/** A render-node file's state: per handle, the object's size and its mappings in the file's VM. */
export interface FileState {
  handles: Record<number, { size: bigint; mappings: string[]; kfd_va: bigint | null }>;
}

/** What a render-node file of a process holds (read from the world, not through ioctls). */
export function fileState(w: World, pid: number, fd: number): FileState {
  const fileId = w.tasks[pid]?.fds[fd];
  const p = fileId === undefined ? undefined : w.drm?.[fileId];
  const handles: FileState['handles'] = {};
  for (const [h, gem] of Object.entries(p?.object_idr ?? {})) {
    const bv = p!.vm.bo_vas[gem];
    const c = bv ? (w.objects[bv]?.context as BoVaContext | undefined) : undefined;
    const mappings = [...(c?.valids ?? []), ...(c?.invalids ?? [])]
      .map(
        (m) =>
          `0x${(m.start * 4096n).toString(16)}+0x${((m.last - m.start + 1n) * 4096n).toString(16)}@0x${m.offset.toString(16)}/0x${m.flags.toString(16)}`,
      )
      .sort();
    // The KFD BO of the process using the same object, if any (the sharing).
    let kfd: bigint | null = null;
    for (const rec of Object.values(w.objects))
      if (rec.kind === 'kfd.bo' && (rec.context as BoContext).gem === gem && (rec.context as BoContext).pid === pid)
        kfd = (rec.context as BoContext).va;
    handles[Number(h)] = { size: w.gems[gem]!.size, mappings, kfd_va: kfd };
  }
  return { handles };
}

export interface DesignRun {
  name: string;
  variants: Partial<Variants>;
  /** The restore's calls (the restored process's and, for context, nothing of the dump). */
  restore: RestoreResult;
  /** The application's calls, the dump's and the restore's: replayed in this order they give the same results. */
  scenarioCalls: IssuedCall[];
  dumpCalls: IssuedCall[];
  dumped: FileState;
  restored: FileState;
  /** Kernel oopses during the restore. */
  oopses: string[];
  /** Defects the calls reported (out.defects), in order. */
  defects: Defect[];
}

function runDesign(name: string, variants: Partial<Variants>): DesignRun {
  const s = SCENARIO;
  const { world, calls: scenarioCalls } = buildScenario(variants);
  const dumped = fileState(world, s.app, s.drmFd);
  const o = { criu: s.criu, app: s.app, kfdFd: s.kfdFd, drmFds: [{ gpu_id: s.gpu_id, fd: s.drmFd }] };
  const v3 = variants['amdgpu-criu'] === 'criu-ioctl-v3';
  let restore: RestoreResult;
  let dumpCalls: IssuedCall[];
  if (v3) {
    const d = dumpV3(world, o);
    if (!d.dump) throw new Error(`${name}: the dump failed`);
    dumpCalls = d.calls;
    restore = restoreV3(d.world, d.dump, { pid: s.restored });
  } else {
    const d = dumpUpstream(world, o);
    if (!d.dump) throw new Error(`${name}: the dump failed`);
    dumpCalls = d.calls;
    restore = restoreUpstream(d.world, d.dump, { pid: s.restored });
  }
  const restored = fileState(restore.world, s.restored, restore.drmFds[s.gpu_id]!);
  const oopses = (restore.world.oopses ?? []).map((o) => `${o.where}: ${o.what}`);
  const defects = restore.calls.flatMap((c) => (c.out.defects as Defect[] | undefined) ?? []);
  return { name, variants, restore, scenarioCalls, dumpCalls, dumped, restored, oopses, defects };
}

/** The designs the comparison runs. */
export const DESIGNS: { name: string; variants: Partial<Variants> }[] = [
  { name: 'upstream', variants: { 'amdgpu-criu': 'upstream' } },
  { name: 'upstream, GEM_CHANGE_HANDLE disabled', variants: { 'gem-change-handle': 'disabled' } },
  { name: 'criu-ioctl-v3', variants: { 'amdgpu-criu': 'criu-ioctl-v3' } },
];

export function compareDesigns(): DesignRun[] {
  return DESIGNS.map((d) => runDesign(d.name, d.variants));
}

const ARG_KEYS: Record<string, string[]> = {
  DRM_IOCTL_AMDGPU_GEM_CREATE: ['bo_size'],
  DRM_IOCTL_PRIME_HANDLE_TO_FD: ['handle'],
  DRM_IOCTL_PRIME_FD_TO_HANDLE: ['fd'],
  DRM_IOCTL_GEM_CHANGE_HANDLE: ['handle', 'new_handle'],
  DRM_IOCTL_AMDGPU_GEM_MMAP: ['handle'],
  DRM_IOCTL_AMDGPU_GEM_VA: ['handle', 'va_address'],
  AMDKFD_IOC_CRIU_OP: ['op'],
  DRM_IOCTL_AMDGPU_CRIU_OP: ['op'],
  open: ['path'],
};

const hex = (v: unknown) =>
  typeof v === 'bigint' || (typeof v === 'number' && v > 0xffff) ? `0x${BigInt(v as number).toString(16)}` : String(v);

/** A call in one line: name, the arguments that matter, the result and the out that matters. */
export function callLine(c: IssuedCall): string {
  const args = (ARG_KEYS[c.call] ?? [])
    .filter((k) => c.args[k] !== undefined)
    .map((k) => `${k} ${hex(c.args[k])}`)
    .join(', ');
  const out: string[] = [];
  if (c.out.handle !== undefined) out.push(`handle ${String(c.out.handle)}`);
  if (c.out.fd !== undefined && c.call !== 'open') out.push(`fd ${String(c.out.fd)}`);
  if (c.call === 'open') out.push(`fd ${String(c.out.fd)}`);
  if (Array.isArray(c.out.defects)) out.push(`${c.out.defects.length} defect(s)`);
  if (typeof c.out.oops === 'string') out.push('**oops**');
  const name = c.call.replace(/^DRM_IOCTL_(AMDGPU_)?/, '').replace(/^AMDKFD_IOC_/, 'KFD ');
  return `${name}(${args}) → ${retName(c.ret)}${out.length ? ` (${out.join(', ')})` : ''}`;
}

function stateLine(s: FileState): string {
  const hs = Object.entries(s.handles).sort((a, b) => Number(a[0]) - Number(b[0]));
  if (hs.length === 0) return 'no handles';
  return hs
    .map(
      ([h, v]) =>
        `handle ${h}: ${v.mappings.length} mapping(s)${v.kfd_va !== null ? `, shared with the KFD BO at 0x${v.kfd_va.toString(16)}` : ''}`,
    )
    .join('; ');
}

/** The generated comparison block of docs/design-variants.md (ends with a newline). */
export function comparisonMarkdown(runs: DesignRun[] = compareDesigns()): string {
  const lines: string[] = [
    '<!-- generated from compareDesigns() (src/criu/amdgpu-compare.ts); test/unit/amdgpu-designs.test.ts keeps it current -->',
    '',
    `Dumped render-node file (pid ${SCENARIO.app}, fd ${SCENARIO.drmFd}): ${stateLine(runs[0]!.dumped)}.`,
    '',
  ];
  for (const r of runs) {
    lines.push(`#### ${r.name}`, '');
    lines.push(`Restore into pid ${SCENARIO.restored}, in order:`, '');
    r.restore.calls.forEach((c, i) => lines.push(`${i + 1}. ${callLine(c)}`));
    lines.push('');
    lines.push(`- outcome: ${r.restore.ok ? 'the restore succeeded' : `the restore stopped: ${r.restore.failure}`}`);
    lines.push(`- restored render-node file: ${stateLine(r.restored)}`);
    for (const o of r.oopses)
      lines.push(`- kernel oops: \`${o.split(':')[0]}:${o.split(':')[1]}\` — ${o.split(': ').slice(1).join(': ')}`);
    for (const d of r.defects) lines.push(`- defect at \`${d.where}\`: ${d.what}`);
    lines.push('');
  }
  while (lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

/** Which pdd of a process has a drm file (for tests). */
export function computeVmFiles(w: World, pid: number): string[] {
  return (w.tasks[pid]?.pdds ?? [])
    .map((id) => (w.objects[id]?.context as PddContext | undefined)?.drm_file)
    .filter((f): f is string => typeof f === 'string');
}

/** The whole run of a design as a replayable log: the application, the dump, the restore, each result asserted. */
export function designLog(run: DesignRun): string {
  return callsAsLog(run.restore.world, run.variants, [...run.scenarioCalls, ...run.dumpCalls, ...run.restore.calls]);
}

/** The example logs docs/examples/ carries, by file name. */
export function designLogFiles(runs: DesignRun[] = compareDesigns()): Record<string, string> {
  const names = [
    'amdgpu-upstream-restore.jsonl',
    'amdgpu-change-handle-disabled-restore.jsonl',
    'amdgpu-criu-ioctl-v3-restore.jsonl',
  ];
  return Object.fromEntries(runs.map((r, i) => [names[i]!, designLog(r)]));
}
