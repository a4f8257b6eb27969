/**
 * Human-readable and JSON renderings of an image directory (`gpucr images`, docs/criu-images.md):
 * u64 values and ids in hex, flag words as names, priv_data decoded record by record.
 */
import { flagNames } from '../../uapi/kfd-flags.js';
import { KFD_IOC_ALLOC_MEM_FLAGS } from '../../uapi/index.js';
import type { ObjectPriv, PrivData } from '../kfd-priv-layout.js';
import type { ImageDir } from './dir.js';
import { kfdBoHasPages } from './dir.js';
import { type FileHolders, restoreNotes } from './restore-notes.js';
import { decodeKfdPriv, type KfdImageOptions } from './messages.js';
import {
  AMDGPU_GEM_CREATE,
  AMDGPU_GEM_DOMAIN,
  AMDGPU_VM_PAGE,
  type CriuKfd,
  type CriuRenderNode,
  dmabufImageName,
  drmPagesImageName,
  hex,
  kfdImageName,
  kfdPagesImageName,
  NO_GEM_HANDLE,
  type PageContent,
  renderDImageName,
  TOPO_IOLINK_TYPE,
} from './types.js';

type Family = Readonly<Record<string, number>>;

function flags(family: Family, v: number): string {
  return v === 0 ? '0' : flagNames(family, v).join('|');
}

function flags64(family: Family, v: bigint): string {
  const low = Number(v & 0xffff_ffffn);
  const high = v >> 32n;
  const names = low === 0 ? [] : flagNames(family, low);
  if (high !== 0n) names.push(hex(high << 32n));
  return names.length === 0 ? '0' : names.join('|');
}

function vmFlags(v: bigint): string {
  const mtype = Number((v >> 5n) & 0xfn);
  const rest = v & ~(0xfn << 5n);
  const s = flags64(AMDGPU_VM_PAGE, rest);
  return mtype === 0 ? s : `${s === '0' ? '' : `${s}|`}MTYPE(${mtype})`;
}

function iolinkType(t: number): string {
  return t === TOPO_IOLINK_TYPE.PCIE ? 'PCIe' : t === TOPO_IOLINK_TYPE.XGMI ? 'XGMI' : String(t);
}

/** Non-zero pages as `page→0xvalue`, at most `limit` of them. */
function pagesText(c: PageContent | undefined, limit = 8): string {
  if (c === undefined) return 'contents not in a pages image';
  const keys = Object.keys(c)
    .map(Number)
    .sort((a, b) => a - b);
  if (keys.length === 0) return 'all pages zero';
  const shown = keys.slice(0, limit).map((k) => `${k}→${hex(c[k]!)}`);
  return `${keys.length} non-zero page${keys.length === 1 ? '' : 's'}: ${shown.join(' ')}${keys.length > limit ? ' …' : ''}`;
}

const DEVICE_HEX = new Set(['gpu_id', 'vendor_id', 'device_id', 'domain', 'capability']);

function objectText(o: ObjectPriv): string {
  if (o.object_type === 0) {
    return (
      `queue q_id=${o.q_id} gpu_id=${hex(o.gpu_id)} type=${o.type} format=${o.format} ` +
      `q_address=${hex(o.q_address)} q_size=${hex(o.q_size)} doorbell_id=${o.doorbell_id} ` +
      `priority=${o.priority} q_percent=${o.q_percent} gws=${o.gws} sdma_id=${o.sdma_id} ` +
      `mqd_size=${o.mqd_size} ctl_stack_size=${o.ctl_stack_size}`
    );
  }
  if (o.object_type === 1) {
    return (
      `event event_id=${o.event_id} type=${o.type} auto_reset=${o.auto_reset} signaled=${o.signaled} ` +
      `user_handle=${hex(o.user_handle)}`
    );
  }
  return (
    `svm_range start_addr=${hex(o.start_addr)} size=${hex(o.size)} pages ` +
    `attrs=${o.attrs.map((a) => `${a.type}:${hex(a.value)}`).join(',')}`
  );
}

function kfdText(id: number, kfd: CriuKfd, priv: PrivData, contents: (PageContent | undefined)[]): string[] {
  const out = [`${kfdImageName(id)}: criu_kfd`];
  out.push(
    `  pid ${kfd.pid}  num_of_gpus ${kfd.num_of_gpus}  num_of_cpus ${kfd.num_of_cpus}  num_of_bos ${kfd.num_of_bos}` +
      `  num_of_objects ${kfd.num_of_objects}  shared_mem_size ${hex(kfd.shared_mem_size)}` +
      `  shared_mem_magic ${hex(kfd.shared_mem_magic)}`,
  );
  kfd.device_entries.forEach((d, i) => {
    const kind = d.gpu_id === 0 ? 'CPU' : 'GPU';
    const props = Object.entries(d)
      .filter(([k]) => k !== 'iolinks' && k !== 'node_id')
      .map(([k, v]) => `${k}=${typeof v === 'bigint' || DEVICE_HEX.has(k) ? hex(v as number | bigint) : String(v)}`);
    out.push(`  device_entries[${i}]: ${kind} node ${d.node_id} ${props.join(' ')}`);
    const links = d.iolinks.map((l) => `${iolinkType(l.type)}→node ${l.node_to_id}`);
    out.push(`    iolinks: ${links.length ? links.join(', ') : 'none'}`);
  });
  kfd.bo_entries.forEach((b, i) => {
    out.push(
      `  bo_entries[${i}]: addr=${hex(b.addr)} size=${hex(b.size)} offset=${hex(b.offset)} ` +
        `alloc_flags=${flags(KFD_IOC_ALLOC_MEM_FLAGS, b.alloc_flags)} gpu_id=${hex(b.gpu_id)} ` +
        `handle=${b.handle === NO_GEM_HANDLE ? 'none(-1)' : b.handle}`,
    );
  });
  out.push(
    `  priv_data: ${kfd.priv_data.length} bytes, version ${priv.process.version}, xnack_mode ${priv.process.xnack_mode}, ` +
      `${priv.devices.length} device record${priv.devices.length === 1 ? '' : 's'}`,
  );
  priv.bos.forEach((b, i) => {
    const mapped = b.mapped_gpuids.map((g) => hex(g)).join(',') || 'none';
    out.push(`    bos[${i}]: idr_handle=${b.idr_handle} user_addr=${hex(b.user_addr)} mapped_gpuids=${mapped}`);
  });
  priv.objects.forEach((o, i) => out.push(`    objects[${i}]: ${objectText(o)}`));
  for (const d of kfd.device_entries.filter((e) => e.gpu_id !== 0)) {
    const idx = kfd.bo_entries.flatMap((b, i) => (b.gpu_id === d.gpu_id && kfdBoHasPages(b.alloc_flags) ? [i] : []));
    const total = idx.reduce((a, i) => a + kfd.bo_entries[i]!.size, 0n);
    out.push(`${kfdPagesImageName(id, d.gpu_id)}: pages of GPU ${hex(d.gpu_id)}, ${hex(total)} bytes`);
    for (const i of idx)
      out.push(`  bo_entries[${i}] (${hex(kfd.bo_entries[i]!.size)} bytes): ${pagesText(contents[i])}`);
  }
  return out;
}

function renderDText(id: number, rd: CriuRenderNode, contents: (PageContent | undefined)[]): string[] {
  const out = [`${renderDImageName(id)}: criu_render_node`];
  out.push(
    `  gpu_id ${hex(rd.gpu_id)}  id ${rd.id}  drm_render_minor ${rd.drm_render_minor}  num_of_bos ${rd.num_of_bos}`,
  );
  rd.bo_entries.forEach((b, i) => {
    out.push(
      `  bo_entries[${i}]: handle=${b.handle} is_import=${b.is_import} addr=${hex(b.addr)} size=${hex(b.size)} ` +
        `offset=${hex(b.offset)} alloc_flags=${flags64(AMDGPU_GEM_CREATE, b.alloc_flags)} ` +
        `alignment=${hex(b.alignment)} preferred_domains=${flags(AMDGPU_GEM_DOMAIN, b.preferred_domains)} ` +
        `num_of_vms=${b.num_of_vms}`,
    );
    b.vm_entries.forEach((v, j) => {
      out.push(
        `    vm_entries[${j}]: addr=${hex(v.addr)} size=${hex(v.size)} offset=${hex(v.offset)} flags=${vmFlags(v.flags)}`,
      );
    });
  });
  rd.bo_entries.forEach((b, i) => {
    out.push(`${drmPagesImageName(id, rd.drm_render_minor, i)}: ${hex(b.size)} bytes, ${pagesText(contents[i])}`);
  });
  return out;
}

/** The text `gpucr images` prints for a directory. */
export function imageDirText(dir: ImageDir, opts: KfdImageOptions = {}, tasks?: FileHolders): string {
  const lines: string[] = [];
  for (const s of dir.kfd) {
    const name = kfdImageName(s.id);
    lines.push(...kfdText(s.id, s.kfd, decodeKfdPriv(s.kfd, name, opts), s.contents ?? []));
  }
  for (const s of dir.renderD) lines.push(...renderDText(s.id, s.renderD, s.contents ?? []));
  for (const s of dir.dmabuf) {
    lines.push(`${dmabufImageName(s.id)}: criu_dmabuf_node`, `  gem_handle ${s.dmabuf.gem_handle}`);
  }
  if (lines.length === 0) lines.push('no amdgpu images');
  lines.push(...restoreNoteLines(dir, opts, tasks));
  return `${lines.join('\n')}\n`;
}

/**
 * What a restore of the directory will meet (restore-notes.ts), as `gpucr images` prints it and
 * `gpucr restore` repeats it: a heading per kind, then a line per finding; none when all is well.
 */
export function restoreNoteLines(dir: ImageDir, opts: KfdImageOptions = {}, tasks?: FileHolders): string[] {
  const notes = restoreNotes(dir, opts, tasks);
  return [
    ...section(
      'restore cannot find these GEM handles: no image publishes them, so the restore retries them until CRIU gives up (spec §9.8)',
      notes.unpublished,
      (u) => `${u.file}: ${u.field} = ${u.handle}`,
    ),
    ...section(
      'restore may give these GEM handles another BO: several images publish the number, and the first one restored wins (spec §9.8)',
      notes.ambiguous,
      (a) => `${a.file}: ${a.field} = ${a.handle}, published by ${a.publishers.join(', ')}`,
    ),
    ...section(
      'restore cannot make these GEM_VA mappings: KFD RESTORE has mapped a KFD BO there, in the same VM (docs/checkpoint-restore.md)',
      notes.va_conflicts,
      (c) => `${c.file}: ${c.field} = ${hex(c.addr)}+${hex(c.size)}, mapped by ${c.kfd}`,
    ),
    ...section(
      'restore cannot map these KFD BOs: a BO before them maps the range on that GPU, so KFD RESTORE fails (docs/conformance.md "Kernel findings" 2)',
      notes.kfd_map_conflicts,
      (c) =>
        `${c.file}: ${c.field} = ${hex(c.addr)}+${hex(c.size)} on GPU ${hex(BigInt(c.gpu))}, over ${c.mapped_first}`,
    ),
    ...section(
      'restore puts these render-node images into one file (one GPU, one task), and brings back one BO per handle number (spec §9.8 work_already_completed)',
      notes.merged_render_files,
      (m) =>
        `${m.files.join(', ')}${m.pid ? ` of pid ${m.pid}` : ''}: ${m.shared_handles.length ? `handles ${m.shared_handles.join(', ')} held by more than one, all but one BO lost` : 'no handle held twice'}`,
    ),
  ];
}

/** A heading and an indented line per finding; nothing when there is none. */
function section<T>(heading: string, findings: readonly T[], line: (finding: T) => string): string[] {
  return findings.length === 0 ? [] : [heading, ...findings.map((f) => `  ${line(f)}`)];
}

/**
 * The JSON value `gpucr images --json` prints (before stable key ordering): one entry per file,
 * messages with the schema's field names, priv_data both as bytes and decoded, contents as
 * page → value maps per BO; `unpublished` lists the GEM handles a restore cannot find,
 * `ambiguous` those several images publish, `va_conflicts` the GEM_VA mappings it cannot make,
 * `kfd_map_conflicts` the KFD BOs KFD RESTORE cannot map, and `merged_render_files` the render-node images one task restores into one file
 * (restore-notes.ts; `tasks`, from gpucr-core.json, says which task holds which image).
 */
export function imageDirJson(dir: ImageDir, opts: KfdImageOptions = {}, tasks?: FileHolders): Record<string, unknown> {
  const files: Record<string, unknown>[] = [];
  for (const s of dir.kfd) {
    const name = kfdImageName(s.id);
    files.push({ file: name, message: 'criu_kfd', content: s.kfd, priv_data: decodeKfdPriv(s.kfd, name, opts) });
    for (const d of s.kfd.device_entries.filter((e) => e.gpu_id !== 0)) {
      const bos = s.kfd.bo_entries.flatMap((b, i) =>
        b.gpu_id === d.gpu_id && kfdBoHasPages(b.alloc_flags)
          ? [{ bo_entry: i, size: b.size, pages: s.contents?.[i] ?? {} }]
          : [],
      );
      files.push({ file: kfdPagesImageName(s.id, d.gpu_id), pages_of: name, gpu_id: d.gpu_id, bos });
    }
  }
  for (const s of dir.renderD) {
    const name = renderDImageName(s.id);
    files.push({ file: name, message: 'criu_render_node', content: s.renderD });
    s.renderD.bo_entries.forEach((b, i) => {
      files.push({
        file: drmPagesImageName(s.id, s.renderD.drm_render_minor, i),
        pages_of: name,
        bos: [{ bo_entry: i, size: b.size, pages: s.contents?.[i] ?? {} }],
      });
    });
  }
  for (const s of dir.dmabuf)
    files.push({ file: dmabufImageName(s.id), message: 'criu_dmabuf_node', content: s.dmabuf });
  return { files, ...restoreNotes(dir, opts, tasks) };
}
