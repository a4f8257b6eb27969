/**
 * gpucr's /dev/kfd catalogue against the system's include/uapi/linux/kfd_ioctl.h
 * (compiled with gcc), and against the spec for what is newer than that header.
 * Missing gcc or header is a failure, never a skip.
 */
import { describe, expect, test } from 'vitest';
import {
  _IO,
  _IOC_DIRBITS,
  _IOC_NONE,
  _IOC_NRBITS,
  _IOC_READ,
  _IOC_SIZEBITS,
  _IOC_TYPEBITS,
  _IOC_WRITE,
  _IOR,
  _IOW,
  _IOWR,
  AMDKFD_COMMAND_END,
  AMDKFD_IOCTLS,
  KFD_CONSTANTS,
  KFD_CRIU_OP,
  KFD_INVALID_FD,
  KFD_IOC_ALLOC_MEM_FLAGS,
  KFD_IOC_EVENT,
  KFD_IOC_QUEUE_TYPE,
  KFD_IOCTL_MINOR_VERSION,
  KFD_IOCTL_VERSION_HISTORY,
  KFD_QUEUE_EVICTION,
  KFD_SIGNAL_EVENT_LIMIT,
  KFD_STRUCTS,
  kfdCommandEnd,
  kfdIoctlByNr,
} from '../../src/uapi/index.js';
import { type HeaderProbe, INSTALL_HINT, probeHeader } from './helpers/c-probe.js';
import { compareConstants, compareStructs, headerMinor, newerVsMissing } from './helpers/kfd-compare.js';

const KFD_HEADER = process.env.GPUCR_KFD_IOCTL_H ?? '/usr/include/linux/kfd_ioctl.h';

/** Generic <asm-generic/ioctl.h> values and sample requests, evaluated by gcc next to the header. */
const EXTRAS: Record<string, string> = {
  _IOC_NRBITS: '_IOC_NRBITS',
  _IOC_TYPEBITS: '_IOC_TYPEBITS',
  _IOC_SIZEBITS: '_IOC_SIZEBITS',
  _IOC_DIRBITS: '_IOC_DIRBITS',
  _IOC_NONE: '_IOC_NONE',
  _IOC_WRITE: '_IOC_WRITE',
  _IOC_READ: '_IOC_READ',
  io_K_27: "_IO('K', 0x27)",
  // The C macros take a type; char[N] has size N.
  ior_x_ff: "_IOR('x', 0xff, char[16383])",
  iow_0_1: '_IOW(0, 1, char)',
  iowr_K_22: "_IOWR('K', 0x22, char[56])",
};

let cached: HeaderProbe | undefined;
function probe(): HeaderProbe {
  cached ??= probeHeader(KFD_HEADER, EXTRAS);
  return cached;
}

describe(`kfd_ioctl.h (${KFD_HEADER}) vs the catalogue`, () => {
  test('the header is present and compiles (else: apt-get install -y gcc linux-libc-dev)', () => {
    expect(INSTALL_HINT).toBe('apt-get install -y gcc linux-libc-dev');
    const p = probe();
    expect(p.constants.size).toBeGreaterThan(100);
    expect(p.structs.size).toBeGreaterThan(30);
    console.info(
      `compared ${p.constants.size} constants, ${p.structs.size} structs, ` +
        `${[...p.structs.values()].reduce((n, s) => n + s.fields.size, 0)} fields of KFD 1.${headerMinor(p)}`,
    );
  });

  test('every #define and enum constant has the same value in KFD_CONSTANTS', () => {
    expect(compareConstants(probe())).toEqual([]);
  });

  test('every struct has the same sizeof, _Alignof and field offsets/sizes in KFD_STRUCTS (x86-64)', () => {
    expect(compareStructs(probe())).toEqual([]);
  });

  test('spec §2.1: the header minor is modelled and in the version history', () => {
    const minor = headerMinor(probe());
    expect(minor).toBeLessThanOrEqual(KFD_IOCTL_MINOR_VERSION);
    expect(KFD_IOCTL_VERSION_HISTORY[minor]).toBeDefined();
  });

  test('catalogue items newer than the header are exactly the ones the header lacks', () => {
    const { newer, missing } = newerVsMissing(probe());
    expect(missing).toEqual(newer);
  });

  test('the asm-generic _IOC encoding matches <linux/ioctl.h>', () => {
    const x = probe().extras;
    const bits = {
      _IOC_NRBITS,
      _IOC_TYPEBITS,
      _IOC_SIZEBITS,
      _IOC_DIRBITS,
      _IOC_NONE,
      _IOC_WRITE,
      _IOC_READ,
    };
    for (const [name, v] of Object.entries(bits)) expect([name, x.get(name)]).toEqual([name, BigInt(v)]);
    expect(BigInt(_IO('K', 0x27))).toBe(x.get('io_K_27'));
    expect(BigInt(_IOR('x', 0xff, 16383))).toBe(x.get('ior_x_ff'));
    expect(BigInt(_IOW(0, 1, 1))).toBe(x.get('iow_0_1'));
    expect(BigInt(_IOWR('K', 0x22, 56))).toBe(x.get('iowr_K_22'));
  });
});

describe('catalogue items newer than the 6.1 header, against the spec', () => {
  test('spec §2.2: EXPORT_DMABUF 0x24 IOWR (16-byte args), RUNTIME_ENABLE 0x25, DBG_TRAP 0x26, CREATE_PROCESS 0x27 _IO', () => {
    const e = AMDKFD_IOCTLS.AMDKFD_IOC_EXPORT_DMABUF;
    expect([e.nr, e.dir, e.sinceMinor, KFD_STRUCTS[e.struct!]?.size]).toEqual([0x24, 'rw', 12, 16]);
    expect(e.request).toBe(_IOWR('K', 0x24, 16));
    expect(KFD_STRUCTS.kfd_ioctl_export_dmabuf_args?.fields.map((f) => [f.name, f.offset, f.type])).toEqual([
      ['handle', 0, 'u64'],
      ['flags', 8, 'u32'],
      ['dmabuf_fd', 12, 'u32'],
    ]);
    const r = AMDKFD_IOCTLS.AMDKFD_IOC_RUNTIME_ENABLE;
    const d = AMDKFD_IOCTLS.AMDKFD_IOC_DBG_TRAP;
    expect([r.nr, r.dir, r.sinceMinor, d.nr, d.dir, d.sinceMinor]).toEqual([0x25, 'rw', 13, 0x26, 'rw', 13]);
    const c = AMDKFD_IOCTLS.AMDKFD_IOC_CREATE_PROCESS;
    expect([c.nr, c.dir, c.struct, c.sinceMinor, c.request]).toEqual([0x27, 'none', null, 19, _IO('K', 0x27)]);
    expect(kfdIoctlByNr(0x27)).toBe(c);
  });

  test('spec §2.2: AMDKFD_COMMAND_END is 0x25 at 1.12, 0x27 for 1.13–1.18, 0x28 at 1.19', () => {
    expect(kfdCommandEnd(11)).toBe(0x24);
    expect(kfdCommandEnd(12)).toBe(0x25);
    for (let m = 13; m <= 18; m++) expect(kfdCommandEnd(m)).toBe(0x27);
    expect(kfdCommandEnd(19)).toBe(0x28);
    expect(AMDKFD_COMMAND_END).toBe(0x27);
    expect(KFD_CONSTANTS.AMDKFD_COMMAND_END).toBe(0x27);
    expect(() => kfdCommandEnd(20)).toThrow(RangeError);
  });

  test('spec §2.2: every nr 0x01..0x27 has exactly one ioctl', () => {
    const nrs = Object.values(AMDKFD_IOCTLS).map((e) => e.nr);
    expect(nrs.sort((a, b) => a - b)).toEqual(Array.from({ length: 0x27 }, (_, i) => i + 1));
  });

  test('spec §2.5: CRIU_OP is 0x22 IOWR with a 56-byte kfd_ioctl_criu_args; buckets are 16 and 48 bytes', () => {
    const c = AMDKFD_IOCTLS.AMDKFD_IOC_CRIU_OP;
    expect([c.nr, c.dir, c.struct, c.request]).toEqual([0x22, 'rw', 'kfd_ioctl_criu_args', _IOWR('K', 0x22, 56)]);
    expect(KFD_STRUCTS.kfd_criu_device_bucket?.size).toBe(16);
    expect(KFD_STRUCTS.kfd_criu_bo_bucket?.size).toBe(48);
    expect(KFD_CRIU_OP).toEqual({
      PROCESS_INFO: 0,
      CHECKPOINT: 1,
      UNPAUSE: 2,
      RESTORE: 3,
      RESUME: 4,
    });
  });

  test('spec §2.3: allocation flag bits, WRITABLE unsigned 0x80000000, CONTIGUOUS 1<<23', () => {
    const shifts = {
      VRAM: 0,
      GTT: 1,
      USERPTR: 2,
      DOORBELL: 3,
      MMIO_REMAP: 4,
      CONTIGUOUS: 23,
      EXT_COHERENT: 24,
      UNCACHED: 25,
      COHERENT: 26,
      AQL_QUEUE_MEM: 27,
      NO_SUBSTITUTE: 28,
      PUBLIC: 29,
      EXECUTABLE: 30,
      WRITABLE: 31,
    };
    expect(KFD_IOC_ALLOC_MEM_FLAGS).toEqual(Object.fromEntries(Object.entries(shifts).map(([k, s]) => [k, 2 ** s])));
    expect(KFD_IOC_ALLOC_MEM_FLAGS.WRITABLE).toBe(0x80000000);
  });

  test('spec §2.4: queue types (SDMA_BY_ENG_ID since 1.17), create_queue gains sdma_engine_id, event types, limits', () => {
    expect(KFD_IOC_QUEUE_TYPE).toEqual({
      COMPUTE: 0,
      SDMA: 1,
      COMPUTE_AQL: 2,
      SDMA_XGMI: 3,
      SDMA_BY_ENG_ID: 4,
    });
    const q = KFD_STRUCTS.kfd_ioctl_create_queue_args!;
    const eng = q.fields.find((f) => f.name === 'sdma_engine_id');
    expect([eng?.offset, eng?.sinceMinor, q.size]).toEqual([88, 17, 96]);
    expect(Object.keys(KFD_IOC_EVENT)).toEqual([
      'SIGNAL',
      'NODECHANGE',
      'DEVICESTATECHANGE',
      'HW_EXCEPTION',
      'SYSTEM_EVENT',
      'DEBUG_EVENT',
      'PROFILE_EVENT',
      'QUEUE_EVENT',
      'MEMORY',
    ]);
    expect(Object.values(KFD_IOC_EVENT)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([KFD_SIGNAL_EVENT_LIMIT, KFD_INVALID_FD]).toEqual([4096, 0xffffffff]);
  });

  test('spec §6.3: queue eviction triggers in order from 0', () => {
    expect(Object.entries(KFD_QUEUE_EVICTION)).toEqual([
      ['TRIGGER_SVM', 0],
      ['TRIGGER_USERPTR', 1],
      ['TRIGGER_TTM', 2],
      ['TRIGGER_SUSPEND', 3],
      ['CRIU_CHECKPOINT', 4],
      ['CRIU_RESTORE', 5],
    ]);
  });
});
