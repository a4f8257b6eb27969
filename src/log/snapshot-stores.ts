/**
 * The stores of a snapshot world, each checked against the others: machine objects (a
 * registered kind, a full state of its machine), files (a dma-buf names its GEM object),
 * GEM objects (their dma-buf file and kgd_mem objects) and tasks (their fds, kfd process,
 * pdds, queues, events and SVM ranges); an object's context against its kind's schema
 * (snapshot-contexts.ts). Ids must be ones the `next` counters will not
 * hand out again. What other drivers add to these passes as data.
 */
import { MACHINES } from '../world/objects.js';
import { canonicalJson } from './canonical.js';
import { checkContext } from './snapshot-contexts.js';
import { checkFresh, fail, int, intKeyed, record, serial, str, strings, strOrNull } from './snapshot-fields.js';
import { isRecord } from './values.js';

type Store = Record<string, unknown>;

/** `<where>.objects`: every machine object, of a registered kind, in a state its machine has. */
export function checkObjects(v: unknown, where: string, next: Store): Store {
  const objects = record(v, `${where}.objects`);
  for (const [id, o] of Object.entries(objects)) checkObject(id, o, `${where}.objects.${id}`, next);
  return objects;
}

function checkObject(id: string, o: unknown, at: string, next: Store): void {
  const rec = record(o, at);
  const kind = str(rec.kind, `${at}.kind`);
  const machine = MACHINES[kind];
  if (!machine) fail(`${at}.kind`, `a registered object kind (${Object.keys(MACHINES).join(', ')})`, kind);
  if (serial(id, kind) === undefined) fail(at, `an id ${kind}#<n>`, id);
  checkFresh(next, at, id, kind, 'object');
  record(rec.context, `${at}.context`);
  if (typeof rec.value !== 'string' && !isRecord(rec.value)) fail(`${at}.value`, 'a state value', rec.value);
  let resolved: unknown;
  try {
    resolved = machine.resolveState({ value: rec.value as never, context: rec.context }).value;
  } catch (e) {
    fail(`${at}.value`, `a state of ${machine.id} (${(e as Error).message})`, rec.value);
  }
  if (canonicalJson(resolved) !== canonicalJson(rec.value))
    fail(`${at}.value`, `a full state of ${machine.id}`, rec.value);
  for (const k of Object.keys(rec))
    if (!['kind', 'value', 'context'].includes(k)) fail(`${at}.${k}`, 'one of kind, value, context', k);
  checkContext(kind, rec.context, at);
}

/** `<where>.files`: each under its own id, which the counter will not hand out again (the rest: snapshot-indexes.ts). */
export function checkFiles(files: Store, where: string, next: Store): void {
  for (const [id, f] of Object.entries(files)) {
    const at = `${where}.files.${id}`;
    const file = record(f, at);
    if (file.id !== id) fail(`${at}.id`, `the file's own id "${id}"`, file.id);
    checkFresh(next, at, id, 'file', 'file');
  }
}

/** `<where>.gems`: each under its own id, which the counter will not hand out again (the rest: snapshot-indexes.ts). */
export function checkGems(gems: Store, where: string, next: Store): void {
  for (const [id, g] of Object.entries(gems)) {
    const at = `${where}.gems.${id}`;
    const gem = record(g, at);
    if (gem.id !== id) fail(`${at}.id`, `the GEM object's own id "${id}"`, gem.id);
    checkFresh(next, at, id, 'gem', 'gem');
  }
}

/** `<where>.tasks`: each under its own pid; every file and kfd object it names is in the world. */
export function checkTasks(v: unknown, files: Store, objects: Store, where: string): void {
  const tasks = record(v, `${where}.tasks`);
  for (const [pid, t] of Object.entries(tasks)) checkTask(pid, t, files, objects, `${where}.tasks.${pid}`);
}

function checkTask(pid: string, t: unknown, files: Store, objects: Store, at: string): void {
  const isObject = (id: string, kind: string) => (objects[id] as { kind?: string } | undefined)?.kind === kind;
  const task = record(t, at);
  if (String(task.pid) !== pid) fail(`${at}.pid`, `the task's own pid ${pid}`, task.pid);
  int(task.pid, `${at}.pid`, 1);
  if (!Array.isArray(task.caps) || !task.caps.every((c) => typeof c === 'string'))
    fail(`${at}.caps`, 'a list of capability names', task.caps);
  if (task.ptrace_parent !== null) int(task.ptrace_parent, `${at}.ptrace_parent`, 1);
  if (typeof task.alive !== 'boolean') fail(`${at}.alive`, 'true or false', task.alive);
  for (const [fd, f] of Object.entries(intKeyed(task.fds, `${at}.fds`)))
    if (!Object.hasOwn(files, f)) fail(`${at}.fds.${fd}`, 'a file of the world', f);
  const kp = strOrNull(task.kfd_process, `${at}.kfd_process`);
  if (kp !== null && !isObject(kp, 'kfd.process')) fail(`${at}.kfd_process`, 'a kfd.process object', kp);
  strings(task.pdds, `${at}.pdds`).forEach((p, i) => {
    if (!isObject(p, 'kfd.pdd')) fail(`${at}.pdds[${i}]`, 'a kfd.pdd object', p);
  });
  for (const [k, q] of Object.entries(intKeyed(task.queues, `${at}.queues`)))
    if (!isObject(q, 'kfd.queue')) fail(`${at}.queues.${k}`, 'a kfd.queue object', q);
  for (const [k, e] of Object.entries(intKeyed(task.events, `${at}.events`)))
    if (!isObject(e, 'kfd.event')) fail(`${at}.events.${k}`, 'a kfd.event object', e);
  strings(task.svm_ranges, `${at}.svm_ranges`).forEach((r, i) => {
    if (!isObject(r, 'kfd.svm_range')) fail(`${at}.svm_ranges[${i}]`, 'a kfd.svm_range object', r);
  });
}
