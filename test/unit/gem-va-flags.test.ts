/**
 * GEM_VA's flag word in logs (spec §8.2; include/uapi/drm/amdgpu_drm.h): the PAGE_* and
 * DELAY_UPDATE names are bits, the MTYPE_* names are values of the 4-bit field at bits 5-8
 * (MTYPE_CC = 3 << 5 is not MTYPE_NC | MTYPE_WC). The log's decoder and writer agree with
 * the uapi catalogue's own parser (src/uapi/amdgpu-va.ts) on every list of names, and the
 * writer with the catalogue's namer (both split the word with src/uapi/flag-word.ts) on every word.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import '../../src/ioctls/all.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { encodeValue } from '../../src/log/writer.js';
import { amdgpuVaFlagNames, amdgpuVaFlagsFromNames } from '../../src/uapi/amdgpu-va.js';

const def = callDef('DRM_IOCTL_AMDGPU_GEM_VA')!;
const type = def.args.flags!;
const BITS = ['DELAY_UPDATE', 'PAGE_READABLE', 'PAGE_WRITEABLE', 'PAGE_EXECUTABLE', 'PAGE_PRT', 'PAGE_NOALLOC'];
const MTYPES = ['MTYPE_DEFAULT', 'MTYPE_NC', 'MTYPE_WC', 'MTYPE_CC', 'MTYPE_UC', 'MTYPE_RW'];

const decode = (names: string[]) => decodeArgs(def.args, { flags: names }, 'args').flags as number;

describe('GEM_VA flags: MTYPE_* is one value of a field, not bits', () => {
  it('MTYPE_CC is 3 << 5, and MTYPE_NC with MTYPE_WC is refused (not read as CC)', () => {
    expect(decode(['PAGE_READABLE', 'MTYPE_CC'])).toBe(
      amdgpuVaFlagsFromNames(['AMDGPU_VM_PAGE_READABLE', 'AMDGPU_VM_MTYPE_CC']),
    );
    expect(() => decode(['MTYPE_NC', 'MTYPE_WC'])).toThrow(InputError);
    expect(() => decode(['MTYPE_NC', 'MTYPE_WC'])).toThrow(
      /no second value of the field in bits 0x1e0 \(MTYPE_NC is already given\)/,
    );
  });

  it('the writer names a word with at most one MTYPE_* name, and the decoder reads it back', () => {
    expect(encodeValue(type, decode(['PAGE_READABLE', 'MTYPE_CC']), true)).toEqual(['PAGE_READABLE', 'MTYPE_CC']);
    expect(encodeValue(type, decode(['MTYPE_RW', 'PAGE_WRITEABLE']), true)).toEqual(['PAGE_WRITEABLE', 'MTYPE_RW']);
  });

  it('on random lists of names: the decoder agrees with the uapi parser, and writer → decoder is the identity', () => {
    fc.assert(
      fc.property(fc.subarray(BITS), fc.subarray(MTYPES, { maxLength: 2 }), fc.boolean(), (bits, mtypes, prefixed) => {
        const names = [...bits, ...mtypes].map((n) => (prefixed ? `AMDGPU_VM_${n}` : n));
        const full = [...bits, ...mtypes].map((n) => `AMDGPU_VM_${n}`);
        if (mtypes.length > 1) {
          expect(() => decode(names)).toThrow(InputError);
          expect(() => amdgpuVaFlagsFromNames(full)).toThrow(RangeError);
          return;
        }
        const word = decode(names);
        expect(word).toBe(amdgpuVaFlagsFromNames(full));
        const written = encodeValue(type, word, true) as string[];
        expect(written.filter((n) => n.startsWith('MTYPE_')).length).toBeLessThanOrEqual(1);
        expect(decode(written)).toBe(word);
      }),
      { numRuns: 300, seed: 0x6e },
    );
  });

  it('on random words: the writer writes the names amdgpuVaFlagNames gives, or the number when it has a hex rest', () => {
    const page = new Set(BITS.filter((n) => n.startsWith('PAGE_')).map((n) => n.slice('PAGE_'.length)));
    const words = fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0x3ff }),
      fc.integer({ min: 0, max: 15 }).map((mtype) => (mtype << 5) | 0x21f),
    );
    fc.assert(
      fc.property(words, (word) => {
        const names = amdgpuVaFlagNames(word);
        const written = encodeValue(type, word, true);
        if (names.some((n) => n.startsWith('0x'))) expect(written).toBe(word);
        else expect(written).toEqual(names.map((n) => (page.has(n) ? `PAGE_${n}` : n)));
      }),
      { numRuns: 500, seed: 0x6f },
    );
    expect(encodeValue(type, 9 << 5, true)).toBe(9 << 5);
    expect(amdgpuVaFlagNames(9 << 5)).toEqual(['0x120']);
  });
});
