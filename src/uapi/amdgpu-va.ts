/**
 * Names of a GEM_VA / GET_MAPPING_INFO flags word (drm_amdgpu_gem_va.flags,
 * drm_amdgpu_gem_vm_entry.flags): `AMDGPU_VM_DELAY_UPDATE`, the
 * `AMDGPU_VM_PAGE_*` bits and the `AMDGPU_VM_MTYPE_*` value in bits 5–8. The
 * MTYPE is a 4-bit number, not a set of flags (CC = NC | WC bitwise), so the
 * generic flagNames() cannot decode such a word; these functions can (the word is
 * split by splitFlagWord, src/uapi/flag-word.ts, as the log writer splits it).
 */
import { AMDGPU_VM_DELAY_UPDATE, AMDGPU_VM_MTYPE, AMDGPU_VM_MTYPE_MASK, AMDGPU_VM_PAGE } from './amdgpu-consts.js';
import { splitFlagWord } from './flag-word.js';

type Named = readonly [name: string, value: number];

const SINGLE_BITS: readonly Named[] = [
  ['DELAY_UPDATE', AMDGPU_VM_DELAY_UPDATE],
  ...Object.entries(AMDGPU_VM_PAGE).map(([k, v]) => [k, v] as const),
];
const MTYPES: readonly Named[] = Object.entries(AMDGPU_VM_MTYPE).map(([k, v]) => [`MTYPE_${k}`, v] as const);
/** The short names as one family: the single bits, then the MTYPE values of the field. */
const FAMILY: Readonly<Record<string, number>> = Object.fromEntries([...SINGLE_BITS, ...MTYPES]);

function shortVaName(name: string): string {
  for (const prefix of ['AMDGPU_VM_PAGE_', 'AMDGPU_VM_']) if (name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}

/**
 * ORs GEM_VA flag names into a word: `DELAY_UPDATE`, `READABLE`, `WRITEABLE`,
 * `EXECUTABLE`, `PRT`, `NOALLOC`, at most one `MTYPE_<DEFAULT|NC|WC|CC|UC|RW>`;
 * full C names (`AMDGPU_VM_PAGE_READABLE`, `AMDGPU_VM_MTYPE_UC`) are accepted
 * too. Unknown name or two MTYPEs → RangeError (include/uapi/drm/amdgpu_drm.h).
 */
export function amdgpuVaFlagsFromNames(names: readonly string[]): number {
  let word = 0;
  let mtype: string | undefined;
  for (const name of names) {
    const key = shortVaName(name);
    const single = SINGLE_BITS.find(([n]) => n === key);
    const mt = MTYPES.find(([n]) => n === key);
    if (single) word |= single[1];
    else if (mt) {
      if (mtype !== undefined) throw new RangeError(`two MTYPEs in GEM_VA flags: ${mtype} and ${key}`);
      mtype = key;
      word |= mt[1];
    } else {
      const known = [...SINGLE_BITS, ...MTYPES].map(([n]) => n).join(', ');
      throw new RangeError(`unknown GEM_VA flag '${name}' (expected one of ${known})`);
    }
  }
  return word >>> 0;
}

/**
 * Names of a GEM_VA flags word in ascending bit order, the MTYPE as
 * `MTYPE_<X>` (omitted when DEFAULT, i.e. 0); unknown bits, including an MTYPE
 * value without a name, come last as one hex entry such as `'0xc0'`
 * (include/uapi/drm/amdgpu_drm.h).
 */
export function amdgpuVaFlagNames(flags: number): string[] {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new RangeError(`GEM_VA flags ${flags} is not a u32`);
  }
  const { names, rest } = splitFlagWord(FAMILY, flags, AMDGPU_VM_MTYPE_MASK);
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}
