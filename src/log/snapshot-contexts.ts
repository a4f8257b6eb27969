/**
 * The contexts of a snapshot's machine objects, checked once every store is read: each
 * against its kind's schema (machines/context-schema.ts: types, ranges, no unknown field),
 * then the ids it holds (objects of the right kind, files, GEM objects, tasks, GPUs of the
 * topology). checkShape and WorldRefs serve the other stores too (snapshot-indexes.ts). A
 * problem is an InputError naming the field.
 */
import type { ContextRef, z } from '../../machines/context-schema.js';
import { contextSpecOf } from '../world/objects.js';
import type { Topology } from '../world/types.js';
import { fail } from './snapshot-fields.js';
import { isRecord } from './values.js';

type Store = Record<string, unknown>;

/**
 * `value` (at `base` in the snapshot) against `schema`: its first problem as an InputError
 * naming the field; `known` is what a key the schema does not know was expected to be.
 */
export function checkShape(schema: z.ZodType, value: unknown, base: string, known: string): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const { where, found } = locate(value, issue.path, base);
  if (issue.code === 'invalid_key') fail(where, expectation(issue), issue.path.at(-1));
  if (issue.code === 'unrecognized_keys') fail(`${where}.${issue.keys[0]}`, known, issue.keys[0]);
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
      // A check with its own words (intKey's) says them; zod's default names the pattern.
      if (!issue.message.startsWith('Invalid')) return issue.message;
      return issue.pattern ? `a string matching ${issue.pattern}` : `a ${issue.format}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_key': {
      const inner = issue.issues[0];
      return inner ? `a key that is ${expectation(inner)}` : 'a key of the form its record has';
    }
    case 'invalid_union': {
      // A discriminated union names the values its discriminator may take.
      const options = (issue as { options?: unknown[] }).options;
      return options ? `one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : 'one of the forms the field has';
    }
    default:
      return issue.message;
  }
}

/** The stores a snapshot's ids are looked up in. */
export interface Stores {
  objects: Store;
  files: Store;
  gems: Store;
  tasks: Store;
  topology: Topology;
}

/** Checks ids against the stores of one world: each must name a member (an object or file of its kind). */
export class WorldRefs {
  private readonly gpus: Set<string>;
  constructor(private readonly stores: Stores) {
    this.gpus = new Set(stores.topology.gpus.map((g) => String(g.gpu_id)));
  }

  /** Every ref of `refs`, whose paths are below `base`. */
  check(refs: readonly ContextRef[], base: string): void {
    for (const r of refs) this.checkOne(r, r.path === '' ? base : `${base}.${r.path}`);
  }

  private checkOne(r: ContextRef, at: string): void {
    const { objects, files, gems, tasks } = this.stores;
    switch (r.store) {
      case 'objects': {
        const o = Object.hasOwn(objects, r.id) ? (objects[r.id] as { kind: string }) : undefined;
        if (!o || (r.kind !== undefined && o.kind !== r.kind))
          fail(at, r.kind ? `a ${r.kind} object of the world` : 'an object of the world', r.id);
        return;
      }
      case 'files': {
        const f = Object.hasOwn(files, r.id) ? (files[r.id] as { kind: string }) : undefined;
        if (!f || (r.kind !== undefined && f.kind !== r.kind))
          fail(at, r.kind ? `a ${r.kind} file of the world` : 'a file of the world', r.id);
        return;
      }
      case 'gems':
        if (!Object.hasOwn(gems, r.id)) fail(at, 'a GEM object of the world', r.id);
        return;
      case 'tasks':
        if (!Object.hasOwn(tasks, r.id)) fail(at, 'the pid of a task of the world', Number(r.id));
        return;
      case 'gpus':
        if (!this.gpus.has(r.id)) fail(at, 'the gpu_id of a GPU of the topology', Number(r.id));
        return;
    }
  }
}

/**
 * Every machine object's context (`<where>.objects.<id>.context`) against its kind's schema,
 * then the world members it names: each exists and, for objects and files, is of its kind.
 */
export function checkContexts(stores: Stores, refs: WorldRefs, where: string): void {
  for (const [id, o] of Object.entries(stores.objects)) {
    const { kind, context } = o as { kind: string; context: unknown };
    const spec = contextSpecOf(kind);
    if (!spec) continue;
    const at = `${where}.objects.${id}.context`;
    checkShape(spec.schema, context, at, `a field of a ${kind} context`);
    if (spec.refs) refs.check(spec.refs(context), at);
  }
}
