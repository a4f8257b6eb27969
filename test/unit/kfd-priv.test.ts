import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BoPriv,
  decodePrivData,
  type EventPriv,
  encodePrivData,
  KFD_CRIU_OBJECT_TYPE,
  KFD_CRIU_PRIV_VERSION,
  KFD_SVM_ATTR,
  type MaxGpuInstance,
  PRIV_OFFSETS,
  PRIV_SIZES,
  type PrivData,
  PrivDataError,
  privDataSize,
  type QueuePriv,
  type SvmRangePriv,
} from '../../src/criu/kfd-priv.js';

const MAXES: MaxGpuInstance[] = [64, 16];

// ---------------------------------------------------------------------------------------------
// gcc reference layout: the spec §3 structs, written out in C, compiled against the real uapi
// header (for kfd_ioctl_svm_attribute and the kfd_hsa_*_exception_data union members).
// ---------------------------------------------------------------------------------------------

const C_STRUCTS = `
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kfd_ioctl.h>

struct kfd_criu_process_priv_data { uint32_t version; uint32_t xnack_mode; };
struct kfd_criu_device_priv_data { uint64_t reserved; };
struct kfd_criu_bo_priv_data {
  uint64_t user_addr;
  uint32_t idr_handle;
  uint32_t mapped_gpuids[MAX_GPU_INSTANCE];
};
struct kfd_criu_svm_range_priv_data {
  uint32_t object_type;
  uint64_t start_addr;
  uint64_t size;
  struct kfd_ioctl_svm_attribute attrs[];
};
struct kfd_criu_queue_priv_data {
  uint32_t object_type;
  uint64_t q_address, q_size, read_ptr_addr, write_ptr_addr, doorbell_off,
           eop_ring_buffer_address, ctx_save_restore_area_address;
  uint32_t gpu_id, type, format, q_id, priority, q_percent, doorbell_id, gws, sdma_id,
           eop_ring_buffer_size, ctx_save_restore_area_size, ctl_stack_size, mqd_size;
};
struct kfd_criu_event_priv_data {
  uint32_t object_type;
  uint64_t user_handle;
  uint32_t event_id, auto_reset, type, signaled;
  union {
    struct kfd_hsa_memory_exception_data memory_exception_data;
    struct kfd_hsa_hw_exception_data hw_exception_data;
  };
};

#define F(S, M) printf("%s %s %zu %zu\\n", #S, #M, offsetof(struct S, M), sizeof(((struct S *)0)->M));
#define FAM(S, M) printf("%s %s %zu 0\\n", #S, #M, offsetof(struct S, M));
#define Z(S) printf("%s sizeof %zu %zu\\n", #S, sizeof(struct S), _Alignof(struct S));
`;

const MEM_FIELDS = [
  'failure.NotPresent',
  'failure.ReadOnly',
  'failure.NoExecute',
  'failure.imprecise',
  'va',
  'gpu_id',
  'ErrorType',
];
const HW_FIELDS = ['reset_type', 'reset_cause', 'memory_lost', 'gpu_id'];

/** C field designators per struct (written from spec §3, independently of the library). */
const C_FIELDS: Record<string, string[]> = {
  kfd_criu_process_priv_data: ['version', 'xnack_mode'],
  kfd_criu_device_priv_data: ['reserved'],
  kfd_criu_bo_priv_data: ['user_addr', 'idr_handle', 'mapped_gpuids'],
  kfd_criu_queue_priv_data: [
    'object_type',
    'q_address',
    'q_size',
    'read_ptr_addr',
    'write_ptr_addr',
    'doorbell_off',
    'eop_ring_buffer_address',
    'ctx_save_restore_area_address',
    'gpu_id',
    'type',
    'format',
    'q_id',
    'priority',
    'q_percent',
    'doorbell_id',
    'gws',
    'sdma_id',
    'eop_ring_buffer_size',
    'ctx_save_restore_area_size',
    'ctl_stack_size',
    'mqd_size',
  ],
  kfd_criu_event_priv_data: [
    'object_type',
    'user_handle',
    'event_id',
    'auto_reset',
    'type',
    'signaled',
    'memory_exception_data',
    ...MEM_FIELDS.map((f) => `memory_exception_data.${f}`),
    'hw_exception_data',
    ...HW_FIELDS.map((f) => `hw_exception_data.${f}`),
  ],
  kfd_criu_svm_range_priv_data: ['object_type', 'start_addr', 'size', 'attrs'],
  kfd_ioctl_svm_attribute: ['type', 'value'],
  kfd_hsa_memory_exception_data: MEM_FIELDS,
  kfd_hsa_hw_exception_data: HW_FIELDS,
};

interface CField {
  offset: number;
  size: number;
}
interface CLayout {
  field(struct: string, f: string): CField;
  sizeof(struct: string): number;
  alignof(struct: string): number;
}

const GCC_HINT =
  'the spec §3 layout tests need a C compiler and the kernel uapi headers: ' +
  'install gcc and linux-libc-dev (e.g. `apt-get install gcc linux-libc-dev`)';

function cProgram(): string {
  const lines: string[] = [C_STRUCTS, 'int main(void) {'];
  for (const [s, fields] of Object.entries(C_FIELDS)) {
    lines.push(`  Z(${s})`);
    for (const f of fields) {
      lines.push(s === 'kfd_criu_svm_range_priv_data' && f === 'attrs' ? `  FAM(${s}, ${f})` : `  F(${s}, ${f})`);
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

function compileLayout(dir: string, max: MaxGpuInstance): CLayout {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`gcc was not found on PATH; ${GCC_HINT}`);
  }
  const src = join(dir, 'layout.c');
  const exe = join(dir, `layout-${max}`);
  writeFileSync(src, cProgram());
  // kfd_ioctl.h includes <drm/drm.h>, which Debian ships in libdrm-dev rather than
  // linux-libc-dev. kfd_ioctl.h needs nothing from it but the __u32/__u64 types, so a fallback
  // shim is searched *after* the system directories (-idirafter): a real drm.h still wins.
  mkdirSync(join(dir, 'shim', 'drm'), { recursive: true });
  writeFileSync(join(dir, 'shim', 'drm', 'drm.h'), '#include <linux/types.h>\n');
  try {
    execFileSync(
      'gcc',
      ['-std=gnu11', '-Wall', '-Werror', `-DMAX_GPU_INSTANCE=${max}`, '-idirafter', join(dir, 'shim'), '-o', exe, src],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? e);
    throw new Error(`compiling the spec §3 structs failed (${GCC_HINT}):\n${stderr}`);
  }
  const out = execFileSync(exe, { encoding: 'utf8' });
  const fields = new Map<string, CField>();
  const sizes = new Map<string, [number, number]>();
  for (const line of out.trim().split('\n')) {
    const [s, f, a, b] = line.split(' ') as [string, string, string, string];
    if (f === 'sizeof') sizes.set(s, [Number(a), Number(b)]);
    else fields.set(`${s}.${f}`, { offset: Number(a), size: Number(b) });
  }
  return {
    field(s, f) {
      const v = fields.get(`${s}.${f}`);
      if (!v) throw new Error(`gcc output lacks ${s}.${f}`);
      return v;
    },
    sizeof(s) {
      const v = sizes.get(s);
      if (!v) throw new Error(`gcc output lacks sizeof ${s}`);
      return v[0];
    },
    alignof(s) {
      const v = sizes.get(s);
      if (!v) throw new Error(`gcc output lacks alignof ${s}`);
      return v[1];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

function getPath(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((acc, k) => (acc as Record<string, unknown>)[k], o);
}
function setPath(o: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = v;
}
function readLE(b: Uint8Array, at: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}
function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7 + 1) & 0xff);
}
function expectPrivErr(fn: () => unknown, errno = -22): PrivDataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PrivDataError);
    expect((e as PrivDataError).errno).toBe(errno);
    return e as PrivDataError;
  }
  throw new Error('expected PrivDataError, nothing was thrown');
}

function queue(seed: number, mqdSize: number, ctlSize: number): QueuePriv {
  const s = BigInt(seed);
  return {
    object_type: 0,
    q_address: 0x7f00_0000_0000n + s * 0x1000n,
    q_size: 0x10000n,
    read_ptr_addr: 0x7f10_0000_0000n + s,
    write_ptr_addr: 0x7f20_0000_0000n + s,
    doorbell_off: 0xc000_4000_0000_0000n + s * 8n,
    eop_ring_buffer_address: 0x7f30_0000_0000n + s,
    ctx_save_restore_area_address: 0x7f40_0000_0000n + s,
    gpu_id: 0x1234,
    type: seed % 2 === 0 ? 0 : 1,
    format: 1,
    q_id: seed,
    priority: 7,
    q_percent: 100,
    doorbell_id: seed * 2,
    gws: 0,
    sdma_id: seed,
    eop_ring_buffer_size: 0x1000,
    ctx_save_restore_area_size: 0x2c000,
    ctl_stack_size: ctlSize,
    mqd_size: mqdSize,
    mqd: bytes(mqdSize, seed),
    ctl_stack: bytes(ctlSize, seed + 100),
  };
}

/** 2 devices, 3 BOs, 2 queues, 2 events (one MEMORY), 1 SVM range with 4 + 2 attrs. */
function sample(): PrivData {
  const gpuA = 0x1234;
  const gpuB = 0x5678;
  const bos: BoPriv[] = [
    { user_addr: 0n, idr_handle: 1, mapped_gpuids: [gpuA, gpuB] }, // VRAM, mapped on both
    { user_addr: 0x7fff_dead_b000n, idr_handle: 2, mapped_gpuids: [gpuA] }, // userptr
    { user_addr: 0n, idr_handle: 3, mapped_gpuids: [] }, // unmapped GTT
  ];
  const events: EventPriv[] = [
    {
      object_type: 1,
      user_handle: 0x0001_1234_0000_0003n,
      event_id: 1,
      auto_reset: 1,
      type: 0,
      signaled: 0,
    },
    {
      object_type: 1,
      user_handle: 0n,
      event_id: 2,
      auto_reset: 0,
      type: 8,
      signaled: 1,
      memory_exception_data: {
        failure: { NotPresent: 1, ReadOnly: 0, NoExecute: 0, imprecise: 1 },
        va: 0x7f12_3456_7000n,
        gpu_id: gpuB,
        ErrorType: 2,
      },
    },
  ];
  const svm: SvmRangePriv = {
    object_type: 2,
    start_addr: 0x7f00_0000n,
    size: 512n,
    attrs: [
      { type: KFD_SVM_ATTR.PREFERRED_LOC, value: gpuA },
      { type: KFD_SVM_ATTR.PREFETCH_LOC, value: 0 },
      { type: KFD_SVM_ATTR.SET_FLAGS, value: 0x3 },
      { type: KFD_SVM_ATTR.GRANULARITY, value: 9 },
      { type: KFD_SVM_ATTR.ACCESS, value: gpuA },
      { type: KFD_SVM_ATTR.NO_ACCESS, value: gpuB },
    ],
  };
  return {
    process: { version: KFD_CRIU_PRIV_VERSION, xnack_mode: 1 },
    devices: [{ reserved: 0n }, { reserved: 0n }],
    bos,
    objects: [queue(1, 48, 16), queue(2, 40, 8), ...events, svm],
  };
}
const COUNTS = { num_devices: 2, num_bos: 3, num_objects: 5 };

// ---------------------------------------------------------------------------------------------
// gcc-verified layout
// ---------------------------------------------------------------------------------------------

describe('spec §3 priv_data layout verified with gcc', () => {
  let dir = '';
  const layouts = new Map<MaxGpuInstance, CLayout | Error>();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gpucr-kfd-priv-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  /** Compiled lazily inside each test so a missing gcc FAILS every layout test (never skips). */
  const L = (max: MaxGpuInstance): CLayout => {
    if (!layouts.has(max)) {
      try {
        layouts.set(max, compileLayout(dir, max));
      } catch (e) {
        layouts.set(max, e as Error);
      }
    }
    const l = layouts.get(max)!;
    if (l instanceof Error) throw l;
    return l;
  };

  it('spec §3: bo priv is 272 bytes with MAX_GPU_INSTANCE 64', () => {
    expect(L(64).sizeof('kfd_criu_bo_priv_data')).toBe(272);
    expect(PRIV_SIZES.bo(64)).toBe(272);
  });

  it('spec §3: bo priv is 80 bytes with MAX_GPU_INSTANCE 16', () => {
    expect(L(16).sizeof('kfd_criu_bo_priv_data')).toBe(80);
    expect(PRIV_SIZES.bo(16)).toBe(80);
  });

  it.each(MAXES)('spec §3: process 8, device 8, queue 120, event 64, svm header 24, attr 8 (MAX %i)', (max) => {
    const l = L(max);
    const got = {
      process: l.sizeof('kfd_criu_process_priv_data'),
      device: l.sizeof('kfd_criu_device_priv_data'),
      queueHeader: l.sizeof('kfd_criu_queue_priv_data'),
      event: l.sizeof('kfd_criu_event_priv_data'),
      svmHeader: l.sizeof('kfd_criu_svm_range_priv_data'),
      svmAttr: l.sizeof('kfd_ioctl_svm_attribute'),
      memoryException: l.sizeof('kfd_hsa_memory_exception_data'),
      hwException: l.sizeof('kfd_hsa_hw_exception_data'),
      bo: l.sizeof('kfd_criu_bo_priv_data'),
    };
    expect(got).toEqual({
      process: 8,
      device: 8,
      queueHeader: 120,
      event: 64,
      svmHeader: 24,
      svmAttr: 8,
      memoryException: 32,
      hwException: 16,
      bo: max === 64 ? 272 : 80,
    });
    const { bo: _bo, ...fixed } = got;
    const { bo: boFn, ...lib } = PRIV_SIZES;
    expect(lib).toEqual(fixed);
    expect(boFn(max)).toBe(got.bo);
    // attrs[] directly follows the 24-byte header (no extra padding before the FAM).
    expect(l.field('kfd_criu_svm_range_priv_data', 'attrs').offset).toBe(24);
  });

  it.each(MAXES)('spec §3: PRIV_OFFSETS equal gcc offsetof for every field (MAX %i)', (max) => {
    const l = L(max);
    const pairs: [keyof typeof PRIV_OFFSETS, string][] = [
      ['process', 'kfd_criu_process_priv_data'],
      ['device', 'kfd_criu_device_priv_data'],
      ['bo', 'kfd_criu_bo_priv_data'],
      ['queue', 'kfd_criu_queue_priv_data'],
      ['event', 'kfd_criu_event_priv_data'],
      ['svmRange', 'kfd_criu_svm_range_priv_data'],
      ['svmAttr', 'kfd_ioctl_svm_attribute'],
      ['memoryException', 'kfd_hsa_memory_exception_data'],
      ['hwException', 'kfd_hsa_hw_exception_data'],
    ];
    for (const [lib, c] of pairs) {
      const expected = Object.fromEntries(
        C_FIELDS[c]!.filter((f) => !f.includes('.') || c === 'kfd_hsa_memory_exception_data').map((f) => [
          f,
          l.field(c, f).offset,
        ]),
      );
      expect(PRIV_OFFSETS[lib], `${lib} vs struct ${c}`).toEqual(expected);
    }
    expect(l.field('kfd_criu_bo_priv_data', 'mapped_gpuids').size).toBe(4 * max);
  });

  it.each(MAXES)('spec §3/§5.2: encoder writes each sentinel at the gcc offset, padding stays zero (MAX %i)', (max) => {
    const l = L(max);
    let n = 0;
    const sentinel = (size: number): number | bigint => {
      n++;
      return size === 8
        ? 0xa5a5_0000_0000_0000n | (BigInt(n) << 40n) | (BigInt(n) << 8n) | 0x11n
        : (0x5a00_0000 + n * 0x0001_0101) >>> 0;
    };
    const fill = (c: string, fields: string[], extra: Record<string, unknown>) => {
      const o: Record<string, unknown> = {};
      for (const f of fields) setPath(o, f, sentinel(l.field(c, f).size));
      return { ...o, ...extra };
    };
    const QS = 'kfd_criu_queue_priv_data';
    const ES = 'kfd_criu_event_priv_data';
    const SS = 'kfd_criu_svm_range_priv_data';
    const scalarQueue = C_FIELDS[QS]!.filter((f) => !['object_type', 'mqd_size', 'ctl_stack_size'].includes(f));
    const mqd = bytes(24, 9);
    const ctl = bytes(12, 10);
    const q = fill(QS, scalarQueue, {
      object_type: 0,
      mqd_size: 24,
      ctl_stack_size: 12,
      mqd,
      ctl_stack: ctl,
    });
    const evBase = ['user_handle', 'event_id', 'auto_reset', 'signaled'];
    const memF = MEM_FIELDS.map((f) => `memory_exception_data.${f}`);
    const hwF = HW_FIELDS.map((f) => `hw_exception_data.${f}`);
    const evMem = fill(ES, [...evBase, ...memF], { object_type: 1, type: 8 });
    const evHw = fill(ES, [...evBase, ...hwF], { object_type: 1, type: 3 });
    const attrs = Array.from({ length: 5 }, () => ({
      type: sentinel(4) as number,
      value: sentinel(4) as number,
    }));
    const svm = fill(SS, ['start_addr', 'size'], { object_type: 2, attrs });
    const gpuids = Array.from({ length: max }, () => sentinel(4) as number);
    const data = {
      process: fill('kfd_criu_process_priv_data', ['version', 'xnack_mode'], {}),
      devices: [fill('kfd_criu_device_priv_data', ['reserved'], {})],
      bos: [
        fill('kfd_criu_bo_priv_data', ['user_addr', 'idr_handle'], { mapped_gpuids: gpuids }),
        fill('kfd_criu_bo_priv_data', ['user_addr', 'idr_handle'], { mapped_gpuids: [7, 8] }),
      ],
      objects: [q, evMem, evHw, svm],
    } as unknown as PrivData;
    const blob = encodePrivData(data, max);

    const covered = new Uint8Array(blob.length);
    const check = (c: string, base: number, obj: unknown, f: string) => {
      const { offset, size } = l.field(c, f);
      const want = BigInt(getPath(obj, f) as number | bigint);
      expect(readLE(blob, base + offset, size), `${c}.${f} at ${base}+${offset}`).toBe(want);
      covered.fill(1, base + offset, base + offset + size);
    };
    let at = 0;
    for (const f of ['version', 'xnack_mode']) check('kfd_criu_process_priv_data', at, data.process, f);
    at += l.sizeof('kfd_criu_process_priv_data');
    check('kfd_criu_device_priv_data', at, data.devices[0], 'reserved');
    at += l.sizeof('kfd_criu_device_priv_data');
    for (const bo of data.bos) {
      check('kfd_criu_bo_priv_data', at, bo, 'user_addr');
      check('kfd_criu_bo_priv_data', at, bo, 'idr_handle');
      const g = l.field('kfd_criu_bo_priv_data', 'mapped_gpuids').offset;
      bo.mapped_gpuids.forEach((id, j) => {
        expect(readLE(blob, at + g + 4 * j, 4)).toBe(BigInt(id));
        covered.fill(1, at + g + 4 * j, at + g + 4 * j + 4);
      });
      at += l.sizeof('kfd_criu_bo_priv_data');
    }
    for (const f of C_FIELDS[QS]!) check(QS, at, q, f);
    at += l.sizeof(QS);
    expect(blob.subarray(at, at + 24)).toEqual(mqd);
    expect(blob.subarray(at + 24, at + 36)).toEqual(ctl);
    covered.fill(1, at, at + 36);
    at += 36;
    for (const f of ['object_type', 'type', ...evBase, ...memF]) check(ES, at, evMem, f);
    at += l.sizeof(ES);
    for (const f of ['object_type', 'type', ...evBase, ...hwF]) check(ES, at, evHw, f);
    at += l.sizeof(ES);
    for (const f of ['object_type', 'start_addr', 'size']) check(SS, at, svm, f);
    const a0 = at + l.field(SS, 'attrs').offset;
    const asz = l.sizeof('kfd_ioctl_svm_attribute');
    attrs.forEach((a, i) => {
      check('kfd_ioctl_svm_attribute', a0 + i * asz, a, 'type');
      check('kfd_ioctl_svm_attribute', a0 + i * asz, a, 'value');
    });
    at = a0 + attrs.length * asz;
    expect(blob.length).toBe(at);
    const dirty = [...blob.keys()].filter((i) => !covered[i] && blob[i] !== 0);
    expect(dirty, 'non-zero padding/unused bytes').toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// round trips and the restore-side rejections
// ---------------------------------------------------------------------------------------------

describe('spec §5.2/§5.4 priv_data encode/decode', () => {
  it.each(MAXES)('spec §3/§5.2: round trip of 2 devices, 3 BOs, 2 queues, 2 events, 1 SVM range (MAX %i)', (max) => {
    const d = sample();
    const blob = encodePrivData(d, max);
    const expectedSize =
      8 + 2 * 8 + 3 * PRIV_SIZES.bo(max) + (120 + 48 + 16) + (120 + 40 + 8) + 2 * 64 + 24 + 8 * (4 + 2);
    expect(blob.length).toBe(expectedSize);
    expect(privDataSize(d, max)).toBe(expectedSize);
    expect(decodePrivData(blob, COUNTS, max)).toEqual(d);
  });

  it('spec §3: MAX_GPU_INSTANCE defaults to 64', () => {
    const d = sample();
    expect(encodePrivData(d)).toEqual(encodePrivData(d, 64));
    expect(privDataSize(d)).toBe(privDataSize(d, 64));
    expect(decodePrivData(encodePrivData(d, 64), COUNTS)).toEqual(d);
  });

  it('spec §3: a blob positioned at an unaligned offset of a larger buffer decodes', () => {
    const blob = encodePrivData(sample());
    const big = new Uint8Array(blob.length + 8);
    big.set(blob, 3);
    expect(decodePrivData(big.subarray(3, 3 + blob.length), COUNTS)).toEqual(sample());
  });

  it('spec §3: a blob encoded with MAX_GPU_INSTANCE 64 is rejected (-EINVAL) by a 16 kernel', () => {
    const blob = encodePrivData(sample(), 64);
    expectPrivErr(() => decodePrivData(blob, COUNTS, 16));
  });

  it('spec §3: a blob encoded with MAX_GPU_INSTANCE 16 is rejected (-EINVAL) by a 64 kernel', () => {
    const blob = encodePrivData(sample(), 16);
    expectPrivErr(() => decodePrivData(blob, COUNTS, 64));
  });

  it('spec §3: without BOs the blob does not depend on MAX_GPU_INSTANCE', () => {
    const d = { ...sample(), bos: [] };
    const counts = { ...COUNTS, num_bos: 0 };
    expect(encodePrivData(d, 16)).toEqual(encodePrivData(d, 64));
    expect(decodePrivData(encodePrivData(d, 64), counts, 16)).toEqual(d);
  });

  it.each(MAXES)('spec §5.4: every truncation of the blob gives PrivDataError -EINVAL (MAX %i)', (max) => {
    const blob = encodePrivData(sample(), max);
    const big = new Uint8Array(blob.length + 5);
    big.set(blob, 5);
    const wrong: string[] = [];
    for (let n = 0; n < blob.length; n++) {
      for (const b of [blob.subarray(0, n), big.subarray(5, 5 + n)]) {
        try {
          decodePrivData(b, COUNTS, max);
          wrong.push(`${n}: decoded`);
        } catch (e) {
          if (!(e instanceof PrivDataError) || e.errno !== -22) wrong.push(`${n}: ${String(e)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('spec §5.4: a truncation names the record being read and the offset', () => {
    const blob = encodePrivData(sample());
    expect(expectPrivErr(() => decodePrivData(blob.subarray(0, 7), COUNTS))).toMatchObject({
      field: 'process',
      offset: 0,
    });
    expect(expectPrivErr(() => decodePrivData(blob.subarray(0, 20), COUNTS))).toMatchObject({
      field: 'devices',
      offset: 8,
    });
    expect(expectPrivErr(() => decodePrivData(blob.subarray(0, 100), COUNTS))).toMatchObject({
      field: 'bos',
      offset: 24,
    });
    const q0 = 24 + 3 * 272;
    const e = expectPrivErr(() => decodePrivData(blob.subarray(0, q0 + 130), COUNTS));
    expect(e).toMatchObject({ field: 'objects[0].mqd+ctl_stack', offset: q0 + 120 });
    expect(e.message).toMatch(/blob overflow/);
  });

  it('spec §5.4 step 5: an unknown object_type is rejected with -EINVAL (Invalid object type)', () => {
    const blob = encodePrivData(sample());
    const q0 = 24 + 3 * 272;
    for (const bad of [3, 0xffff_ffff]) {
      const b = blob.slice();
      new DataView(b.buffer).setUint32(q0, bad, true);
      const e = expectPrivErr(() => decodePrivData(b, COUNTS));
      expect(e.message).toMatch(/Invalid object type/);
      expect(e).toMatchObject({ field: 'objects[0].object_type', offset: q0 });
    }
  });

  it('spec §5.4 step 6: trailing bytes are rejected with -EINVAL (Invalid private data size)', () => {
    const blob = encodePrivData(sample());
    for (const extra of [1, 8, 64]) {
      const b = new Uint8Array(blob.length + extra);
      b.set(blob);
      const e = expectPrivErr(() => decodePrivData(b, COUNTS));
      expect(e.message).toMatch(/Invalid private data size/);
      expect(e).toMatchObject({ field: 'priv_data_size', offset: blob.length });
    }
    // num_objects lower than what the blob carries leaves trailing bytes as well.
    expectPrivErr(() => decodePrivData(blob, { ...COUNTS, num_objects: 4 }));
  });

  it('spec §5.4 step 4: a huge num_bos with a tiny blob fails before allocating', () => {
    const blob = encodePrivData({ ...sample(), bos: [], objects: [] });
    const t0 = performance.now();
    const e = expectPrivErr(() => decodePrivData(blob, { num_devices: 2, num_bos: 0xffff_ffff, num_objects: 0 }));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(e).toMatchObject({ field: 'bos', offset: 24 });
    expect(
      expectPrivErr(() => decodePrivData(blob, { num_devices: 0xffff_ffff, num_bos: 0, num_objects: 0 })),
    ).toMatchObject({ field: 'devices', offset: 8 });
    expect(
      expectPrivErr(() => decodePrivData(blob, { num_devices: 2, num_bos: 0, num_objects: 0xffff_ffff })),
    ).toMatchObject({ field: 'objects[0].object_type', offset: 24 });
  });

  it('spec §5.4 step 5: huge mqd_size/ctl_stack_size are capped by the remaining bytes', () => {
    const d: PrivData = { ...sample(), bos: [], objects: [queue(1, 8, 8)] };
    const blob = encodePrivData(d);
    const q0 = 24;
    for (const [field, off] of [
      ['mqd_size', PRIV_OFFSETS.queue.mqd_size],
      ['ctl_stack_size', PRIV_OFFSETS.queue.ctl_stack_size],
    ] as const) {
      const b = blob.slice();
      new DataView(b.buffer).setUint32(q0 + off, 0xffff_ffff, true);
      const e = expectPrivErr(() => decodePrivData(b, { num_devices: 2, num_bos: 0, num_objects: 1 }));
      expect(e, field).toMatchObject({ field: 'objects[0].mqd+ctl_stack', offset: q0 + 120 });
    }
  });

  it('spec §5.4 step 2: the decoder exposes the version without checking it', () => {
    const d = { ...sample(), process: { version: 2, xnack_mode: 0 } };
    expect(decodePrivData(encodePrivData(d), COUNTS).process).toEqual({
      version: 2,
      xnack_mode: 0,
    });
  });

  it('spec §5.2.3: the SVM attr count is 4 + num_devices (n_pdds), not stored in the blob', () => {
    const d = sample();
    const blob = encodePrivData(d);
    // Same bytes, read as if the restoring process had 3 pdds: the range now needs 7 attrs.
    expectPrivErr(() => decodePrivData(blob, { ...COUNTS, num_devices: 3 }));
    const threeGpus = { ...d, devices: [...d.devices, { reserved: 0n }] };
    expect(() => encodePrivData(threeGpus)).toThrow(/4 \+ n_pdds = 7/);
  });

  it('spec §5.2.2: HW_EXCEPTION events round trip; other types encode the union as zeros', () => {
    const hw: EventPriv = {
      object_type: 1,
      user_handle: 0n,
      event_id: 5,
      auto_reset: 1,
      type: 3,
      signaled: 0,
      hw_exception_data: { reset_type: 1, reset_cause: 1, memory_lost: 1, gpu_id: 0x1234 },
    };
    const sig: EventPriv = {
      ...hw,
      event_id: 6,
      type: 0,
      memory_exception_data: {
        failure: { NotPresent: 1, ReadOnly: 1, NoExecute: 1, imprecise: 1 },
        va: 0xffffn,
        gpu_id: 9,
        ErrorType: 1,
      },
    };
    const d: PrivData = { ...sample(), bos: [], objects: [hw, sig] };
    const blob = encodePrivData(d);
    const e1 = 24 + 64;
    expect([...blob.subarray(e1 + 32, e1 + 64)].every((x) => x === 0)).toBe(true);
    const { hw_exception_data: _h, memory_exception_data: _m, ...sigPlain } = sig;
    expect(decodePrivData(blob, { num_devices: 2, num_bos: 0, num_objects: 2 }).objects).toEqual([hw, sigPlain]);
  });

  it('spec §3: mapped_gpuids longer than MAX_GPU_INSTANCE is rejected by the encoder', () => {
    const d = sample();
    d.bos[0]!.mapped_gpuids = Array.from({ length: 65 }, (_, i) => i + 1);
    expect(() => encodePrivData(d, 64)).toThrow(/mapped_gpuids has 65 entries but MAX_GPU_INSTANCE is 64/);
    expect(() => privDataSize(d, 64)).toThrow(/MAX_GPU_INSTANCE is 64/);
    d.bos[0]!.mapped_gpuids = Array.from({ length: 17 }, (_, i) => i + 1);
    expect(() => encodePrivData(d, 16)).toThrow(/mapped_gpuids has 17 entries but MAX_GPU_INSTANCE is 16/);
    expect(() => encodePrivData(d, 16)).not.toThrow(PrivDataError);
    // Exactly MAX entries (no 0 terminator) is representable and round trips.
    d.bos[0]!.mapped_gpuids = Array.from({ length: 16 }, (_, i) => i + 1);
    expect(decodePrivData(encodePrivData(d, 16), COUNTS, 16)).toEqual(d);
  });

  it('spec §3: the encoder rejects values the kernel could not have written', () => {
    const withQ = (q: Partial<QueuePriv>): PrivData => ({
      ...sample(),
      objects: [{ ...queue(1, 8, 8), ...q }],
    });
    expect(() => encodePrivData(withQ({ mqd: new Uint8Array(7) }))).toThrow(/mqd has 7 bytes but mqd_size is 8/);
    expect(() => encodePrivData(withQ({ gpu_id: -1 }))).toThrow(/objects\[0\]\.gpu_id must be a u32/);
    expect(() => encodePrivData(withQ({ q_size: 1n << 64n }))).toThrow(/q_size must be a u64/);
    const d = sample();
    d.bos[1]!.mapped_gpuids = [0x1234, 0];
    expect(() => encodePrivData(d)).toThrow(/terminator/);
    const bad = { ...sample(), objects: [{ object_type: 7 }] } as unknown as PrivData;
    expect(() => encodePrivData(bad)).toThrow(/object_type must be 0/);
    expect(() => encodePrivData(sample(), 32 as MaxGpuInstance)).toThrow(/16 or 64/);
    expect(KFD_CRIU_OBJECT_TYPE).toEqual({ QUEUE: 0, EVENT: 1, SVM_RANGE: 2 });
  });
});
