/**
 * gpucr's DRM core and amdgpu catalogue against the system's drm/drm.h and
 * drm/amdgpu_drm.h from libdrm-dev (compiled with gcc, `-I/usr/include/libdrm`),
 * and against the spec (§8) for what is newer than those headers. Missing gcc or
 * headers is a failure, never a skip.
 */
import { describe, expect, test } from 'vitest';
import {
  _IOWR,
  AMDGPU_CONSTANT_FAMILIES,
  AMDGPU_CONSTANT_NEWER,
  AMDGPU_CONSTANTS,
  AMDGPU_CRIU_BO_FLAG,
  AMDGPU_CRIU_OP,
  AMDGPU_CRIU_PROPOSAL_CONSTANTS,
  AMDGPU_CRIU_PROPOSAL_STRUCT_SPECS,
  AMDGPU_CRIU_PROPOSAL_STRUCTS,
  AMDGPU_GEM_CREATE,
  AMDGPU_GEM_DOMAIN,
  AMDGPU_GEM_LIST_HANDLES_FLAG,
  AMDGPU_GEM_OP,
  AMDGPU_GEM_USERPTR,
  AMDGPU_IOCTLS,
  AMDGPU_STRUCT_SPECS,
  AMDGPU_STRUCTS,
  AMDGPU_VA_OP,
  AMDGPU_VM_DELAY_UPDATE,
  AMDGPU_VM_MTYPE,
  AMDGPU_VM_MTYPE_MASK,
  AMDGPU_VM_PAGE,
  amdgpuIoctlByCommand,
  amdgpuIoctlByName,
  amdgpuVaFlagNames,
  amdgpuVaFlagsFromNames,
  BASELINE_ONLY,
  compareKernelVersions,
  DRM_AMDGPU,
  DRM_AMDGPU_CRIU_OP,
  DRM_CLOEXEC,
  DRM_COMMAND_BASE,
  DRM_COMMAND_END,
  DRM_CONSTANT_FAMILIES,
  DRM_CONSTANT_NEWER,
  DRM_CONSTANTS,
  DRM_IO,
  DRM_IOCTL_AMDGPU_CRIU_OP,
  DRM_IOCTLS,
  DRM_IOR,
  DRM_IOW,
  DRM_IOWR,
  DRM_MODE_CONSTANTS,
  DRM_MODE_STRUCT_SPECS,
  DRM_MODE_STRUCTS,
  DRM_PRIME_FLAGS,
  DRM_RDWR,
  DRM_STRING_CONSTANTS,
  DRM_STRUCT_SPECS,
  DRM_STRUCTS,
  type DrmIoctl,
  type DrmStructLayout,
  drmIoctlByName,
  drmIoctlByNr,
  flagNames,
  flagsFromNames,
  layoutDrmStructs,
  renderNodeIoctl,
  UPSTREAM_ONLY,
} from '../../src/uapi/index.js';
import {
  compareDrmAggregates,
  compareDrmConstants,
  type DrmCatalogueView,
  drmNewerVsMissing,
  HeaderLayouts,
} from './helpers/drm-compare.js';
import { DRM_INSTALL_HINT, type DrmHeaderProbe, drmIncludeDir, probeDrmHeader } from './helpers/drm-probe.js';

/** DRM_IO* macros of drm.h evaluated by gcc (the C macros take a type; char[N] has size N). */
const EXTRAS: Record<string, string> = {
  io_1e: 'DRM_IO(0x1e)',
  ior_02_4: 'DRM_IOR(0x02, char[4])',
  iow_09_8: 'DRM_IOW(0x09, char[8])',
  iowr_d2_8: 'DRM_IOWR(0xD2, char[8])',
  iowr_base_19_16: 'DRM_IOWR(DRM_COMMAND_BASE + 0x19, char[16])',
};

interface Probes {
  dir: string;
  drm: DrmHeaderProbe;
  mode: DrmHeaderProbe;
  amdgpu: DrmHeaderProbe;
  modeLayouts: HeaderLayouts;
  drmLayouts: HeaderLayouts;
  amdgpuLayouts: HeaderLayouts;
}

let cached: Probes | undefined;
function probes(): Probes {
  if (cached) return cached;
  const dir = drmIncludeDir();
  const drm = probeDrmHeader(dir, 'drm.h', EXTRAS);
  const mode = probeDrmHeader(dir, 'drm_mode.h');
  const amdgpu = probeDrmHeader(dir, 'amdgpu_drm.h');
  const modeLayouts = new HeaderLayouts(mode, DRM_MODE_STRUCT_SPECS);
  cached = {
    dir,
    drm,
    mode,
    amdgpu,
    modeLayouts,
    drmLayouts: new HeaderLayouts(drm, DRM_STRUCT_SPECS, (tag) => modeLayouts.at(tag)),
    amdgpuLayouts: new HeaderLayouts(amdgpu, AMDGPU_STRUCT_SPECS),
  };
  return cached;
}

const DRM_VIEW: DrmCatalogueView = {
  constants: DRM_CONSTANTS,
  newer: DRM_CONSTANT_NEWER,
  strings: DRM_STRING_CONSTANTS,
  families: DRM_CONSTANT_FAMILIES,
  ioctls: Object.values<DrmIoctl>(DRM_IOCTLS),
  specs: DRM_STRUCT_SPECS,
  structs: DRM_STRUCTS,
};

/** drm_mode.h: only the KMS ioctl argument structs and the two lengths they use are catalogued. */
const MODE_VIEW: DrmCatalogueView = {
  constants: DRM_MODE_CONSTANTS,
  newer: {},
  strings: {},
  families: [{ prefix: '', enumTag: 'define', values: DRM_MODE_CONSTANTS }],
  ioctls: [],
  specs: DRM_MODE_STRUCT_SPECS,
  structs: DRM_MODE_STRUCTS,
  partial: true,
};

const AMDGPU_VIEW: DrmCatalogueView = {
  constants: AMDGPU_CONSTANTS,
  newer: AMDGPU_CONSTANT_NEWER,
  strings: {},
  families: AMDGPU_CONSTANT_FAMILIES,
  ioctls: Object.values<DrmIoctl>(AMDGPU_IOCTLS),
  specs: AMDGPU_STRUCT_SPECS,
  structs: AMDGPU_STRUCTS,
};

const fieldsOf = (layout: DrmStructLayout | undefined): [string, number, number][] =>
  (layout?.fields ?? []).map((f) => [f.name, f.offset, f.size]);

describe('DRM uapi headers (drm.h, drm_mode.h, amdgpu_drm.h from libdrm-dev) vs the catalogue', () => {
  test(`the headers are present and compile (else: ${DRM_INSTALL_HINT})`, () => {
    expect(DRM_INSTALL_HINT).toBe('apt-get install -y gcc libdrm-dev');
    const p = probes();
    const summary = [
      ['drm.h', p.drm, DRM_VIEW, p.drmLayouts],
      ['drm_mode.h', p.mode, MODE_VIEW, p.modeLayouts],
      ['amdgpu_drm.h', p.amdgpu, AMDGPU_VIEW, p.amdgpuLayouts],
    ] as const;
    const lines = summary.map(([file, probe, view, layouts]) => {
      const c = compareDrmConstants(probe, view, (tag) => layouts.at(tag));
      const a = compareDrmAggregates(probe, view, layouts);
      const requests = probe.parsed.defines.filter((d) => view.ioctls.some((i) => i.name === d.name)).length;
      const enumerators = probe.parsed.enums.reduce((n, e) => n + e.names.length, 0);
      const total = probe.constants.size + probe.strings.size;
      return (
        `${file}: ${c.compared} of ${total} constants (${requests} request macros; the header has ${enumerators} enumerators), ` +
        `${a.aggregates} of ${probe.aggregates.size} structs/unions with ${a.members} members` +
        (c.skipped.length + a.skipped.length
          ? `; not catalogued (KMS, outside gpucr's scope): ${c.skipped.length} constants, ${a.skipped.join(', ')}`
          : '')
      );
    });
    console.info(`DRM headers in ${p.dir}:\n  ${lines.join('\n  ')}`);
    expect(p.drm.constants.size).toBeGreaterThan(200);
    expect(p.drm.aggregates.size).toBeGreaterThan(50);
    expect(p.amdgpu.constants.size).toBeGreaterThan(250);
    expect(p.amdgpu.aggregates.size).toBeGreaterThan(50);
  });

  test('drm.h: every #define, enumerator and DRM_IOCTL_* request equals DRM_CONSTANTS / DRM_IOCTLS', () => {
    const p = probes();
    expect(compareDrmConstants(p.drm, DRM_VIEW, (tag) => p.drmLayouts.at(tag)).mismatches).toEqual([]);
  });

  test('drm.h: every struct and union has the same sizeof, _Alignof and member offsets/sizes/types in DRM_STRUCTS', () => {
    const p = probes();
    expect(compareDrmAggregates(p.drm, DRM_VIEW, p.drmLayouts).mismatches).toEqual([]);
  });

  test('drm_mode.h: every argument struct of a DRM_IOCTL_MODE_* request matches DRM_MODE_STRUCTS', () => {
    const p = probes();
    const c = compareDrmConstants(p.mode, MODE_VIEW, (tag) => p.modeLayouts.at(tag));
    const a = compareDrmAggregates(p.mode, MODE_VIEW, p.modeLayouts);
    expect([...c.mismatches, ...a.mismatches]).toEqual([]);
    expect(a.aggregates).toBe(Object.keys(DRM_MODE_STRUCT_SPECS).length);
    // Every struct a drm.h request macro names is catalogued (in drm.h's or drm_mode.h's table).
    const named = Object.values<DrmIoctl>(DRM_IOCTLS).flatMap((i) => (i.struct ? [i.struct] : []));
    expect(named.filter((t) => !DRM_STRUCTS[t] && !DRM_MODE_STRUCTS[t])).toEqual([]);
  });

  test('amdgpu_drm.h: every #define and DRM_IOCTL_AMDGPU_* request equals AMDGPU_CONSTANTS / AMDGPU_IOCTLS', () => {
    const p = probes();
    expect(compareDrmConstants(p.amdgpu, AMDGPU_VIEW, (tag) => p.amdgpuLayouts.at(tag)).mismatches).toEqual([]);
  });

  test('amdgpu_drm.h: every struct and union, nested and anonymous members included, matches AMDGPU_STRUCTS', () => {
    const p = probes();
    expect(compareDrmAggregates(p.amdgpu, AMDGPU_VIEW, p.amdgpuLayouts).mismatches).toEqual([]);
  });

  test('catalogue items the headers lack are all marked newer (spec §8), and are reported', () => {
    const p = probes();
    const drm = drmNewerVsMissing(p.drm, DRM_VIEW);
    const amd = drmNewerVsMissing(p.amdgpu, AMDGPU_VIEW);
    expect([...drm.unmarked, ...amd.unmarked]).toEqual([]);
    console.info(
      `newer than ${p.dir}: ${[...drm.missing, ...amd.missing].join(', ')}` +
        (drm.presentAnyway.length + amd.presentAnyway.length
          ? `\nmarked newer but present (compared): ${[...drm.presentAnyway, ...amd.presentAnyway].join(', ')}`
          : ''),
    );
  });

  test('the DRM_IO* helpers equal drm.h macros evaluated by gcc', () => {
    const x = probes().drm.extras;
    expect(BigInt(DRM_IO(0x1e))).toBe(x.get('io_1e'));
    expect(BigInt(DRM_IOR(0x02, 4))).toBe(x.get('ior_02_4'));
    expect(BigInt(DRM_IOW(0x09, 8))).toBe(x.get('iow_09_8'));
    expect(BigInt(DRM_IOWR(0xd2, 8))).toBe(x.get('iowr_d2_8'));
    expect(BigInt(DRM_IOWR(DRM_COMMAND_BASE + 0x19, 16))).toBe(x.get('iowr_base_19_16'));
  });

  test('the comparison reports a wrong value, a wrong struct, a missing name and an unmarked catalogue field', () => {
    const p = probes();
    const tampered: DrmCatalogueView = {
      ...AMDGPU_VIEW,
      constants: { ...AMDGPU_CONSTANTS, AMDGPU_GEM_DOMAIN_VRAM: 0x8, AMDGPU_VA_OP_MAP: undefined as never },
    };
    const c = compareDrmConstants(p.amdgpu, tampered, (tag) => p.amdgpuLayouts.at(tag)).mismatches;
    expect(c).toContain('AMDGPU_GEM_DOMAIN_VRAM: header 0x4, catalogue 0x8');
    expect(c).toContain('AMDGPU_VA_OP_MAP: in the header (0x1) but not in the catalogue');
    // drm_amdgpu_gem_op without the "newer" marker on num_entries: the header lacks it.
    const spec = AMDGPU_STRUCT_SPECS.drm_amdgpu_gem_op!;
    const specs = {
      ...AMDGPU_STRUCT_SPECS,
      drm_amdgpu_gem_op: { ...spec, fields: spec.fields.map((f) => (Array.isArray(f) ? [f[0], f[1]] : f)) },
      drm_amdgpu_gem_mmap_in: { kind: 'struct', fields: [['handle', 'u64']] },
    } as typeof AMDGPU_STRUCT_SPECS;
    const view = { ...AMDGPU_VIEW, specs, structs: layoutDrmStructs(specs) };
    const layouts = new HeaderLayouts(p.amdgpu, specs);
    const a = compareDrmAggregates(p.amdgpu, view, layouts).mismatches;
    expect(a).toContain('drm_amdgpu_gem_op.num_entries: in the catalogue, not in the header, not marked newer');
    expect(a).toContain('drm_amdgpu_gem_mmap_in._pad: in the header but not in the catalogue');
    expect(a).toContain('drm_amdgpu_gem_mmap_in.handle: size 4, catalogue 8');
    const wrongDir = { ...AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_CREATE, dir: 'w' as const };
    const ioctls = AMDGPU_VIEW.ioctls.map((i) => (i.name === wrongDir.name ? wrongDir : i));
    const r = compareDrmConstants(p.amdgpu, { ...AMDGPU_VIEW, ioctls }, (tag) => p.amdgpuLayouts.at(tag)).mismatches;
    expect(r).toContain('DRM_IOCTL_AMDGPU_GEM_CREATE: header direction rw, catalogue w');
    expect(
      r.filter((m) => m.startsWith('DRM_IOCTL_AMDGPU_GEM_CREATE: header 0xc0206440, catalogue at the')),
    ).toHaveLength(1);
  });
});

describe('items newer than the CI header, against the spec', () => {
  test('spec §8.2: DRM_IOCTL_GEM_CHANGE_HANDLE is DRM_IOWR(0xD2, struct drm_gem_change_handle)', () => {
    const e = DRM_IOCTLS.DRM_IOCTL_GEM_CHANGE_HANDLE;
    expect([e.nr, e.dir, e.arg, e.argSize]).toEqual([0xd2, 'rw', 'struct drm_gem_change_handle', 8]);
    expect(e.request).toBe(_IOWR('d', 0xd2, 8));
    expect(e.newer).toEqual({ source: 'spec §8.2', sinceKernel: '6.18' });
    expect(fieldsOf(DRM_STRUCTS.drm_gem_change_handle)).toEqual([
      ['handle', 0, 4],
      ['new_handle', 4, 4],
    ]);
    expect(drmIoctlByNr(0xd2)).toBe(e);
    expect(DRM_CONSTANTS.DRM_IOCTL_GEM_CHANGE_HANDLE).toBe(e.request);
  });

  test('spec §8.2: DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES is DRM_IOWR(DRM_COMMAND_BASE + 0x19, struct drm_amdgpu_gem_list_handles)', () => {
    const e = AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES;
    expect([DRM_AMDGPU.GEM_LIST_HANDLES, e.command, e.nr, e.dir]).toEqual([0x19, 0x19, 0x40 + 0x19, 'rw']);
    expect(e.request).toBe(_IOWR('d', 0x40 + 0x19, 16));
    expect(e.newer?.sinceKernel).toBe('6.18');
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_list_handles)).toEqual([
      ['entries', 0, 8],
      ['num_entries', 8, 4],
      ['padding', 12, 4],
    ]);
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_list_handles_entry)).toEqual([
      ['gem_handle', 0, 4],
      ['flags', 4, 4],
      ['size', 8, 8],
      ['preferred_domains', 16, 8],
      ['alloc_flags', 24, 8],
      ['alignment', 32, 8],
    ]);
    expect(AMDGPU_STRUCTS.drm_amdgpu_gem_list_handles_entry?.size).toBe(40);
    expect(AMDGPU_GEM_LIST_HANDLES_FLAG).toEqual({ IS_IMPORT: 1 << 0 });
    expect(AMDGPU_CONSTANTS.AMDGPU_GEM_LIST_HANDLES_FLAG_IS_IMPORT).toBe(1);
  });

  test('spec §8.2: AMDGPU_GEM_OP_GET_MAPPING_INFO 2; drm_amdgpu_gem_op gains num_entries + padding; drm_amdgpu_gem_vm_entry', () => {
    expect(AMDGPU_GEM_OP).toEqual({ GET_GEM_CREATE_INFO: 0, SET_PLACEMENT: 1, GET_MAPPING_INFO: 2 });
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_op)).toEqual([
      ['handle', 0, 4],
      ['op', 4, 4],
      ['value', 8, 8],
      ['num_entries', 16, 4],
      ['padding', 20, 4],
    ]);
    const op = AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_OP;
    expect([op.command, op.request]).toEqual([0x10, _IOWR('d', 0x40 + 0x10, 24)]);
    expect(AMDGPU_STRUCTS.drm_amdgpu_gem_op?.fields.filter((f) => f.newer?.sinceKernel === '6.18').length).toBe(2);
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_vm_entry)).toEqual([
      ['addr', 0, 8],
      ['size', 8, 8],
      ['offset', 16, 8],
      ['flags', 24, 8],
    ]);
  });

  test('spec §8.2: drm_amdgpu_gem_va (0x08, IOW) with the timeline-syncobj fields; AMDGPU_VA_OP MAP 1, UNMAP 2, CLEAR 3, REPLACE 4', () => {
    expect(AMDGPU_VA_OP).toEqual({ MAP: 1, UNMAP: 2, CLEAR: 3, REPLACE: 4 });
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_va)).toEqual([
      ['handle', 0, 4],
      ['_pad', 4, 4],
      ['operation', 8, 4],
      ['flags', 12, 4],
      ['va_address', 16, 8],
      ['offset_in_bo', 24, 8],
      ['map_size', 32, 8],
      ['vm_timeline_point', 40, 8],
      ['vm_timeline_syncobj_out', 48, 4],
      ['num_syncobj_handles', 52, 4],
      ['input_fence_syncobj_handles', 56, 8],
    ]);
    const va = AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_VA;
    expect([DRM_AMDGPU.GEM_VA, va.dir, va.request]).toEqual([0x08, 'w', (1 << 30) + (64 << 16) + (0x64 << 8) + 0x48]);
  });

  test('spec §8.2: GEM domains CPU 0x1, GTT 0x2, VRAM 0x4, GDS 0x8, GWS 0x10, OA 0x20, DOORBELL 0x40, MMIO_REMAP 0x80', () => {
    expect(AMDGPU_GEM_DOMAIN).toEqual({
      CPU: 0x1,
      GTT: 0x2,
      VRAM: 0x4,
      GDS: 0x8,
      GWS: 0x10,
      OA: 0x20,
      DOORBELL: 0x40,
      MMIO_REMAP: 0x80,
    });
    expect(flagsFromNames(AMDGPU_GEM_DOMAIN, 'AMDGPU_GEM_DOMAIN_', ['VRAM', 'AMDGPU_GEM_DOMAIN_GTT'])).toBe(0x6);
    expect(flagNames(AMDGPU_GEM_DOMAIN, 0x44)).toEqual(['VRAM', 'DOORBELL']);
  });

  test('spec §8.2: GEM create flags CPU_ACCESS_REQUIRED 1<<0 … GFX12_DCC 1<<16 (no bit 4)', () => {
    const shifts = {
      CPU_ACCESS_REQUIRED: 0,
      NO_CPU_ACCESS: 1,
      CPU_GTT_USWC: 2,
      VRAM_CLEARED: 3,
      VRAM_CONTIGUOUS: 5,
      VM_ALWAYS_VALID: 6,
      EXPLICIT_SYNC: 7,
      CP_MQD_GFX9: 8,
      VRAM_WIPE_ON_RELEASE: 9,
      ENCRYPTED: 10,
      PREEMPTIBLE: 11,
      DISCARDABLE: 12,
      COHERENT: 13,
      UNCACHED: 14,
      EXT_COHERENT: 15,
      GFX12_DCC: 16,
    };
    expect(AMDGPU_GEM_CREATE).toEqual(Object.fromEntries(Object.entries(shifts).map(([k, s]) => [k, 2 ** s])));
  });

  test('spec §8.2: VM flags DELAY_UPDATE 1<<0, READABLE 1<<1 … PRT 1<<4, NOALLOC 1<<9; MTYPE_MASK 0xf<<5 (DEFAULT 0 … RW 5)', () => {
    expect(AMDGPU_VM_DELAY_UPDATE).toBe(1);
    expect(AMDGPU_VM_PAGE).toEqual({ READABLE: 2, WRITEABLE: 4, EXECUTABLE: 8, PRT: 16, NOALLOC: 512 });
    expect(AMDGPU_VM_MTYPE_MASK).toBe(0xf << 5);
    expect(AMDGPU_VM_MTYPE).toEqual({ DEFAULT: 0, NC: 1 << 5, WC: 2 << 5, CC: 3 << 5, UC: 4 << 5, RW: 5 << 5 });
  });

  test('spec §8.2: GEM_CREATE (0x00) and GEM_MMAP (0x01) are in/out unions; GEM_USERPTR (0x11) flags READONLY 1, ANONONLY 2, VALIDATE 4, REGISTER 8', () => {
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_create)).toEqual([
      ['in', 0, 32],
      ['out', 0, 8],
    ]);
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_create_in)).toEqual([
      ['bo_size', 0, 8],
      ['alignment', 8, 8],
      ['domains', 16, 8],
      ['domain_flags', 24, 8],
    ]);
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_mmap)).toEqual([
      ['in', 0, 8],
      ['out', 0, 8],
    ]);
    expect(fieldsOf(AMDGPU_STRUCTS.drm_amdgpu_gem_userptr)).toEqual([
      ['addr', 0, 8],
      ['size', 8, 8],
      ['flags', 16, 4],
      ['handle', 20, 4],
    ]);
    expect([DRM_AMDGPU.GEM_CREATE, DRM_AMDGPU.GEM_MMAP, DRM_AMDGPU.GEM_USERPTR]).toEqual([0x00, 0x01, 0x11]);
    expect(AMDGPU_GEM_USERPTR).toEqual({ READONLY: 1, ANONONLY: 2, VALIDATE: 4, REGISTER: 8 });
  });

  test('spec §8.2: exactly the spec §8.2 items are marked newer than the CI header', () => {
    const names = [...Object.keys(DRM_CONSTANT_NEWER), ...Object.keys(AMDGPU_CONSTANT_NEWER)].sort();
    expect(names).toEqual(
      [
        'DRM_IOCTL_GEM_CHANGE_HANDLE',
        'DRM_AMDGPU_GEM_LIST_HANDLES',
        'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES',
        'AMDGPU_GEM_LIST_HANDLES_FLAG_IS_IMPORT',
        'AMDGPU_GEM_OP_GET_MAPPING_INFO',
        'AMDGPU_GEM_DOMAIN_DOORBELL',
        'AMDGPU_GEM_DOMAIN_MMIO_REMAP',
        'AMDGPU_GEM_CREATE_DISCARDABLE',
        'AMDGPU_GEM_CREATE_COHERENT',
        'AMDGPU_GEM_CREATE_UNCACHED',
        'AMDGPU_GEM_CREATE_EXT_COHERENT',
        'AMDGPU_GEM_CREATE_GFX12_DCC',
        'AMDGPU_VM_PAGE_NOALLOC',
      ].sort(),
    );
    const sinceKernel618 = names.filter(
      (n) => (DRM_CONSTANT_NEWER[n] ?? AMDGPU_CONSTANT_NEWER[n])?.sinceKernel === '6.18',
    );
    expect(sinceKernel618.sort()).toEqual(
      [
        'DRM_IOCTL_GEM_CHANGE_HANDLE',
        'DRM_AMDGPU_GEM_LIST_HANDLES',
        'DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES',
        'AMDGPU_GEM_LIST_HANDLES_FLAG_IS_IMPORT',
        'AMDGPU_GEM_OP_GET_MAPPING_INFO',
      ].sort(),
    );
    const newerStructs = Object.entries({ ...DRM_STRUCT_SPECS, ...AMDGPU_STRUCT_SPECS })
      .filter(([, s]) => s.newer)
      .map(([n]) => n);
    expect(newerStructs.sort()).toEqual(
      [
        'drm_gem_change_handle',
        'drm_amdgpu_gem_list_handles',
        'drm_amdgpu_gem_list_handles_entry',
        'drm_amdgpu_gem_vm_entry',
      ].sort(),
    );
    // The CRIU_OP proposal (spec §8.1) is never part of the upstream tables.
    expect(Object.keys(AMDGPU_CONSTANTS).filter((n) => n.includes('CRIU'))).toEqual([]);
  });

  test('spec §8.1: the March 2025 DRM_IOCTL_AMDGPU_CRIU_OP proposal (amd-gfx v3 2/3) is catalogued apart, marked proposal-only', () => {
    const e = DRM_IOCTL_AMDGPU_CRIU_OP;
    expect(e.newer?.proposal).toBe(true);
    expect(e.newer?.sinceKernel).toBeUndefined();
    expect([DRM_AMDGPU_CRIU_OP, e.nr, e.dir, e.arg]).toEqual([0x19, 0x59, 'rw', 'struct drm_amdgpu_criu_args']);
    expect(e.request).toBe(_IOWR('d', 0x59, 40));
    // The proposal's number is the one upstream later gave GEM_LIST_HANDLES: lookups never return it.
    expect(amdgpuIoctlByCommand(0x19)).toBe(AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_LIST_HANDLES);
    expect(amdgpuIoctlByName('CRIU_OP')).toBeUndefined();
    expect(renderNodeIoctl(e.request)).toBeUndefined();
    expect(AMDGPU_CRIU_OP).toEqual({
      PROCESS_INFO: 0,
      CHECKPOINT: 1,
      UNPAUSE: 2,
      RESTORE: 3,
      RESTORE_RETRY: 4,
      RESUME: 5,
    });
    expect(AMDGPU_CRIU_BO_FLAG).toEqual({ IS_IMPORT: 1 << 0, SKIP: 1 << 1 });
    expect(fieldsOf(AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_args)).toEqual([
      ['bos', 0, 8],
      ['priv_data', 8, 8],
      ['priv_data_size', 16, 8],
      ['num_bos', 24, 4],
      ['num_objs', 28, 4],
      ['pid', 32, 4],
      ['op', 36, 4],
    ]);
    expect(fieldsOf(AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_bo_bucket)).toEqual([
      ['addr', 0, 8],
      ['size', 8, 8],
      ['offset', 16, 8],
      ['restored_offset', 24, 8],
      ['alloc_flags', 32, 8],
      ['preferred_domains', 40, 4],
      ['dmabuf_fd', 44, 4],
      ['flags', 48, 4],
    ]);
    expect(AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_bo_bucket?.size).toBe(56);
    expect(AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_bo_priv_data?.size).toBe(4);
    expect(fieldsOf(AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_vm_mapping_priv_data)).toEqual([
      ['start', 0, 8],
      ['last', 8, 8],
      ['offset', 16, 8],
      ['flags', 24, 8],
      ['idr_handle', 32, 4],
    ]);
    expect(AMDGPU_CRIU_PROPOSAL_STRUCTS.drm_amdgpu_criu_vm_mapping_priv_data?.size).toBe(40);
    expect(AMDGPU_CRIU_PROPOSAL_CONSTANTS).toMatchObject({
      DRM_AMDGPU_CRIU_OP: 0x19,
      AMDGPU_CRIU_OP_RESUME: 5,
      AMDGPU_CRIU_BO_FLAG_SKIP: 2,
    });
  });
});

describe('DRM catalogue helpers', () => {
  test('drm.h: DRM_CLOEXEC is O_CLOEXEC and DRM_RDWR is O_RDWR (x86-64)', () => {
    expect([DRM_RDWR, DRM_CLOEXEC]).toEqual([0o2, 0o2000000]);
    expect(flagsFromNames(DRM_PRIME_FLAGS, 'DRM_', ['CLOEXEC', 'DRM_RDWR'])).toBe(0x80002);
  });

  test('drm.h: core ioctl numbers are unique and outside DRM_COMMAND_BASE..DRM_COMMAND_END', () => {
    const nrs = Object.values<DrmIoctl>(DRM_IOCTLS).map((e) => e.nr);
    expect(new Set(nrs).size).toBe(nrs.length);
    expect(nrs.filter((nr) => nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END)).toEqual([]);
    const amd = Object.values<DrmIoctl>(AMDGPU_IOCTLS).map((e) => e.nr);
    expect(amd.filter((nr) => nr < DRM_COMMAND_BASE || nr >= DRM_COMMAND_END)).toEqual([]);
    expect(new Set(amd).size).toBe(amd.length);
  });

  test('lookups by name, number and request word', () => {
    const close = DRM_IOCTLS.DRM_IOCTL_GEM_CLOSE;
    expect(drmIoctlByName('GEM_CLOSE')).toBe(close);
    expect(drmIoctlByName('DRM_IOCTL_GEM_CLOSE')).toBe(close);
    expect(drmIoctlByName('NOPE')).toBeUndefined();
    expect(drmIoctlByNr(0x09)).toBe(close);
    expect(renderNodeIoctl('DRM_IOCTL_PRIME_FD_TO_HANDLE')).toBe(DRM_IOCTLS.DRM_IOCTL_PRIME_FD_TO_HANDLE);
    expect(renderNodeIoctl(AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_VA.request)).toBe(AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_VA);
    expect(renderNodeIoctl(close.request)).toBe(close);
    expect(amdgpuIoctlByName('GEM_OP')).toBe(AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_OP);
    expect(amdgpuIoctlByCommand(0x08)).toBe(AMDGPU_IOCTLS.DRM_IOCTL_AMDGPU_GEM_VA);
  });

  test('GEM_VA flag words: names ↔ numbers, MTYPE decoded as a value', () => {
    const word = amdgpuVaFlagsFromNames(['READABLE', 'AMDGPU_VM_PAGE_WRITEABLE', 'MTYPE_CC', 'DELAY_UPDATE']);
    expect(word).toBe(1 | 2 | 4 | (3 << 5));
    expect(amdgpuVaFlagNames(word)).toEqual(['DELAY_UPDATE', 'READABLE', 'WRITEABLE', 'MTYPE_CC']);
    expect(amdgpuVaFlagNames(2 | 512 | (4 << 5))).toEqual(['READABLE', 'MTYPE_UC', 'NOALLOC']);
    expect(amdgpuVaFlagNames(2 | (9 << 5) | (1 << 20))).toEqual([
      'READABLE',
      `0x${((9 << 5) | (1 << 20)).toString(16)}`,
    ]);
    expect(amdgpuVaFlagsFromNames(['AMDGPU_VM_MTYPE_DEFAULT'])).toBe(0);
    expect(() => amdgpuVaFlagsFromNames(['MTYPE_NC', 'MTYPE_WC'])).toThrow(RangeError);
    expect(() => amdgpuVaFlagsFromNames(['EXEC'])).toThrow(RangeError);
    expect(() => amdgpuVaFlagNames(-1)).toThrow(RangeError);
  });

  test('layout filters: BASELINE_ONLY gives the CI header sizes of grown structs, UPSTREAM_ONLY drops the proposal', () => {
    const baseline = layoutDrmStructs(AMDGPU_STRUCT_SPECS, BASELINE_ONLY);
    expect([baseline.drm_amdgpu_gem_op?.size, baseline.drm_amdgpu_gem_va?.size]).toEqual([16, 40]);
    expect(baseline.drm_amdgpu_gem_list_handles).toBeUndefined();
    expect(Object.keys(layoutDrmStructs(AMDGPU_CRIU_PROPOSAL_STRUCT_SPECS, UPSTREAM_ONLY))).toEqual([]);
    expect(Object.keys(layoutDrmStructs(AMDGPU_CRIU_PROPOSAL_STRUCT_SPECS))).toHaveLength(4);
  });

  test('kernel releases compare numerically', () => {
    expect(compareKernelVersions('6.9', '6.18')).toBeLessThan(0);
    expect(compareKernelVersions('6.18', '6.18.0')).toBe(0);
    expect(compareKernelVersions('7.0', '6.19')).toBeGreaterThan(0);
    expect(() => compareKernelVersions('6.x', '6.1')).toThrow(RangeError);
  });
});
