/**
 * The contexts of a snapshot's machine objects, checked against their kinds' schemas
 * (machines/context-schema.ts): first each context alone (types, ranges, no unknown field),
 * then, once every store is read, the ids it holds (objects of the right kind, files, GEM
 * objects, tasks, GPUs of the topology). A problem is an InputError naming the field.
 */
import type { ContextRef } from '../../machines/context-schema.js';
import type { z } from '../../machines/context-schema.js';
import { contextSpecOf } from '../world/objects.js';
import type { Topology } from '../world/types.js';
import { fail } from './snapshot-fields.js';
import { isRecord } from './values.js';

type Store = Record<string, unknown>;

/** `at` is the object's place (`world.objects.kfd.bo#3`); the context is checked at `<at>.context`. */
export function checkContext(kind: string, context: unknown, at: string): void {
  const spec = contextSpecOf(kind);
  if (!spec) return;
  const result = spec.schema.safeParse(context);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const { where, found } = locate(context, issue.path, `${at}.context`);
  if (issue.code === 'unrecognized_keys')
    fail(`${where}.${issue.keys[0]}`, `a field of a ${kind} context`, issue.keys[0]);
  fail(where, expectation(issue), found);
}

/** The snapshot path of an issue's place and the value found there. */
function locate(context: unknown, path: readonly PropertyKey[], base: string): { where: string; found: unknown } {
  let where = base;
  let v = context;
  for (const k of path) {
    where += Array.isArray(v) ? `[${String(k)}]` : `.${String(k)}`;
    v = isRecord(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  }
  return { where, found: v };
}

/** zod's type names as the snapshot's encoding writes them (a bigint is a "0x…" string). */
const TYPE_WORDS: Record<string, string> = {
  bigint: 'a "0x…" integer',
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

/** What the schema wanted, in the words of the other snapshot messages. */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`;
    case 'too_small':
      return `a value ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `a value ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.pattern ? `a string matching ${issue.pattern}` : `a ${issue.format}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_key':
      return 'a key of the right form';
    case 'invalid_union':
      return 'one of the forms the field has';
    default:
      return issue.message;
  }
}

/** The world members an object's context names, each one that exists and, for objects, of its kind. */
export function checkContextRefs(
  objects: Store,
  stores: { files: Store; gems: Store; tasks: Store; topology: Topology },
  where: string,
): void {
  const gpus = new Set(stores.topology.gpus.map((g) => String(g.gpu_id)));
  for (const [id, o] of Object.entries(objects)) {
    const { kind, context } = o as { kind: string; context: unknown };
    const refs = contextSpecOf(kind)?.refs;
    if (!refs) continue;
    for (const r of refs(context)) checkRef(r, objects, stores, gpus, `${where}.objects.${id}.context.${r.path}`);
  }
}

function checkRef(
  r: ContextRef,
  objects: Store,
  stores: { files: Store; gems: Store; tasks: Store },
  gpus: Set<string>,
  at: string,
): void {
  switch (r.store) {
    case 'objects': {
      const o = Object.hasOwn(objects, r.id) ? (objects[r.id] as { kind: string }) : undefined;
      if (!o || (r.kind !== undefined && o.kind !== r.kind))
        fail(at, r.kind ? `a ${r.kind} object of the world` : 'an object of the world', r.id);
      return;
    }
    case 'files':
      if (!Object.hasOwn(stores.files, r.id)) fail(at, 'a file of the world', r.id);
      return;
    case 'gems':
      if (!Object.hasOwn(stores.gems, r.id)) fail(at, 'a GEM object of the world', r.id);
      return;
    case 'tasks':
      if (!Object.hasOwn(stores.tasks, r.id)) fail(at, 'the pid of a task of the world', Number(r.id));
      return;
    case 'gpus':
      if (!gpus.has(r.id)) fail(at, 'the gpu_id of a GPU of the topology', Number(r.id));
      return;
  }
}
