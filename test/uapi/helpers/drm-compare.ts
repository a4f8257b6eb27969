/**
 * Compares probed DRM uapi headers (drm-probe.ts) with gpucr's DRM/amdgpu
 * catalogue and returns every mismatch as a readable line. The catalogue is
 * passed in as a `DrmCatalogueView`, so a test can also feed it a tampered copy
 * and check that the comparison notices.
 *
 * Items the catalogue marks `newer` (spec §8) may be absent from the header;
 * when a header has them they are compared like everything else. Layouts are
 * compared with the catalogue's field list restricted to the fields the header
 * has, so a struct that grew later (GEM_OP, GEM_VA) is checked at the header's
 * size, and its request number at the header's size too.
 */
import {
  _IOC_NR,
  type DrmConstFamily,
  type DrmFieldLayout,
  type DrmIoctl,
  drmRequest,
  type DrmStructLayout,
  type DrmStructSpec,
  layoutDrmStruct,
  type UapiNewer,
} from '../../../src/uapi/index.js';
import type { HeaderMember } from './c-header.js';
import type { DrmHeaderProbe } from './drm-probe.js';

/** What of the catalogue one header is compared with. */
export interface DrmCatalogueView {
  /** Every numeric macro/enumerator the catalogue has for this header, by full C name. */
  constants: Readonly<Record<string, number>>;
  /** Catalogue names the CI header lacks (source of their numbers). */
  newer: Readonly<Record<string, UapiNewer>>;
  /** String macros (`DRM_NAME`). */
  strings: Readonly<Record<string, string>>;
  /** Constant families, to check which names are enumerators of which enum. */
  families: readonly DrmConstFamily[];
  /** The header's ioctl macros. */
  ioctls: readonly DrmIoctl[];
  /** The header's structs and unions: field lists, and their newest layouts. */
  specs: Readonly<Record<string, DrmStructSpec>>;
  structs: Readonly<Record<string, DrmStructLayout>>;
  /** Only compare the listed constants/aggregates (drm_mode.h: the ioctl argument structs); others are reported as skipped. */
  partial?: boolean;
}

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** Catalogue value as the probe prints it: unsigned, reduced to the constant's size. */
const unsignedView = (v: number, size: number): bigint => BigInt.asUintN(8 * size, BigInt(v));

const SCALARS: Record<string, string> = {
  __u8: 'u8',
  __s8: 's8',
  __u16: 'u16',
  __s16: 's16',
  __u32: 'u32',
  __s32: 's32',
  __u64: 'u64',
  __s64: 's64',
  char: 'char',
  'unsigned char': 'uchar',
  short: 'short',
  'unsigned short': 'ushort',
  int: 'int',
  'unsigned int': 'uint',
  long: 'long',
  'unsigned long': 'ulong',
  'unsigned long long': 'ulonglong',
  __kernel_size_t: 'size_t',
  pointer: 'ptr',
  enum: 'enum',
};

/** The catalogue type (`u32`, `ptr`, `struct drm_event` …) a header member's C type corresponds to. */
export function catalogueTypeOf(ctype: string): string | undefined {
  const agg = /^\((anonymous) (struct|union)\)$/.exec(ctype);
  if (agg) return agg[2];
  if (/^(struct|union) \w+$/.test(ctype)) return ctype;
  return SCALARS[ctype];
}

/** Which enum (tag, '' if anonymous) or `'define'` each constant name of the header is. */
function headerKinds(probe: DrmHeaderProbe): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const d of probe.parsed.defines) kinds.set(d.name, 'define');
  for (const e of probe.parsed.enums) for (const n of e.names) kinds.set(n, e.tag);
  return kinds;
}

/** The family (hence #define or enum tag) the catalogue files a full name under. */
function catalogueKinds(view: DrmCatalogueView): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const f of view.families) for (const k of Object.keys(f.values)) kinds.set(f.prefix + k, f.enumTag);
  for (const i of view.ioctls) kinds.set(i.name, 'define');
  return kinds;
}

/** Lays out catalogue aggregates restricted to the members a probed header has (memoised per probe). */
export class HeaderLayouts {
  private readonly memo = new Map<string, DrmStructLayout>();
  constructor(
    private readonly probe: DrmHeaderProbe,
    private readonly specs: Readonly<Record<string, DrmStructSpec>>,
    private readonly external: (tag: string) => DrmStructLayout | undefined = () => undefined,
  ) {}

  /** Member paths of aggregate `tag` in the header, or undefined if the header has no such aggregate. */
  members(tag: string): Set<string> | undefined {
    const agg = this.probe.parsed.aggregates.find((a) => a.name === tag);
    return agg && new Set(agg.members.map((m: HeaderMember) => m.path));
  }

  /** Catalogue layout of `tag` with only the fields the header has. */
  at(tag: string): DrmStructLayout | undefined {
    const cached = this.memo.get(tag);
    if (cached) return cached;
    const spec = this.specs[tag];
    if (!spec) return this.external(tag);
    const members = this.members(tag);
    if (!members) return undefined;
    const layout = layoutDrmStruct(
      tag,
      spec,
      (t) => this.at(t),
      (path) => members.has(path),
    );
    this.memo.set(tag, layout);
    return layout;
  }
}

/** Parses `DRM_IOWR(nr-expr, struct x)` / `DRM_IO(nr)` of a request macro body. */
export function parseRequestMacro(
  body: string,
): { dir: DrmIoctl['dir']; nrExpr: string; arg: string | null } | undefined {
  const m = /^DRM_IO(R|W|WR)?\s*\(\s*([^,()]+?)\s*(?:,\s*([^()]+?)\s*)?\)$/.exec(body.trim());
  if (!m) return undefined;
  const dir = m[1] === undefined ? 'none' : m[1] === 'R' ? 'r' : m[1] === 'W' ? 'w' : 'rw';
  return { dir, nrExpr: m[2]!, arg: m[3]?.replace(/\s+/g, ' ') ?? null };
}

function compareIoctl(
  probe: DrmHeaderProbe,
  entry: DrmIoctl,
  value: bigint,
  argLayout: (tag: string) => DrmStructLayout | undefined,
  bad: string[],
): void {
  const body = probe.parsed.defines.find((d) => d.name === entry.name)?.body ?? '';
  const macro = parseRequestMacro(body);
  if (!macro) {
    bad.push(`${entry.name}: cannot parse '${body}'`);
    return;
  }
  if (macro.dir !== entry.dir) bad.push(`${entry.name}: header direction ${macro.dir}, catalogue ${entry.dir}`);
  if (macro.arg !== entry.arg) bad.push(`${entry.name}: header argument '${macro.arg}', catalogue '${entry.arg}'`);
  if (entry.command !== undefined) {
    const cmd = /^DRM_COMMAND_BASE \+ (\w+)$/.exec(macro.nrExpr.replace(/\s+/g, ' '))?.[1];
    const short = entry.name.replace(/^DRM_IOCTL_/, 'DRM_');
    if (cmd !== short) bad.push(`${entry.name}: header number '${macro.nrExpr}', expected DRM_COMMAND_BASE + ${short}`);
  }
  if (_IOC_NR(Number(value)) !== entry.nr)
    bad.push(`${entry.name}: header nr ${hex(_IOC_NR(Number(value)))}, catalogue ${hex(entry.nr)}`);
  let size = 0;
  if (entry.struct !== null) {
    const layout = argLayout(entry.struct);
    if (!layout) {
      bad.push(`${entry.name}: no layout of ${entry.arg} for this header`);
      return;
    }
    size = layout.size;
  } else if (entry.arg !== null) size = entry.argSize;
  const atHeader = drmRequest(entry.dir, entry.nr, size);
  if (BigInt(atHeader) !== value) {
    bad.push(`${entry.name}: header ${hex(value)}, catalogue at the header's layout ${hex(atHeader)}`);
  }
  if (BigInt(entry.request) !== value) {
    // Allowed only when the argument grew after this header (fields marked newer).
    const grew = size !== entry.argSize;
    if (!grew || (entry.request & ~(0x3fff << 16)) !== (atHeader & ~(0x3fff << 16))) {
      bad.push(`${entry.name}: header ${hex(value)}, catalogue ${hex(entry.request)} (and the argument did not grow)`);
    }
  }
}

/** Result of comparing one header's constants. */
export interface ConstantComparison {
  mismatches: string[];
  /** Numbers of header names compared (numeric + string). */
  compared: number;
  /** Header names not compared because the view is partial. */
  skipped: string[];
}

/** Compares every constant and request macro of the header with the catalogue view. */
export function compareDrmConstants(
  probe: DrmHeaderProbe,
  view: DrmCatalogueView,
  argLayout: (tag: string) => DrmStructLayout | undefined,
): ConstantComparison {
  const bad: string[] = [];
  const skipped: string[] = [];
  let compared = 0;
  const hKinds = headerKinds(probe);
  const cKinds = catalogueKinds(view);
  const ioctls = new Map(view.ioctls.map((i) => [i.name, i]));
  for (const [name, c] of probe.constants) {
    const cat = view.constants[name];
    if (cat === undefined) {
      if (view.partial) skipped.push(name);
      else bad.push(`${name}: in the header (${hex(c.value)}) but not in the catalogue`);
      continue;
    }
    compared++;
    // Names filed in no family (DRM_IOCTL_BASE, DRM_COMMAND_BASE …) are stand-alone #defines.
    const cKind = cKinds.get(name) ?? 'define';
    if (hKinds.get(name) !== cKind) {
      bad.push(
        `${name}: header ${hKinds.get(name) === 'define' ? '#define' : `enum '${hKinds.get(name)}'`}, catalogue ${cKind === 'define' ? '#define' : `enum '${cKind}'`}`,
      );
    }
    const ioctl = ioctls.get(name);
    if (ioctl) {
      compareIoctl(probe, ioctl, c.value, argLayout, bad);
      continue;
    }
    if (unsignedView(cat, c.size) !== c.value) bad.push(`${name}: header ${hex(c.value)}, catalogue ${hex(cat)}`);
    else if (cat < 0 && !c.negative) bad.push(`${name}: catalogue ${cat} is negative, the header's value is not`);
  }
  for (const [name, s] of probe.strings) {
    const cat = view.strings[name];
    if (cat === undefined) {
      if (view.partial) skipped.push(name);
      else bad.push(`${name}: string "${s}" in the header but not in the catalogue`);
      continue;
    }
    compared++;
    if (cat !== s) bad.push(`${name}: header "${s}", catalogue "${cat}"`);
  }
  return { mismatches: bad, compared, skipped };
}

function fieldKindMismatch(s: string, m: HeaderMember, f: DrmFieldLayout): string | undefined {
  const want = catalogueTypeOf(m.ctype);
  if (want === undefined) return `${s}.${m.path}: unknown C type '${m.ctype}'`;
  const label = `${s}.${m.path}`;
  if (m.dims.length > 0) {
    if (f.type !== 'array') return `${label}: header array of ${m.ctype}, catalogue ${f.type}`;
    if (f.dims?.length !== m.dims.length) return `${label}: header dims [${m.dims}], catalogue [${f.dims}]`;
    for (const [i, d] of m.dims.entries()) {
      const lit = /^(0x[0-9a-f]+|\d+)$/i.test(d) ? Number(d) : d === '' ? 0 : undefined;
      if (lit !== undefined && f.dims[i] !== lit) return `${label}: header dims [${m.dims}], catalogue [${f.dims}]`;
    }
    const elem = want === 'struct' || want === 'union' ? `(anonymous ${want})` : want;
    if (f.elem !== elem) return `${label}: element ${elem}, catalogue ${f.elem}`;
    return undefined;
  }
  const tagged = /^(struct|union) (\w+)$/.exec(want);
  if (tagged) {
    if (f.type !== tagged[1] || f.elem !== tagged[2]) return `${label}: header ${want}, catalogue ${f.type} ${f.elem}`;
    return undefined;
  }
  if (want === 'struct' || want === 'union') {
    if (f.type !== want || f.elem !== undefined)
      return `${label}: header anonymous ${want}, catalogue ${f.type} ${f.elem ?? ''}`;
    return undefined;
  }
  if (f.type !== want) return `${label}: header ${m.ctype}, catalogue ${f.type}`;
  return undefined;
}

/** Result of comparing one header's aggregates. */
export interface AggregateComparison {
  mismatches: string[];
  /** Aggregates and members compared. */
  aggregates: number;
  members: number;
  /** Header aggregates not compared because the view is partial. */
  skipped: string[];
}

/** Compares every struct and union of the header (sizeof, _Alignof, every member's offset, size and kind). */
export function compareDrmAggregates(
  probe: DrmHeaderProbe,
  view: DrmCatalogueView,
  layouts: HeaderLayouts,
): AggregateComparison {
  const bad: string[] = [];
  const skipped: string[] = [];
  let aggregates = 0;
  let members = 0;
  for (const ha of probe.parsed.aggregates) {
    const spec = view.specs[ha.name];
    if (!spec) {
      if (view.partial) skipped.push(`${ha.kind} ${ha.name}`);
      else bad.push(`${ha.kind} ${ha.name}: in the header but not in the catalogue`);
      continue;
    }
    aggregates++;
    const probed = probe.aggregates.get(ha.name)!;
    if (spec.kind !== ha.kind) bad.push(`${ha.name}: header ${ha.kind}, catalogue ${spec.kind}`);
    const full = view.structs[ha.name]!;
    const have = new Set(ha.members.map((m) => m.path));
    for (const f of full.fields) {
      if (!have.has(f.name) && f.newer === undefined)
        bad.push(`${ha.name}.${f.name}: in the catalogue, not in the header, not marked newer`);
    }
    const at = layouts.at(ha.name)!;
    if (at.size !== probed.size) bad.push(`${ha.kind} ${ha.name}: sizeof ${probed.size}, catalogue ${at.size}`);
    if (at.align !== probed.align) bad.push(`${ha.kind} ${ha.name}: _Alignof ${probed.align}, catalogue ${at.align}`);
    for (const m of ha.members) {
      members++;
      const pm = probed.members.get(m.path)!;
      const f = at.fields.find((x) => x.name === m.path);
      if (!f) {
        bad.push(`${ha.name}.${m.path}: in the header but not in the catalogue`);
        continue;
      }
      if (f.offset !== pm.offset) bad.push(`${ha.name}.${m.path}: offset ${pm.offset}, catalogue ${f.offset}`);
      const size = Math.max(0, pm.size); // -1: flexible array member
      if (f.size !== size) bad.push(`${ha.name}.${m.path}: size ${size}, catalogue ${f.size}`);
      if ((f.inUnion ?? false) !== m.inUnion)
        bad.push(`${ha.name}.${m.path}: inUnion ${m.inUnion}, catalogue ${f.inUnion ?? false}`);
      const kind = fieldKindMismatch(ha.name, m, f);
      if (kind) bad.push(kind);
    }
  }
  const inHeader = new Set(probe.parsed.aggregates.map((a) => a.name));
  for (const [name, spec] of Object.entries(view.specs)) {
    if (!inHeader.has(name) && spec.newer === undefined)
      bad.push(`${spec.kind} ${name}: in the catalogue, not in the header, not marked newer`);
  }
  return { mismatches: bad, aggregates, members, skipped };
}

/** Catalogue items the header lacks (all must be marked newer) and items marked newer that the header has anyway. */
export function drmNewerVsMissing(
  probe: DrmHeaderProbe,
  view: DrmCatalogueView,
): { missing: string[]; unmarked: string[]; presentAnyway: string[] } {
  const missing: string[] = [];
  const unmarked: string[] = [];
  const presentAnyway: string[] = [];
  for (const name of [...Object.keys(view.constants), ...Object.keys(view.strings)]) {
    const has = probe.constants.has(name) || probe.strings.has(name);
    if (!has) (view.newer[name] ? missing : unmarked).push(name);
    else if (view.newer[name]) presentAnyway.push(name);
  }
  for (const [name, spec] of Object.entries(view.specs)) {
    const agg = probe.parsed.aggregates.find((a) => a.name === name);
    if (!agg) {
      (spec.newer ? missing : unmarked).push(`${spec.kind} ${name}`);
      continue;
    }
    if (spec.newer) presentAnyway.push(`${spec.kind} ${name}`);
    const have = new Set(agg.members.map((m) => m.path));
    for (const f of view.structs[name]?.fields ?? []) {
      if (!have.has(f.name)) (f.newer ? missing : unmarked).push(`${name}.${f.name}`);
      else if (f.newer) presentAnyway.push(`${name}.${f.name}`);
    }
  }
  return { missing: missing.sort(), unmarked: unmarked.sort(), presentAnyway: presentAnyway.sort() };
}
