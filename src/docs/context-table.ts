/**
 * The context table of a machine page (docs/machines/<kind>.md, the `context` block): one
 * row per field of a kind's context schema (machines/context-schema.ts), in the words of
 * the snapshot checks (zod-describe.ts) — read from the zod v4 schema itself, so the table
 * cannot drift from what a snapshot is checked against.
 *
 * Paths: nested objects as `flags.populated`, list elements as `attachments[].vm`, a
 * record's values as `handles.<key>` (`content.<page>` for the page maps of
 * `pageValues`). A refinement with a message shows it (`checked: …`); one without (a
 * superRefine) is summed up in a last `(checked across fields)` row.
 */
import { schemaKit, type z } from '../../machines/context-schema.js';
import {
  asSchema,
  defOf,
  describe,
  literal,
  refinementMessage,
  refinements,
  type Schema,
  unwrap,
} from './zod-describe.js';

export { describeSchema } from './zod-describe.js';

/** One row: the field's path and what it holds, and the checks shown after it. */
interface Row {
  path: string;
  holds: string;
  checked: string[];
}

/** What a refinement without a message (a superRefine) of the context itself says. */
const ACROSS_FIELDS = 'rules between fields that the types above do not show (a refinement of the schema)';

/** The key schema of `pageValues`, recognised by identity. */
const pageKey = () => defOf(asSchema(schemaKit().pageValues)).keyType;

const join = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

/** Rows of every field below `path` (the field itself has its row already). */
function walkChildren(path: string, schema: Schema, rows: Row[], when: string): void {
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type === 'object') {
    const shape = d.shape ?? {};
    for (const key of Object.keys(shape)) walkField(join(path, key), shape[key]!, rows, when);
    // An object's refinements: on the field they name, else on the object's own row (which
    // describe() gave those without a path), else, for the context itself, a row of their own.
    for (const c of refinements(s)) {
      const message = refinementMessage(c);
      const at = c.path ?? [];
      if (at.length > 0) {
        const field = at.every((p) => typeof p === 'string') ? at.reduce<string>((a, p) => join(a, p), path) : '';
        const target = rows.find((r) => r.path === field) ?? rows.find((r) => path !== '' && r.path === path);
        if (target) {
          target.checked.push(message ?? 'further rules');
          continue;
        }
      } else if (path !== '') continue;
      rows.push({ path: '', holds: message ?? ACROSS_FIELDS, checked: [] });
    }
  } else if (d.type === 'array') {
    walkChildren(`${path}[]`, d.element!, rows, when);
  } else if (d.type === 'record') {
    const key = d.keyType === pageKey() ? '<page>' : '<key>';
    walkField(join(path, key), d.valueType!, rows, when);
  } else if (d.type === 'union' && d.discriminator !== undefined) {
    const disc = d.discriminator;
    for (const option of d.options ?? []) {
      const o = unwrap(option);
      const shape = defOf(o).shape;
      if (!shape) continue;
      const tag = defOf(shape[disc]!).values ?? [];
      const cond = `when ${disc} is ${tag.map(literal).join(' or ')}`;
      for (const key of Object.keys(shape)) {
        if (key !== disc) walkField(join(path, key), shape[key]!, rows, when ? `${when}, ${cond}` : cond);
      }
    }
  }
}

/** The row of one field, then those of its own fields. */
function walkField(path: string, schema: Schema, rows: Row[], when: string): void {
  const d = defOf(unwrap(schema));
  // A list of plain values has no element rows: its row says what the elements are.
  const scalarList = d.type === 'array' && !['object', 'record', 'union'].includes(defOf(unwrap(d.element!)).type);
  rows.push({ path, holds: when ? `${describe(schema)} (${when})` : describe(schema), checked: [] });
  if (!scalarList) walkChildren(path, schema, rows, when);
}

/** `|` would end a table cell. */
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The rows of a context schema: `[field path, what it holds]`, in the schema's order. */
export function contextRows(schema: z.ZodType): [string, string][] {
  const rows: Row[] = [];
  walkChildren('', asSchema(schema), rows, '');
  return rows.map((r) => [
    r.path === '' ? '(checked across fields)' : r.path,
    r.checked.length ? `${r.holds}; checked: ${r.checked.join('; ')}` : r.holds,
  ]);
}

/** The markdown table of a context schema (`| field | holds |`), or a line saying it has no field. */
export function contextTable(schema: z.ZodType): string {
  const rows = contextRows(schema);
  if (rows.length === 0) return 'The context has no fields (`{}`).\n';
  const lines = ['| field | holds |', '| --- | --- |'];
  for (const [path, holds] of rows) {
    const field = path.startsWith('(') ? path : `\`${path}\``;
    lines.push(`| ${cell(field)} | ${cell(holds)} |`);
  }
  return `${lines.join('\n')}\n`;
}
