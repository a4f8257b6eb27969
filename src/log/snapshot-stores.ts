/**
 * What a snapshot world's stores must be before their schemas are checked: every machine
 * object of a registered kind in a full state of its machine, every task under its own pid,
 * every file and GEM record under its own id, and ids that the `next` counters will not
 * hand out again. The fields of each member and the ids they hold come after, once every
 * store is read: contexts in snapshot-contexts.ts, the other stores in snapshot-indexes.ts.
 */
import { MACHINES } from '../world/objects.js';
import { canonicalJson } from './canonical.js';
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
}

/**
 * `<where>.<store>` (files, gems): each record under its own `id`, one that the counter
 * `next.<counter>` will not hand out again. Their fields and references: snapshot-indexes.ts.
 */
export function checkOwnIds(records: Store, at: string, next: Store, counter: 'file' | 'gem', what: string): void {
  for (const [id, r] of Object.entries(records)) {
    const rat = `${at}.${id}`;
    const rec = record(r, rat);
    if (rec.id !== id) fail(`${rat}.id`, `the ${what}'s own id "${id}"`, rec.id);
    checkFresh(next, rat, id, counter, counter);
  }
}

/** `<where>.tasks`: each under its own pid (its fields and references: snapshot-indexes.ts). */
export function checkTasks(v: unknown, where: string): Store {
  const tasks = record(v, `${where}.tasks`);
  for (const [pid, t] of Object.entries(tasks)) {
    const at = `${where}.tasks.${pid}`;
    const task = record(t, at);
    if (String(task.pid) !== pid) fail(`${at}.pid`, `the task's own pid ${pid}`, task.pid);
  }
  return tasks;
}
