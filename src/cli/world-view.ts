/**
 * Rendering worlds and the objects a failure involves, for people and for tools
 * (docs/cli.md, "The world"). People get one line per task, object, file and GEM
 * object, u64 values in hex; tools get the snapshot encoding (src/log/snapshot.ts).
 */
import { canonicalJson, sortedJson, toCanonical } from '../log/canonical.js';
import type { Change, Involvement } from '../log/replay.js';
import { compareIds } from '../log/replay.js';
import { snapshot, snapshotText, worldHash } from '../log/snapshot.js';
import { KFD_IOC_ALLOC_MEM_FLAGS, flagNames } from '../uapi/index.js';
import { allocIdr } from '../world/idr.js';
import type { ObjectRecord, OpenFile, Task, World } from '../world/types.js';
import type { Colors } from './style.js';
import { colors } from './style.js';

const plain = colors({ isTTY: false }, {});

/** A state value as people read it: `alive(criu.running, mmu.notifying)`. */
export function stateText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v !== 'object' || v === null) return String(v);
  const parts = Object.entries(v).map(([k, s]) => {
    if (typeof s === 'string') return `${k}.${s}`;
    const inner = stateText(s);
    return Object.keys(s as object).length > 1 ? `${k}(${inner})` : `${k}.${inner}`;
  });
  return parts.join(', ');
}

/** One value, compact: bigints in hex, objects as JSON with hex bigints. */
export function valueText(key: string, v: unknown): string {
  if (key === 'alloc_flags' && typeof v === 'number') return flagNames(KFD_IOC_ALLOC_MEM_FLAGS, v).join('|') || '0';
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'object' && v !== null) {
    const s = JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint' ? `0x${x.toString(16)}` : x instanceof Uint8Array ? `<${x.length} bytes>` : x,
    );
    return s.length > 200 ? `${s.slice(0, 197)}...` : s;
  }
  return String(v);
}

function fields(rec: Record<string, unknown>, skip: readonly string[] = []): string {
  return Object.keys(rec)
    .filter((k) => !skip.includes(k) && rec[k] !== undefined)
    .map((k) => `${k}=${valueText(k, rec[k])}`)
    .join(' ');
}

const KIND_ORDER = ['kfd.process', 'kfd.pdd', 'kfd.bo', 'kfd.queue', 'kfd.event', 'kfd.svm_range'];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

function objectOrder([a, ra]: [string, ObjectRecord], [b, rb]: [string, ObjectRecord]): number {
  return (
    kindRank(ra.kind) - kindRank(rb.kind) || (ra.kind < rb.kind ? -1 : ra.kind > rb.kind ? 1 : 0) || compareIds(a, b)
  );
}

/** One object: its id, state and context fields (and `extra`, e.g. a pdd's handles). */
export function objectLine(id: string, rec: ObjectRecord, c: Colors = plain, extra = ''): string {
  const ctx = (rec.context ?? {}) as Record<string, unknown>;
  return `${c.bold(id)}  ${c.cyan(stateText(rec.value))}  ${fields(ctx, ['pid'])}${extra}`.trimEnd();
}

/** A pdd's alloc_idr, which the world keeps beside the pdd object (docs/world.md): ` alloc_idr={0:kfd.bo#10}`. */
function pddHandlesText(w: World, pddId: string): string {
  return ` alloc_idr=${idrText(allocIdr(w, pddId))}`;
}

/** Handles in order: `{0:kfd.bo#10,1:kfd.bo#13}`. */
function idrText(idr: Readonly<Record<string, string>>): string {
  return `{${Object.entries(idr)
    .map(([h, b]) => `${h}:${b}`)
    .join(',')}}`;
}

function fileText(f: OpenFile): string {
  switch (f.kind) {
    case 'tty':
      return 'tty';
    case 'kfd':
      return `/dev/kfd of pid ${f.pid}`;
    case 'drm':
      return `renderD${f.render_minor} gpu_id ${f.gpu_id}${f.compute_vm_pid !== null ? `, compute VM of pid ${f.compute_vm_pid}` : ''}`;
    case 'dmabuf':
      return `dma-buf of ${f.gem}`;
    default:
      return (f as { kind: string }).kind;
  }
}

export function fileLine(f: OpenFile, c: Colors = plain): string {
  return `${c.bold(f.id)}  ${fileText(f)}  refs ${f.refs}`;
}

function taskLines(w: World, t: Task, c: Colors): string[] {
  const out: string[] = [];
  const state = t.alive ? c.green('alive') : c.dim('exited');
  out.push(
    `${c.bold(`process ${t.pid}`)}  ${state}  caps ${t.caps.join(',') || '-'}  ptrace_parent ${t.ptrace_parent ?? '-'}`,
  );
  const fds = Object.keys(t.fds)
    .map(Number)
    .sort((a, b) => a - b);
  if (fds.length) {
    out.push('  fds');
    for (const fd of fds) {
      const id = t.fds[fd]!;
      const f = w.files[id];
      out.push(`    ${fd} → ${id}${f ? ` (${fileText(f)})` : c.red(' (no such file)')}`);
    }
  }
  const mine = Object.entries(w.objects)
    .filter(([, r]) => (r.context as { pid?: unknown } | null)?.pid === t.pid)
    .sort(objectOrder);
  for (const [id, rec] of mine)
    out.push(`  ${objectLine(id, rec, c, rec.kind === 'kfd.pdd' ? pddHandlesText(w, id) : '')}`);
  return out;
}

export interface WorldViewOptions {
  /** Only this process (its task, objects, files of its fds and their GEM objects). */
  pid?: number;
  colors?: Colors;
}

/** The world's own lines, to `out`: its hash, page size and variants, and its GPUs. */
function worldHeader(out: string[], w: World, c: Colors): void {
  const variants = Object.entries(w.variants)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(`${c.bold('world')} ${worldHash(w)}`);
  out.push(`  page_size ${w.topology.page_size}; variants: ${variants}`);
  for (const g of w.topology.gpus)
    out.push(
      `  gpu ${g.gpu_id} (0x${g.gpu_id.toString(16)})  renderD${g.render_minor}  vram ${valueText('', g.vram_size)}${g.is_apu ? '  APU' : ''}`,
    );
}

/** The GEM objects section, to `out`: every GEM object, or with `pid` those a KFD BO of that process holds. */
function gemSection(out: string[], w: World, c: Colors, pid: number | undefined): void {
  const gems = Object.values(w.gems)
    .filter(
      (g) => pid === undefined || g.kgd_mems.some((m) => (w.objects[m]?.context as { pid?: number })?.pid === pid),
    )
    .sort((a, b) => compareIds(a.id, b.id));
  if (gems.length) {
    out.push(c.bold('GEM objects'));
    for (const g of gems) {
      const pages = Object.keys(g.content).length;
      out.push(
        `  ${c.bold(g.id)}  gpu_id ${g.gpu_id} ${g.domain} size ${valueText('', g.size)} mmap_offset ${valueText('', g.mmap_offset)}` +
          `  kgd_mems ${g.kgd_mems.join(',') || '-'}  dmabuf ${g.dmabuf ?? '-'}  content ${pages} page${pages === 1 ? '' : 's'} written`,
      );
    }
  }
}

/** The world for people, one line per thing (docs/cli.md, "The world"). */
export function renderWorld(w: World, opts: WorldViewOptions = {}): string {
  const c = opts.colors ?? plain;
  const out: string[] = [];
  worldHeader(out, w, c);
  const pids = Object.keys(w.tasks)
    .map(Number)
    .sort((a, b) => a - b)
    .filter((p) => opts.pid === undefined || p === opts.pid);
  for (const pid of pids) out.push(...taskLines(w, w.tasks[pid]!, c));
  if (opts.pid !== undefined && pids.length === 0) out.push(c.dim(`no process ${opts.pid}`));
  const files = Object.values(w.files).filter(
    (f) => opts.pid === undefined || Object.values(w.tasks[opts.pid]?.fds ?? {}).includes(f.id),
  );
  if (opts.pid === undefined) {
    const loose = Object.entries(w.objects)
      .filter(
        ([, r]) =>
          typeof (r.context as { pid?: unknown } | null)?.pid !== 'number' ||
          !w.tasks[(r.context as { pid: number }).pid],
      )
      .sort(objectOrder);
    if (loose.length) {
      out.push(c.bold('objects of no process'));
      for (const [id, rec] of loose) out.push(`  ${objectLine(id, rec, c)}`);
    }
  }
  if (files.length) {
    out.push(c.bold('files'));
    for (const f of files.sort((a, b) => compareIds(a.id, b.id))) out.push(`  ${fileLine(f, c)}`);
  }
  gemSection(out, w, c, opts.pid);
  return `${out.join('\n')}\n`;
}

/**
 * The world for tools: the snapshot (`{"format":"gpucr-snapshot",…}`, usable with
 * `replay --from`), or with `pid` the part of it that belongs to that process.
 */
export function worldJsonValue(w: World, opts: { pid?: number } = {}): unknown {
  if (opts.pid === undefined) return snapshot(w);
  const pid = opts.pid;
  const t = w.tasks[pid];
  const objects = Object.fromEntries(
    Object.entries(w.objects).filter(([, r]) => (r.context as { pid?: unknown } | null)?.pid === pid),
  );
  const fileIds = new Set(Object.values(t?.fds ?? {}));
  const files = Object.fromEntries(Object.entries(w.files).filter(([id]) => fileIds.has(id)));
  const gems = Object.fromEntries(
    Object.entries(w.gems).filter(([, g]) => g.kgd_mems.some((m) => Object.hasOwn(objects, m))),
  );
  const part = { pid, task: t ?? null, objects, files, gems };
  return { format: 'gpucr-process-state', pid, world_hash: worldHash(w), process: toCanonical(part) };
}

/** worldJsonValue as one line of JSON text (keys sorted; the snapshot text itself without pid). */
export function worldJson(w: World, opts: { pid?: number } = {}): string {
  return opts.pid === undefined ? snapshotText(w).trimEnd() : sortedJson(worldJsonValue(w, opts));
}

// ---- involvement ------------------------------------------------------------------------

function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: string[] = [];
  for (const k of keys) {
    const b = before[k];
    const a = after[k];
    if (b !== undefined && a !== undefined && canonicalJson(b) === canonicalJson(a)) continue;
    out.push(`${k} ${b === undefined ? '-' : valueText(k, b)} → ${a === undefined ? '-' : valueText(k, a)}`);
  }
  return out;
}

function describeThing(ch: Change, v: unknown): string {
  if (ch.kind === 'task') {
    const t = v as Task;
    return `${t.alive ? 'alive' : 'exited'} fds ${valueText('', t.fds)}`;
  }
  if (ch.kind === 'file') return `${fileText(v as OpenFile)} refs ${(v as OpenFile).refs}`;
  if (ch.kind === 'gem') return fields(v as Record<string, unknown>, ['id', 'content']);
  if (ch.kind === 'alloc_idr') return idrText(v as Record<string, string>);
  const rec = v as ObjectRecord;
  return `${stateText(rec.value)}  ${fields((rec.context ?? {}) as Record<string, unknown>, ['pid'])}`.trimEnd();
}

/** One line per change: `~ id: what changed`, `+ id: created …`, `- id: removed (was …)`. */
export function changeLines(ch: Change, c: Colors = plain): string[] {
  if (ch.before === undefined) return [`${c.green('+')} ${c.bold(ch.id)} created: ${describeThing(ch, ch.after)}`];
  if (ch.after === undefined) return [`${c.red('-')} ${c.bold(ch.id)} removed (was ${describeThing(ch, ch.before)})`];
  let parts: string[];
  if (ch.kind === 'alloc_idr') {
    parts = [`${idrText(ch.before as Record<string, string>)} → ${idrText(ch.after as Record<string, string>)}`];
  } else if (ch.kind === 'task' || ch.kind === 'file' || ch.kind === 'gem') {
    parts = changedFields(ch.before as Record<string, unknown>, ch.after as Record<string, unknown>);
  } else {
    const b = ch.before as ObjectRecord;
    const a = ch.after as ObjectRecord;
    parts = [];
    const bs = stateText(b.value);
    const as = stateText(a.value);
    if (bs !== as) parts.push(`state ${bs} → ${as}`);
    parts.push(
      ...changedFields((b.context ?? {}) as Record<string, unknown>, (a.context ?? {}) as Record<string, unknown>),
    );
  }
  return [`${c.yellow('~')} ${c.bold(ch.id)}: ${parts.join('; ')}`];
}

/** The involvement of a failure for people, indented under the failure's first line. */
export function involvementLines(inv: Involvement, line: number, c: Colors = plain): string[] {
  const out: string[] = [];
  for (const p of inv.processes) {
    const who = p.role === 'caller' ? `caller pid ${p.pid}` : `file owner pid ${p.pid}`;
    out.push(
      p.process
        ? `  ${who}: ${objectLine(p.process.id, { kind: p.process.kind, value: p.process.value as never, context: p.process.context }, c)}`
        : `  ${who}: no kfd process`,
    );
  }
  if (inv.changed.length === 0) out.push(`  line ${line} changed nothing`);
  else {
    out.push(`  changed by line ${line}:`);
    for (const ch of inv.changed) for (const l of changeLines(ch, c)) out.push(`    ${l}`);
  }
  return out;
}

/** The involvement for tools: world values in the snapshot encoding. */
export function involvementJson(inv: Involvement): unknown {
  return toCanonical(inv);
}
