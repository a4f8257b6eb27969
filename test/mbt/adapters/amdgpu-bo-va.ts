/**
 * Adapter for amdgpu.bo_va (machines/amdgpu/bo-va.ts): the bo_va of a 4-page render-node
 * object G (GEM_CREATE in F1, which ACQUIRE_VM made GPU A's compute VM) in F1's VM. The
 * object's dma-buf is imported by KFD (a kgd_mem of the same object), so KFD mappings land
 * in the same bo_va (kfd_mem_attach shares it, spec §1 "KFD 1.15 GEM_VA in compute VMs").
 *
 *   MAP {A|B}          ← GEM_VA MAP (with DELAY_UPDATE: MAP only; without: MAP, UPDATE)
 *   MAP {K}            ← MAP_MEMORY_TO_GPU of the kgd_mem (REF first, on the first attach)
 *   UNMAP {start}      ← GEM_VA UNMAP; UNMAP_MEMORY_FROM_GPU (the KFD mapping)
 *   CLEAR {range}      ← GEM_VA CLEAR (VM-wide; only this bo_va has mappings there)
 *   REPLACE {R}        ← GEM_VA REPLACE (CLEAR of the range first when something is there)
 *   UPDATE             ← the page-table update after MAP / REPLACE without DELAY_UPDATE
 *   REF / UNREF        ← the KFD attach / detach (first MAP, FREE); GEM_CLOSE of G's handle
 * Mapping labels, in GPU pages (P = 0x200000, Q = 0x7f0000000): A = [P, P+1] at offset 0,
 * B = [P+16] at 0x2000, R = [P] at 0x1000 (REPLACE), K = [Q, Q+3] (the KFD BO, R|W|X).
 */
import type { AnyMachineSnapshot } from 'xstate';
import { type BoVaContext, type BoVaEvent, type BoVaMapping, boVaMachine } from '../../../machines/amdgpu/bo-va.js';
import type { Adapter, Macro } from '../../../src/mbt/run.js';
import { AmdgpuWorld, F1, GPU_A, KFD_FD, PAGE } from './amdgpu-world.js';

const P = 0x200000n;
const Q = 0x7f0000000n;
const R_ = 2;
const RW = 6;
const RWX = 14;

const A: BoVaMapping = { start: P, last: P + 1n, offset: 0n, flags: R_, kfd: null };
const B: BoVaMapping = { start: P + 16n, last: P + 16n, offset: 0x2000n, flags: RW, kfd: null };
const R: BoVaMapping = { start: P, last: P, offset: 0x1000n, flags: R_, kfd: null };
const K: BoVaMapping = { start: Q, last: Q + 3n, offset: 0n, flags: RWX, kfd: 'M' };
/** The same mapping made with DELAY_UPDATE: the mapping keeps the call's flags, that bit included. */
const delayed = (m: BoVaMapping): BoVaMapping => ({ ...m, flags: m.flags | 1 });

const ctx = (s: AnyMachineSnapshot) => s.context as BoVaContext;
const all = (s: AnyMachineSnapshot) => [...ctx(s).valids, ...ctx(s).invalids];
const overlaps = (s: AnyMachineSnapshot, m: { start: bigint; last: bigint }) =>
  all(s).some((x) => x.start <= m.last && x.last >= m.start);
const startsAt = (s: AnyMachineSnapshot, start: bigint) => all(s).some((x) => x.start === start);

class BoVaWorld extends AmdgpuWorld {
  dmabufFd = 0;
  kfdHandle: bigint | null = null;
}

interface Env {
  /** G's render-node handle is open. */
  handle: boolean;
  /** The kgd_mem importing G: absent, imported (not attached), attached (unmapped), mapped. */
  kfd: 'none' | 'imported' | 'attached' | 'mapped';
}

const CLEARS = {
  'A tail': { start: P + 1n, last: P + 1n },
  A: { start: P, last: P + 1n },
  B: { start: P + 16n, last: P + 16n },
  'A..B': { start: P, last: P + 16n },
} as const;

const events: BoVaEvent[] = [
  { type: 'REF' },
  { type: 'UNREF' },
  { type: 'MAP', mapping: A },
  { type: 'MAP', mapping: B },
  { type: 'MAP', mapping: delayed(A) },
  { type: 'MAP', mapping: delayed(B) },
  { type: 'MAP', mapping: K },
  { type: 'UNMAP', start: P },
  { type: 'UNMAP', start: P + 1n },
  { type: 'UNMAP', start: P + 16n },
  { type: 'UNMAP', start: Q },
  ...Object.values(CLEARS).map((c) => ({ type: 'CLEAR' as const, ...c })),
  // REPLACE R cuts [P, P] out of whatever is there first.
  { type: 'CLEAR', start: R.start, last: R.last },
  { type: 'REPLACE', mapping: R },
  { type: 'REPLACE', mapping: delayed(R) },
  { type: 'UPDATE' },
];

const strip = (m: BoVaMapping) => ({ start: m.start, last: m.last, offset: m.offset, flags: m.flags });
const abstract = (c: BoVaContext) => ({
  ref: c.ref_count,
  valids: c.valids.map(strip),
  invalids: c.invalids.map(strip),
});
const project = abstract;

function gemVa(
  w: BoVaWorld,
  operation: string,
  m: { start: bigint; last: bigint; offset?: bigint; flags?: number },
  delay: boolean,
) {
  w.ioctl('DRM_IOCTL_AMDGPU_GEM_VA', F1, {
    handle: 1,
    operation,
    flags: (m.flags ?? 0) | (delay ? 1 : 0),
    va_address: m.start * PAGE,
    offset_in_bo: m.offset ?? 0n,
    map_size: (m.last - m.start + 1n) * PAGE,
  });
}

function mapMacros(label: string, m: BoVaMapping): Macro<BoVaWorld, Env>[] {
  const ev = { type: 'MAP', mapping: m };
  const when = (env: Env, s: AnyMachineSnapshot) => env.handle && !overlaps(s, m);
  return [
    { name: `GEM_VA MAP ${label}`, effect: [ev, 'UPDATE'], when, run: (w) => gemVa(w, 'MAP', m, false) },
    {
      name: `GEM_VA MAP ${label} (DELAY_UPDATE)`,
      effect: [{ type: 'MAP', mapping: delayed(m) }],
      when,
      run: (w) => gemVa(w, 'MAP', m, true),
    },
  ];
}

function unmapMacro(label: string, start: bigint): Macro<BoVaWorld, Env> {
  return {
    name: `GEM_VA UNMAP at ${label}`,
    effect: [{ type: 'UNMAP', start }],
    when: (env, s) => env.handle && startsAt(s, start),
    run: (w) => gemVa(w, 'UNMAP', { start, last: start }, false),
  };
}

export const boVaAdapter: Adapter<BoVaWorld, Env> = {
  name: 'amdgpu_bo_va (render-node object in the compute VM)',
  machine: boVaMachine,
  input: { gem: 'G', vm: 'F1' },
  events,
  abstract,
  project,
  initialEnv: { handle: true, kfd: 'none' },
  setup: () => {
    const w = new BoVaWorld();
    w.acquireVm();
    w.ioctl('DRM_IOCTL_AMDGPU_GEM_CREATE', F1, { bo_size: 4n * PAGE, domains: ['GTT'] });
    w.dmabufFd = w.ioctl('DRM_IOCTL_PRIME_HANDLE_TO_FD', F1, { handle: 1, flags: 0 }).fd as number;
    w.subject = w.boVaOf(F1, w.gemAt(F1, 1));
    return w;
  },
  subject: (w) => w.subject,
  macros: [
    ...mapMacros('A', A),
    ...mapMacros('B', B),
    unmapMacro('P', P),
    unmapMacro('P+1', P + 1n),
    unmapMacro('P+16', P + 16n),
    ...Object.entries(CLEARS).map(([label, c]): Macro<BoVaWorld, Env> => ({
      name: `GEM_VA CLEAR ${label}`,
      effect: [{ type: 'CLEAR', ...c }],
      when: (env, s) => env.handle && overlaps(s, c),
      run: (w) => gemVa(w, 'CLEAR', c, false),
    })),
    ...[false, true].flatMap((delay): Macro<BoVaWorld, Env>[] => {
      const tail = delay ? [] : ['UPDATE'];
      const sfx = delay ? ' (DELAY_UPDATE)' : '';
      const r = delay ? delayed(R) : R;
      return [
        {
          name: `GEM_VA REPLACE R${sfx}`,
          effect: [{ type: 'REPLACE', mapping: r }, ...tail],
          when: (env, s) => env.handle && !overlaps(s, R),
          run: (w) => gemVa(w, 'REPLACE', R, delay),
        },
        {
          name: `GEM_VA REPLACE R over a mapping${sfx}`,
          effect: [{ type: 'CLEAR', start: R.start, last: R.last }, { type: 'REPLACE', mapping: r }, ...tail],
          when: (env, s) => env.handle && overlaps(s, R),
          run: (w) => gemVa(w, 'REPLACE', R, delay),
        },
      ];
    }),
    {
      name: 'AMDKFD_IOC_IMPORT_DMABUF of G’s dma-buf',
      effect: [],
      when: (env) => env.handle && env.kfd === 'none',
      next: (env) => ({ ...env, kfd: 'imported' }),
      run: (w) => {
        w.kfdHandle = w.ioctl('AMDKFD_IOC_IMPORT_DMABUF', KFD_FD, {
          va_addr: Q * PAGE,
          gpu_id: GPU_A,
          dmabuf_fd: w.dmabufFd,
        }).handle as bigint;
      },
    },
    {
      name: 'MAP_MEMORY_TO_GPU (first attach)',
      effect: ['REF', { type: 'MAP', mapping: K }, 'UPDATE'],
      when: (env) => env.kfd === 'imported',
      next: (env) => ({ ...env, kfd: 'mapped' }),
      run: (w) => w.ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', KFD_FD, { handle: w.kfdHandle, device_ids: [GPU_A] }),
    },
    {
      name: 'MAP_MEMORY_TO_GPU (attached)',
      effect: [{ type: 'MAP', mapping: K }, 'UPDATE'],
      when: (env) => env.kfd === 'attached',
      next: (env) => ({ ...env, kfd: 'mapped' }),
      run: (w) => w.ioctl('AMDKFD_IOC_MAP_MEMORY_TO_GPU', KFD_FD, { handle: w.kfdHandle, device_ids: [GPU_A] }),
    },
    {
      name: 'UNMAP_MEMORY_FROM_GPU',
      effect: [{ type: 'UNMAP', start: Q }],
      when: (env, s) => env.kfd === 'mapped' && startsAt(s, Q),
      next: (env) => ({ ...env, kfd: 'attached' }),
      run: (w) => w.ioctl('AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU', KFD_FD, { handle: w.kfdHandle, device_ids: [GPU_A] }),
    },
    {
      name: 'FREE_MEMORY_OF_GPU of the import (detach)',
      effect: ['UNREF'],
      when: (env) => env.kfd === 'attached',
      next: (env) => ({ ...env, kfd: 'none' }),
      run: (w) => {
        w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', KFD_FD, { handle: w.kfdHandle });
        w.kfdHandle = null;
      },
    },
    {
      name: 'FREE_MEMORY_OF_GPU of an import never mapped',
      effect: [],
      when: (env) => env.kfd === 'imported',
      next: (env) => ({ ...env, kfd: 'none' }),
      run: (w) => {
        w.ioctl('AMDKFD_IOC_FREE_MEMORY_OF_GPU', KFD_FD, { handle: w.kfdHandle });
        w.kfdHandle = null;
      },
    },
    {
      name: 'GEM_CLOSE G (KFD still attached)',
      effect: ['UNREF'],
      when: (env) => env.handle && (env.kfd === 'attached' || env.kfd === 'mapped'),
      next: (env) => ({ ...env, handle: false }),
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CLOSE', F1, { handle: 1 }),
    },
    {
      name: 'GEM_CLOSE G (last reference: the bo_va goes with its mappings)',
      effect: ['UNREF'],
      when: (env) => env.handle && (env.kfd === 'none' || env.kfd === 'imported'),
      next: (env) => ({ ...env, handle: false }),
      run: (w) => w.ioctl('DRM_IOCTL_GEM_CLOSE', F1, { handle: 1 }),
    },
  ],
};
