/**
 * What a failing event involved (docs/cli.md "Reports"): the kfd processes of the caller
 * and of the file it was issued on, and every task, object, file and GEM object the event
 * changed, found by comparing the world before it with the world after it.
 */
import type { Call, World } from '../world/types.js';
import { canonicalJson } from './canonical.js';

/** The state of one task, object, file, GEM object or pdd IDR, before or after an event. */
export interface Change {
  /**
   * `task:<pid>`, an object id (`kfd.bo#7`), a file id (`file#3`), a GEM id (`gem#2`) or
   * `alloc_idr:<pdd id>` (the handles of a pdd, which the world keeps beside it).
   */
  id: string;
  /** `task`, `file`, `gem`, `alloc_idr`, or the object's kind (`kfd.bo`). */
  kind: string;
  /** Absent when the event created it. Objects: `{kind, value, context}`. */
  before?: unknown;
  /** Absent when the event removed it. */
  after?: unknown;
}

/** A process a failing event involves. */
export interface InvolvedProcess {
  pid: number;
  /** `caller`: the pid of the event; `file`: the owner of the file it was issued on (CRIU's `"<pid>:<fd>"`). */
  role: 'caller' | 'file';
  /** Its kfd_process object after the event (`{id, kind, value, context}`), or null when it has none. */
  process: { id: string; kind: string; value: unknown; context: unknown } | null;
}

/** The objects a failing event involves (docs/cli.md, "Reports"). */
export interface Involvement {
  processes: InvolvedProcess[];
  /** Everything the event changed, tasks first, then objects, files and GEM objects, each by id. */
  changed: Change[];
}

/** Order ids as people count: `kfd.bo#10` after `kfd.bo#9`. */
export function compareIds(a: string, b: string): number {
  const ma = /^(.*?)(\d+)$/.exec(a);
  const mb = /^(.*?)(\d+)$/.exec(b);
  if (ma && mb && ma[1] === mb[1]) return Number(ma[2]) - Number(mb[2]);
  return a < b ? -1 : a > b ? 1 : 0;
}

function diff<T>(kind: (id: string, v: T) => string, before: Record<string, T>, after: Record<string, T>): Change[] {
  const ids = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: Change[] = [];
  for (const id of [...ids].sort(compareIds)) {
    const b = Object.hasOwn(before, id) ? before[id] : undefined;
    const a = Object.hasOwn(after, id) ? after[id] : undefined;
    if (b === a) continue;
    if (b !== undefined && a !== undefined && canonicalJson(b) === canonicalJson(a)) continue;
    const c: Change = { id, kind: kind(id, (a ?? b)!) };
    if (b !== undefined) c.before = b;
    if (a !== undefined) c.after = a;
    out.push(c);
  }
  return out;
}

/** What `call` changed between `before` and `after`, and the kfd processes it involves. */
export function involvement(before: World | undefined, after: World, call: Call): Involvement {
  const pids: [number, InvolvedProcess['role']][] = [];
  if (call.pid !== undefined) pids.push([call.pid, 'caller']);
  if (call.fd !== undefined && call.pid !== undefined) {
    const owner = typeof call.fd === 'number' ? undefined : call.fd.pid;
    const id =
      typeof call.fd === 'number' ? after.tasks[call.pid]?.fds[call.fd] : after.tasks[call.fd.pid]?.fds[call.fd.fd];
    const f = id ? (after.files[id] ?? before?.files[id]) : undefined;
    const filePid = f?.kind === 'kfd' ? f.pid : owner;
    if (filePid !== undefined && filePid !== call.pid) pids.push([filePid, 'file']);
  }
  const processes = pids.map(([pid, role]): InvolvedProcess => {
    const id = after.tasks[pid]?.kfd_process ?? null;
    const rec = id ? after.objects[id] : undefined;
    return {
      pid,
      role,
      process: id && rec ? { id, kind: rec.kind, value: rec.value, context: rec.context } : null,
    };
  });
  const b: Pick<World, 'tasks' | 'objects' | 'files' | 'gems' | 'alloc_idr'> = before ?? {
    tasks: {},
    objects: {},
    files: {},
    gems: {},
  };
  const taskKey = (w: Pick<World, 'tasks'>) =>
    Object.fromEntries(Object.entries(w.tasks).map(([pid, t]) => [`task:${pid}`, t as unknown]));
  const idrKey = (w: Pick<World, 'alloc_idr'>) =>
    Object.fromEntries(Object.entries(w.alloc_idr ?? {}).map(([pdd, idr]) => [`alloc_idr:${pdd}`, idr as unknown]));
  const changed = [
    ...diff(() => 'task', taskKey(b), taskKey(after)),
    ...diff((_, o) => o.kind, b.objects, after.objects),
    ...diff(() => 'file', b.files as Record<string, unknown>, after.files as Record<string, unknown>),
    ...diff(() => 'gem', b.gems as Record<string, unknown>, after.gems as Record<string, unknown>),
    ...diff(() => 'alloc_idr', idrKey(b), idrKey(after)),
  ];
  return { processes, changed };
}
