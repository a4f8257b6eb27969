/**
 * C layout (x86-64 SysV ABI, LP64, natural alignment) of the structs and unions
 * of the DRM uapi headers (`include/uapi/drm/drm.h`, `drm_mode.h`,
 * `amdgpu_drm.h`), computed from field lists rather than typed in. Unlike the
 * KFD structs these use plain C types (`int`, `unsigned long`, pointers, enums),
 * top-level unions, named nested aggregates and multi-dimensional arrays.
 *
 * Items that the CI header (libdrm-dev 2.4.114) lacks carry `newer`: where
 * their numbers come from and, when the source says, the first kernel release.
 */

/** Scalar C types of the DRM uapi headers with their x86-64 sizes (include/uapi/drm/drm.h, asm-generic/int-ll64.h). */
export const DRM_SCALAR_SIZE = {
  u8: 1,
  s8: 1,
  u16: 2,
  s16: 2,
  u32: 4,
  s32: 4,
  u64: 8,
  s64: 8,
  char: 1,
  uchar: 1,
  short: 2,
  ushort: 2,
  int: 4,
  uint: 4,
  long: 8,
  ulong: 8,
  ulonglong: 8,
  /** `__kernel_size_t` */
  size_t: 8,
  /** any `T *` */
  ptr: 8,
  /** any `enum` (an `int` on x86-64) */
  enum: 4,
} as const;

/** A scalar C type of the DRM uapi headers: `u32` is `__u32`, `uint` is `unsigned int` … (include/uapi/drm/drm.h). */
export type DrmScalar = keyof typeof DRM_SCALAR_SIZE;

/** Provenance of a catalogue item that the CI header (libdrm-dev 2.4.114) does not have (spec §8). */
export interface UapiNewer {
  /** Where the numbers come from: a spec section or a mailing-list patch. */
  source: string;
  /** First Linux release that has the item, when the source says so (e.g. `'6.18'`). */
  sinceKernel?: string;
  /** Posted on a mailing list but never merged: in no kernel. */
  proposal?: true;
}

/** Per-field options of a field spec (include/uapi/drm/*.h). */
export interface DrmFieldOpts {
  newer?: UapiNewer;
}

/** Type of a leaf field: a scalar, or a tagged aggregate (`'struct drm_event'`, `'union drm_amdgpu_ctx_out'`; include/uapi/drm/*.h). */
export type DrmFieldType = DrmScalar | `struct ${string}` | `union ${string}`;

/**
 * A field spec of a DRM uapi aggregate: a leaf `[name, type, dims?, opts?]`
 * (dims: array length or lengths, `[4, 4]` for `x[4][4]`, 0 for a flexible
 * array), or a nested struct/union; a nested aggregate without `name` is a C11
 * anonymous member whose fields belong to the enclosing aggregate (include/uapi/drm/*.h).
 */
export type DrmFieldSpec =
  | readonly [name: string, type: DrmFieldType, dims?: number | readonly number[], opts?: DrmFieldOpts]
  | {
      readonly kind: 'struct' | 'union';
      readonly fields: readonly DrmFieldSpec[];
      readonly name?: string;
      readonly dims?: number;
      readonly newer?: UapiNewer;
    };

/** One field of a DRM aggregate layout (offsets as `offsetof` on x86-64; include/uapi/drm/*.h). */
export interface DrmFieldLayout {
  /**
   * Member designator as `offsetof` takes it: `handle`; `in.bo_size` for a
   * member of a named nested anonymous aggregate; `data[0].value` for element 0
   * of an array of anonymous structs.
   */
  name: string;
  offset: number;
  size: number;
  type: DrmScalar | 'array' | 'struct' | 'union';
  /** Array dimensions (`[4, 4]`); `[0]` for a flexible array member. */
  dims?: number[];
  /** Element type of an array (scalar or `struct tag`), or the tag of a struct/union field (absent if anonymous). */
  elem?: string;
  /** Shares its offset with siblings: member of a union (directly or through anonymous members). */
  inUnion?: boolean;
  newer?: UapiNewer;
}

/** Layout of one struct or union: `sizeof`, `_Alignof` and every (nested) field (include/uapi/drm/*.h). */
export interface DrmStructLayout {
  name: string;
  kind: 'struct' | 'union';
  size: number;
  align: number;
  fields: DrmFieldLayout[];
  newer?: UapiNewer;
}

/** Spec of one top-level aggregate of a DRM uapi header (include/uapi/drm/*.h). */
export interface DrmStructSpec {
  kind: 'struct' | 'union';
  fields: readonly DrmFieldSpec[];
  newer?: UapiNewer;
}

/** Decides whether a field (by path and provenance) is part of the layout, e.g. for an older include/uapi/drm/*.h. */
export type DrmFieldFilter = (path: string, newer: UapiNewer | undefined) => boolean;

interface Placed {
  fields: DrmFieldLayout[];
  size: number;
  align: number;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);

function leafType(
  type: DrmFieldType,
  lookup: (tag: string) => DrmStructLayout | undefined,
): { size: number; align: number; kind: DrmScalar | 'struct' | 'union'; tag?: string } {
  if (Object.hasOwn(DRM_SCALAR_SIZE, type)) {
    const s = DRM_SCALAR_SIZE[type as DrmScalar];
    return { size: s, align: s, kind: type as DrmScalar };
  }
  const m = /^(struct|union) (\w+)$/.exec(type);
  const layout = m?.[2] === undefined ? undefined : lookup(m[2]);
  if (!m || !layout) throw new Error(`unknown field type '${type}'`);
  if (layout.kind !== m[1]) throw new Error(`'${type}' is a ${layout.kind}`);
  return { size: layout.size, align: layout.align, kind: layout.kind, tag: m[2] };
}

function placeMember(
  spec: DrmFieldSpec,
  path: string,
  inUnion: boolean,
  lookup: (tag: string) => DrmStructLayout | undefined,
  keep: DrmFieldFilter,
): Placed | undefined {
  if (!Array.isArray(spec)) {
    const agg = spec as Exclude<DrmFieldSpec, readonly unknown[]>;
    const own = agg.name === undefined ? undefined : path + agg.name;
    if (own !== undefined && !keep(own, agg.newer)) return undefined;
    const dims = agg.dims === undefined ? [] : [agg.dims];
    const prefix = own === undefined ? path : `${own}${dims.map(() => '[0]').join('')}.`;
    const inner = placeAll(agg.kind, agg.fields, prefix, own === undefined ? inUnion : false, lookup, keep);
    if (own === undefined) {
      // Anonymous member: its fields are the enclosing aggregate's.
      return { fields: inner.fields, size: inner.size, align: inner.align };
    }
    const field: DrmFieldLayout = { name: own, offset: 0, size: inner.size * product(dims), type: agg.kind };
    if (dims.length > 0) {
      field.type = 'array';
      field.dims = dims;
      field.elem = `(anonymous ${agg.kind})`;
    }
    if (inUnion) field.inUnion = true;
    if (agg.newer) field.newer = agg.newer;
    return { fields: [field, ...inner.fields], size: field.size, align: inner.align };
  }
  const [name, type, dimSpec, opts] = spec as Extract<DrmFieldSpec, readonly unknown[]>;
  const full = path + name;
  if (!keep(full, opts?.newer)) return undefined;
  const t = leafType(type, lookup);
  const dims = dimSpec === undefined ? [] : typeof dimSpec === 'number' ? [dimSpec] : [...dimSpec];
  const field: DrmFieldLayout = { name: full, offset: 0, size: t.size * product(dims), type: t.kind };
  if (dims.length > 0) {
    field.type = 'array';
    field.dims = dims;
    field.elem = t.tag === undefined ? t.kind : `${t.kind} ${t.tag}`;
  } else if (t.tag !== undefined) field.elem = t.tag;
  if (inUnion) field.inUnion = true;
  if (opts?.newer) field.newer = opts.newer;
  return { fields: [field], size: field.size, align: t.align };
}

function placeAll(
  kind: 'struct' | 'union',
  specs: readonly DrmFieldSpec[],
  path: string,
  inUnion: boolean,
  lookup: (tag: string) => DrmStructLayout | undefined,
  keep: DrmFieldFilter,
): Placed {
  let offset = 0;
  let size = 0;
  let align = 1;
  const fields: DrmFieldLayout[] = [];
  for (const spec of specs) {
    const placed = placeMember(spec, path, inUnion || kind === 'union', lookup, keep);
    if (!placed) continue;
    const at = kind === 'union' ? 0 : alignUp(offset, placed.align);
    fields.push(...placed.fields.map((f) => ({ ...f, offset: f.offset + at })));
    offset = at + placed.size;
    size = Math.max(size, offset);
    align = Math.max(align, placed.align);
  }
  return { fields, size: alignUp(size, align), align };
}

/**
 * Lays out a DRM uapi struct or union as gcc does on x86-64: members at their
 * natural alignment (all at 0 in a union), size rounded up to the largest
 * alignment, nested named aggregates listed with their members (`in.handle`).
 * `keep` drops fields (e.g. those an older header lacks). Throws for an unknown
 * type (include/uapi/drm/drm.h, drm_mode.h, amdgpu_drm.h).
 */
export function layoutDrmStruct(
  name: string,
  spec: DrmStructSpec,
  lookup: (tag: string) => DrmStructLayout | undefined = () => undefined,
  keep: DrmFieldFilter = () => true,
): DrmStructLayout {
  const placed = placeAll(spec.kind, spec.fields, '', false, lookup, keep);
  const layout: DrmStructLayout = {
    name,
    kind: spec.kind,
    size: placed.size,
    align: placed.align,
    fields: placed.fields,
  };
  if (spec.newer) layout.newer = spec.newer;
  return layout;
}

/**
 * Lays out every aggregate of `specs` (in dependency order; `external` resolves
 * tags of other headers) with `keep` applied (include/uapi/drm/*.h).
 */
export function layoutDrmStructs(
  specs: Readonly<Record<string, DrmStructSpec>>,
  keep: DrmFieldFilter = () => true,
  external: (tag: string) => DrmStructLayout | undefined = () => undefined,
): Record<string, DrmStructLayout> {
  const out: Record<string, DrmStructLayout> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (!keep(name, spec.newer)) continue;
    out[name] = layoutDrmStruct(name, spec, (tag) => out[tag] ?? external(tag), keep);
  }
  return out;
}

/** Keeps only what is upstream (drops proposal-only items; include/uapi/drm/*.h). */
export const UPSTREAM_ONLY: DrmFieldFilter = (_path, newer) => newer?.proposal !== true;

/** Keeps only what the CI header (libdrm-dev 2.4.114) has: drops every item marked `newer` (include/uapi/drm/*.h). */
export const BASELINE_ONLY: DrmFieldFilter = (_path, newer) => newer === undefined;

/** Compares kernel releases numerically ('6.9' < '6.18'), for `UapiNewer.sinceKernel` of include/uapi/drm/*.h items. */
export function compareKernelVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (Number.isNaN(d)) throw new RangeError(`'${a}' or '${b}' is not a kernel release`);
    if (d !== 0) return d;
  }
  return 0;
}
