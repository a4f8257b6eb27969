/**
 * Conversions between flag words / enum values and their names, as gpucr's event
 * log writes them (names without the family's common prefix, e.g.
 * `["VRAM","WRITABLE"]` for KFD_IOC_ALLOC_MEM_FLAGS; shared/design.md).
 */

import { splitFlagWord } from './flag-word.js';

type Family = Readonly<Record<string, number>>;

function shortName(prefix: string, name: string): string {
  return prefix !== '' && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** ORs the named flags of `family` (names with or without `prefix`) into an unsigned word; unknown name → RangeError (kfd_ioctl.h flag families). */
export function flagsFromNames(family: Family, prefix: string, names: readonly string[]): number {
  let word = 0;
  for (const name of names) {
    const key = shortName(prefix, name);
    if (!Object.hasOwn(family, key)) {
      throw new RangeError(
        `unknown flag '${name}' (expected one of ${prefix}${Object.keys(family).join(`, ${prefix}`)})`,
      );
    }
    word |= family[key]!;
  }
  return word >>> 0;
}

/**
 * Names (without prefix) of the flags set in `value`, in ascending bit order;
 * bits no family member covers come last as one hex entry such as `'0x100'`
 * (kfd_ioctl.h flag families, whose members are single bits: the split is
 * splitFlagWord's, the same as the log writer's).
 */
export function flagNames(family: Family, value: number): string[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new RangeError(`flag word ${value} is not a 32-bit integer`);
  }
  const { names, rest } = splitFlagWord(family, value);
  return rest === 0 ? names : [...names, `0x${rest.toString(16)}`];
}

/** Value of an enum member given by name (with or without `prefix`) or number; unknown → RangeError (kfd_ioctl.h enums). */
export function enumValue(family: Family, prefix: string, nameOrValue: string | number): number {
  if (typeof nameOrValue === 'number') {
    if (!Object.values(family).includes(nameOrValue)) {
      throw new RangeError(`value ${nameOrValue} is not a member of ${prefix || 'the enum'}*`);
    }
    return nameOrValue;
  }
  const key = shortName(prefix, nameOrValue);
  if (!Object.hasOwn(family, key)) throw new RangeError(`unknown enum name '${nameOrValue}' (${prefix}*)`);
  return family[key]!;
}

/** Name (without prefix) of the first enum member with `value`, or undefined (kfd_ioctl.h enums). */
export function enumName(family: Family, value: number): string | undefined {
  return Object.entries(family).find(([, v]) => v === value)?.[0];
}
