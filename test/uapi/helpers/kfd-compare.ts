/**
 * Compares a probed kfd_ioctl.h (see c-probe.ts) with gpucr's catalogue and
 * returns every mismatch as a readable line.
 */
import {
  type FieldLayout,
  iocDecode,
  KFD_CONSTANT_SINCE,
  KFD_CONSTANTS,
  KFD_IOCTL_MINOR_VERSION,
  KFD_IOCTL_VERSION_HISTORY,
  KFD_STRUCTS,
  kfdCommandEnd,
  kfdIoctlByName,
  kfdIoctlRequest,
  kfdStructAt,
  type StructLayout,
} from '../../../src/uapi/index.js';
import type { HeaderMember } from './c-header.js';
import type { HeaderProbe } from './c-probe.js';

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** The header's own KFD_IOCTL_MINOR_VERSION. */
export function headerMinor(probe: HeaderProbe): number {
  const c = probe.constants.get('KFD_IOCTL_MINOR_VERSION');
  if (!c) throw new Error(`${probe.path} defines no KFD_IOCTL_MINOR_VERSION`);
  return Number(c.value);
}

const isNewer = (since: number | undefined, minor: number): boolean => since !== undefined && since > minor;

/** Mismatches between the header's constants and KFD_CONSTANTS (version-dependent ones at the header's minor). */
export function compareConstants(probe: HeaderProbe): string[] {
  const minor = headerMinor(probe);
  const bad: string[] = [];
  for (const [name, c] of probe.constants) {
    const cat = KFD_CONSTANTS[name];
    if (cat === undefined) {
      bad.push(`${name}: in the header (${hex(c.value)}) but not in KFD_CONSTANTS`);
      continue;
    }
    if (isNewer(KFD_CONSTANT_SINCE[name], minor)) {
      bad.push(`${name}: catalogue says since 1.${KFD_CONSTANT_SINCE[name]}, but the 1.${minor} header has it`);
    }
    if (name === 'KFD_IOCTL_MINOR_VERSION') {
      if (minor > KFD_IOCTL_MINOR_VERSION) bad.push(`header minor ${minor} > modelled ${KFD_IOCTL_MINOR_VERSION}`);
      if (KFD_IOCTL_VERSION_HISTORY[minor] === undefined) bad.push(`header minor ${minor} not in the history table`);
      continue;
    }
    if (name === 'AMDKFD_COMMAND_END') {
      const want = kfdCommandEnd(minor);
      if (BigInt(want) !== c.value) bad.push(`${name}: header ${hex(c.value)}, kfdCommandEnd(${minor}) ${hex(want)}`);
      continue;
    }
    if (name.startsWith('AMDKFD_IOC_') && kfdIoctlByName(name)) {
      const atMinor = kfdIoctlRequest(name, minor);
      if (BigInt(atMinor) !== c.value) {
        bad.push(`${name}: header ${hex(c.value)}, kfdIoctlRequest(1.${minor}) ${hex(atMinor)}`);
      }
      if (BigInt(cat) !== c.value) {
        // Allowed only when the argument struct grew after the header's version.
        const [h, m] = [iocDecode(Number(c.value)), iocDecode(Number(cat))];
        const struct = kfdIoctlByName(name)?.struct;
        const grew = struct != null && KFD_STRUCTS[struct]?.fields.some((f) => isNewer(f.sinceMinor, minor));
        if (!grew || h.dir !== m.dir || h.type !== m.type || h.nr !== m.nr) {
          bad.push(`${name}: header ${hex(c.value)}, catalogue ${hex(cat)} (and the struct did not grow)`);
        }
      }
      continue;
    }
    if (BigInt(cat) !== c.value) bad.push(`${name}: header ${hex(c.value)}, catalogue ${hex(cat)}`);
  }
  return bad;
}

const SCALARS: Record<string, FieldLayout['type']> = {
  __u8: 'u8',
  __u16: 'u16',
  __u32: 'u32',
  __u64: 'u64',
  __s32: 's32',
  __s64: 's64',
  uint32_t: 'u32',
  uint64_t: 'u64',
};

/** Catalogue field that corresponds to header field `name` at `minor` (follows renames). */
export function catalogueField(layout: StructLayout, name: string, minor: number): FieldLayout | undefined {
  return layout.fields.find((f) => f.name === name || (f.renamed?.from === name && f.renamed.sinceMinor > minor));
}

function fieldKindMismatch(s: string, hf: HeaderMember, f: FieldLayout): string | undefined {
  const struct = /^struct (\w+)$/.exec(hf.ctype)?.[1];
  const array = hf.dims.length > 0;
  const want = array ? 'array' : struct ? 'struct' : SCALARS[hf.ctype];
  if (want !== f.type) return `${s}.${hf.path}: header type ${hf.ctype}${array ? '[]' : ''}, catalogue ${f.type}`;
  const elem = struct ?? SCALARS[hf.ctype];
  if (array && f.elem !== elem) return `${s}.${hf.path}: element ${elem}, catalogue ${f.elem}`;
  if (!array && struct && f.elem !== struct) return `${s}.${hf.path}: struct ${struct}, catalogue ${f.elem}`;
  return undefined;
}

/** Mismatches between the header's structs and KFD_STRUCTS (sizes, offsets, member sizes and kinds). */
export function compareStructs(probe: HeaderProbe): string[] {
  const minor = headerMinor(probe);
  const bad: string[] = [];
  for (const hs of probe.parsed.aggregates) {
    const probed = probe.structs.get(hs.name)!;
    const cat = KFD_STRUCTS[hs.name];
    if (!cat) {
      bad.push(`struct ${hs.name}: in the header but not in KFD_STRUCTS`);
      continue;
    }
    if (isNewer(cat.sinceMinor, minor)) bad.push(`struct ${hs.name}: catalogue says since 1.${cat.sinceMinor}`);
    for (const hf of hs.members) {
      const pf = probed.fields.get(hf.path)!;
      const f = catalogueField(cat, hf.path, minor);
      if (!f) {
        bad.push(`${hs.name}.${hf.path}: in the header but not in the catalogue`);
        continue;
      }
      if (isNewer(f.sinceMinor, minor)) bad.push(`${hs.name}.${hf.path}: catalogue says since 1.${f.sinceMinor}`);
      if (f.offset !== pf.offset) bad.push(`${hs.name}.${hf.path}: offset ${pf.offset}, catalogue ${f.offset}`);
      const size = Math.max(0, pf.size); // -1: flexible array member
      if (f.size !== size) bad.push(`${hs.name}.${hf.path}: size ${size}, catalogue ${f.size}`);
      if (pf.size < 0 && f.count !== 0) bad.push(`${hs.name}.${hf.path}: flexible array, catalogue count ${f.count}`);
      const kind = fieldKindMismatch(hs.name, hf, f);
      if (kind) bad.push(kind);
    }
    const grown = cat.fields.some((f) => isNewer(f.sinceMinor, minor));
    if (!grown && cat.size !== probed.size) bad.push(`struct ${hs.name}: sizeof ${probed.size}, catalogue ${cat.size}`);
    if (cat.align !== probed.align) bad.push(`struct ${hs.name}: _Alignof ${probed.align}, catalogue ${cat.align}`);
    const old = kfdStructAt(hs.name, minor);
    if (old?.size !== probed.size)
      bad.push(`struct ${hs.name}: sizeof ${probed.size}, kfdStructAt(1.${minor}) ${old?.size}`);
    for (const f of old?.fields ?? []) {
      const pf = probed.fields.get(f.name);
      if (pf?.offset !== f.offset)
        bad.push(`${hs.name}.${f.name}: kfdStructAt(1.${minor}) offset ${f.offset}, header ${pf?.offset}`);
    }
  }
  return bad;
}

/** What the catalogue marks newer than the header vs what the header lacks (both sorted). */
export function newerVsMissing(probe: HeaderProbe): { newer: string[]; missing: string[] } {
  const minor = headerMinor(probe);
  const newer: string[] = [];
  const missing: string[] = [];
  for (const name of Object.keys(KFD_CONSTANTS)) {
    if (isNewer(KFD_CONSTANT_SINCE[name], minor)) newer.push(name);
    if (!probe.constants.has(name)) missing.push(name);
  }
  const headerStructs = new Map(probe.parsed.aggregates.map((s) => [s.name, s]));
  for (const [name, layout] of Object.entries(KFD_STRUCTS)) {
    if (isNewer(layout.sinceMinor, minor)) newer.push(`struct ${name}`);
    const hs = headerStructs.get(name);
    if (!hs) {
      missing.push(`struct ${name}`);
      continue;
    }
    for (const f of layout.fields) {
      const label = `${name}.${f.name}`;
      if (isNewer(f.sinceMinor, minor)) newer.push(label);
      if (isNewer(f.renamed?.sinceMinor, minor)) newer.push(`${label} (renamed from ${f.renamed?.from})`);
      if (!hs.members.some((hf) => hf.path === f.name)) {
        const old = hs.members.some((hf) => hf.path === f.renamed?.from);
        missing.push(old ? `${label} (renamed from ${f.renamed?.from})` : label);
      }
    }
  }
  return { newer: newer.sort(), missing: missing.sort() };
}
