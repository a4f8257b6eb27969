/**
 * Unit tests of the uapi helpers: _IOC encoding, BO handles, /dev/kfd mmap
 * offsets, flag-name conversion and errno values (the latter against the system's
 * asm-generic errno headers).
 */
import { describe, expect, test } from 'vitest';
import {
  _IO,
  _IOC,
  _IOC_READ,
  _IOC_WRITE,
  _IOR,
  _IOW,
  _IOWR,
  AMDKFD_IOCTLS,
  decodeKfdMmapOffset,
  ERRNO,
  type ErrnoName,
  enumName,
  enumValue,
  err,
  errnoName,
  flagNames,
  flagsFromNames,
  GET_GPU_ID,
  GET_IDR_HANDLE,
  iocDecode,
  KERNEL_INTERNAL_ERRNOS,
  KFD_CRIU_OP,
  KFD_IOC_ALLOC_MEM_FLAGS,
  KFD_MMAP_GPU_ID,
  KFD_MMAP_TYPE,
  kfdIoctlByName,
  kfdIoctlRequest,
  kfdMmapOffset,
  MAKE_HANDLE,
} from '../../src/uapi/index.js';
import { readHeader } from './helpers/c-probe.js';

describe('_IOC encoding', () => {
  test('_IOC round-trips through iocDecode over the field ranges', () => {
    for (const dir of [0, 1, 2, 3]) {
      for (const type of [0, 0x4b, 0xff]) {
        for (const nr of [0, 0x22, 0xff]) {
          for (const size of [0, 1, 56, 0x3fff]) {
            const req = _IOC(dir, type, nr, size);
            expect(req).toBeGreaterThanOrEqual(0);
            expect(req).toBeLessThanOrEqual(0xffffffff);
            expect(iocDecode(req)).toEqual({ dir, type, nr, size });
          }
        }
      }
    }
  });

  test('_IO/_IOR/_IOW/_IOWR set the direction bits; a string type is its character code', () => {
    expect(iocDecode(_IO('K', 1))).toEqual({ dir: 0, type: 0x4b, nr: 1, size: 0 });
    expect(iocDecode(_IOR('K', 1, 8)).dir).toBe(_IOC_READ);
    expect(iocDecode(_IOW('K', 1, 8)).dir).toBe(_IOC_WRITE);
    expect(_IOWR('K', 0x22, 56)).toBe(0xc0384b22);
    expect(_IOWR('K', 0x22, 56)).toBe(_IOWR(0x4b, 0x22, 56));
  });

  test('out-of-range fields and multi-character types are RangeErrors', () => {
    expect(() => _IOC(4, 'K', 0, 0)).toThrow(RangeError);
    expect(() => _IOC(0, 'K', 0x100, 0)).toThrow(RangeError);
    expect(() => _IOC(0, 'K', 0, 0x4000)).toThrow(RangeError);
    expect(() => _IO('KK', 1)).toThrow(RangeError);
    expect(() => iocDecode(-1)).toThrow(RangeError);
  });

  test('spec §2.2: kfdIoctlRequest follows the struct size of the requested minor', () => {
    const q = AMDKFD_IOCTLS.AMDKFD_IOC_CREATE_QUEUE;
    expect(iocDecode(kfdIoctlRequest('AMDKFD_IOC_CREATE_QUEUE', 16)).size).toBe(88);
    expect(iocDecode(kfdIoctlRequest('CREATE_QUEUE', 17)).size).toBe(96);
    expect(q.request).toBe(kfdIoctlRequest('CREATE_QUEUE'));
    expect(() => kfdIoctlRequest('EXPORT_DMABUF', 11)).toThrow(RangeError);
    expect(kfdIoctlByName('SVM')).toBe(AMDKFD_IOCTLS.AMDKFD_IOC_SVM);
    expect(kfdIoctlByName('AMDKFD_IOC_NOPE')).toBeUndefined();
  });
});

describe('BO handles', () => {
  test('spec §1: MAKE_HANDLE is (gpu_id << 32) + idr_handle; GET_GPU_ID/GET_IDR_HANDLE invert it', () => {
    const h = MAKE_HANDLE(41966, 5);
    expect(h).toBe(0xa3ee_0000_0005n);
    expect(GET_GPU_ID(h)).toBe(41966);
    expect(GET_IDR_HANDLE(h)).toBe(5);
    const max = MAKE_HANDLE(0xffffffff, 0xffffffff);
    expect([max, GET_GPU_ID(max), GET_IDR_HANDLE(max)]).toEqual([(1n << 64n) - 1n, 0xffffffff, 0xffffffff]);
    expect(() => MAKE_HANDLE(-1, 0)).toThrow(RangeError);
    expect(() => MAKE_HANDLE(1, 2 ** 32)).toThrow(RangeError);
  });
});

describe('/dev/kfd mmap offsets', () => {
  test('spec §2.6: doorbell offset encodes type in bits 63:62', () => {
    const off = kfdMmapOffset(KFD_MMAP_TYPE.DOORBELL, 0, 0n);
    expect(off >> 62n).toBe(3n);
    expect(off).toBe(0xc000_0000_0000_0000n);
    expect([KFD_MMAP_TYPE.EVENTS >> 62n, KFD_MMAP_TYPE.RESERVED_MEM >> 62n, KFD_MMAP_TYPE.MMIO]).toEqual([2n, 1n, 0n]);
  });

  test('spec §2.6: gpu_id occupies bits 61:46 and the offset bits 45:0', () => {
    const off = kfdMmapOffset(KFD_MMAP_TYPE.MMIO, 0xa3ee, 0x1000n);
    expect(off).toBe((0xa3een << 46n) | 0x1000n);
    expect(KFD_MMAP_GPU_ID(0xa3ee)).toBe(0xa3een << 46n);
    expect(KFD_MMAP_GPU_ID(0x1_0001)).toBe(1n << 46n); // the C macro masks to 16 bits
    expect(decodeKfdMmapOffset(off)).toEqual({ type: 'MMIO', gpuId: 0xa3ee, offset: 0x1000n });
  });

  test('spec §2.6: every type round-trips through decodeKfdMmapOffset', () => {
    for (const [name, type] of Object.entries(KFD_MMAP_TYPE)) {
      const off = kfdMmapOffset(type, 0xffff, (1n << 46n) - 1n);
      expect(decodeKfdMmapOffset(off)).toEqual({
        type: name,
        gpuId: 0xffff,
        offset: (1n << 46n) - 1n,
      });
    }
  });

  test('spec §2.6: bad type, wide gpu_id or offset, and non-u64 values are RangeErrors', () => {
    expect(() => kfdMmapOffset(5n, 1)).toThrow(RangeError);
    expect(() => kfdMmapOffset(KFD_MMAP_TYPE.EVENTS, 0x10000)).toThrow(RangeError);
    expect(() => kfdMmapOffset(KFD_MMAP_TYPE.EVENTS, 1, 1n << 46n)).toThrow(RangeError);
    expect(() => decodeKfdMmapOffset(-1n)).toThrow(RangeError);
    expect(() => decodeKfdMmapOffset(1n << 64n)).toThrow(RangeError);
  });
});

describe('flag and enum names', () => {
  const F = KFD_IOC_ALLOC_MEM_FLAGS;
  const P = 'KFD_IOC_ALLOC_MEM_FLAGS_';

  test('spec §2.3: flagsFromNames/flagNames round-trip, ascending bit order, unsigned words', () => {
    const word = flagsFromNames(F, P, ['WRITABLE', 'VRAM', 'KFD_IOC_ALLOC_MEM_FLAGS_PUBLIC']);
    expect(word).toBe(0x80000000 + 0x20000000 + 1);
    expect(flagNames(F, word)).toEqual(['VRAM', 'PUBLIC', 'WRITABLE']);
    expect(flagsFromNames(F, P, flagNames(F, word))).toBe(word);
    expect(flagsFromNames(F, P, [])).toBe(0);
    expect(flagNames(F, 0)).toEqual([]);
    expect(flagNames(F, -0x80000000)).toEqual(['WRITABLE']);
  });

  test('unknown names throw a RangeError naming them; unknown bits become one hex entry', () => {
    expect(() => flagsFromNames(F, P, ['VRAM', 'SHINY'])).toThrow(/SHINY/);
    expect(() => flagsFromNames(F, P, ['SHINY'])).toThrow(RangeError);
    expect(flagNames(F, 0x100 | 0x200 | F.GTT)).toEqual(['GTT', '0x300']);
  });

  test('spec §2.5: enum values by name or number', () => {
    expect(enumValue(KFD_CRIU_OP, 'KFD_CRIU_OP_', 'RESUME')).toBe(4);
    expect(enumValue(KFD_CRIU_OP, 'KFD_CRIU_OP_', 'KFD_CRIU_OP_UNPAUSE')).toBe(2);
    expect(enumValue(KFD_CRIU_OP, 'KFD_CRIU_OP_', 3)).toBe(3);
    expect(() => enumValue(KFD_CRIU_OP, 'KFD_CRIU_OP_', 9)).toThrow(RangeError);
    expect(() => enumValue(KFD_CRIU_OP, 'KFD_CRIU_OP_', 'PAUSE')).toThrow(/PAUSE/);
    expect(enumName(KFD_CRIU_OP, 1)).toBe('CHECKPOINT');
  });
});

describe('errno', () => {
  const HEADERS = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];

  test('every ERRNO value equals asm-generic/errno-base.h and errno.h; ENOTSUPP is kernel-internal', () => {
    const defined = new Map<string, number>();
    for (const path of HEADERS) {
      for (const m of readHeader(path).matchAll(/^#define\s+(E\w+)\s+(\d+)\b/gm)) defined.set(m[1]!, Number(m[2]));
    }
    expect(defined.size).toBeGreaterThan(100);
    const bad: string[] = [];
    for (const [name, value] of Object.entries(ERRNO) as [ErrnoName, number][]) {
      const h = defined.get(name);
      if (KERNEL_INTERNAL_ERRNOS.includes(name)) {
        if (h !== undefined) bad.push(`${name} is in the uapi headers (${h})`);
      } else if (h !== value) bad.push(`${name}: header ${h}, ERRNO ${value}`);
    }
    expect(bad).toEqual([]);
    expect(ERRNO.ENOTSUPP).toBe(524);
  });

  test('err() is negative, errnoName() accepts both signs and falls back to the number', () => {
    expect(err('EINVAL')).toBe(-22);
    expect(errnoName(-22)).toBe('EINVAL');
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(-524)).toBe('ENOTSUPP');
    expect(errnoName(-1234)).toBe('-1234');
  });
});
