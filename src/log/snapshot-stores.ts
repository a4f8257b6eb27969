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
import { checkFresh, fail, record, serial, str } from './snapshot-fields.js';
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

/** `<where>.tasks`: each under its own pid (the rest: snapshot-indexes.ts). */
export function checkTasks(v: unknown, where: string): Store {
  const tasks = record(v, `${where}.tasks`);
  for (const [pid, t] of Object.entries(tasks)) {
    const at = `${where}.tasks.${pid}`;
    const task = record(t, at);
    if (String(task.pid) !== pid) fail(`${at}.pid`, `the task's own pid ${pid}`, task.pid);
  }
  return tasks;
}
