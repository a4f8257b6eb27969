/**
 * The context tables of the machine pages (src/docs/context-table.ts): rows read from a
 * hand-made zod schema (each expectation written from the schema, not from the output), the
 * rows of a real kind (kfd.bo), the placement of the block in a page, and every
 * docs/machines page carrying the current block of its kind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemaKit } from '../../machines/context-schema.js';
import { contextRows, contextTable, describeSchema } from '../../src/docs/context-table.js';
import { CONTEXT_MARKER, contextBlock, diagramFileName, withContextBlock } from '../../src/docs/diagram-page.js';
import { extractBlock, MarkerError } from '../../src/docs/marked-blocks.js';
import '../../src/ioctls/all.js';
import { contextSpecOf, MACHINES } from '../../src/world/objects.js';
import type { ObjectKind } from '../../src/world/types.js';

const { pageValues, u32, u64, worldId, z } = schemaKit();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const U64 = 'u64 (snapshot: "0x…")';

describe('contextRows of a hand-made schema', () => {
  const schema = z
    .strictObject({
      id: u32,
      count: z.number().int().min(1),
      pages: u32.min(1).max(1 << 20),
      order: z.number().int().gt(3).lt(10),
      ret: z.number().int().min(-4095).max(-1),
      ratio: z.number(),
      addr: u64,
      owner: worldId.nullable(),
      on: z.boolean(),
      mode: z.enum(['fast', 'slow']),
      tag: z.literal('x').nullable(),
      flags: z.strictObject({ a: z.boolean(), b: u32 }),
      items: z.array(z.strictObject({ vm: u32, mapped: z.boolean() })),
      ids: z.array(worldId).min(1).max(4),
      content: pageValues,
      handles: z.record(
        worldId,
        z.array(u32).refine((l) => l.length > 0, 'one or more'),
      ),
      slots: z.array(
        z
          .discriminatedUnion('t', [
            z.strictObject({ t: z.literal('page'), id: u32, v: z.number() }),
            z.strictObject({ t: z.literal('handle'), h: u32 }),
          ])
          .nullable(),
      ),
      maybe: z.strictObject({ x: u64 }).nullable(),
    })
    .refine((c) => c.count > c.id, { path: ['count'], message: 'more than id' })
    .superRefine(() => {});

  it('gives one row per field, nested paths dotted, list elements as [], record values as <key>/<page>', () => {
    expect(contextRows(schema)).toEqual([
      ['id', 'u32'],
      ['count', 'integer ≥ 1; checked: more than id'],
      ['pages', 'integer 1 … 1048576'],
      ['order', 'integer 4 … 9'],
      ['ret', 'integer -4095 … -1'],
      ['ratio', 'any number'],
      ['addr', U64],
      ['owner', 'world id or null'],
      ['on', 'true or false'],
      ['mode', '"fast", "slow"'],
      ['tag', '"x" or null'],
      ['flags', '{a, b}'],
      ['flags.a', 'true or false'],
      ['flags.b', 'u32'],
      ['items', 'list of {vm, mapped}'],
      ['items[].vm', 'u32'],
      ['items[].mapped', 'true or false'],
      ['ids', 'list (1 … 4 elements) of world id'],
      ['content', 'map keyed by integer ≥ 0'],
      ['content.<page>', 'any number'],
      ['handles', 'map keyed by world id'],
      ['handles.<key>', 'list of u32 (checked: one or more)'],
      ['slots', 'list; each element: one of: {t: "page", id, v} | {t: "handle", h}, or null'],
      ['slots[].id', 'u32 (when t is "page")'],
      ['slots[].v', 'any number (when t is "page")'],
      ['slots[].h', 'u32 (when t is "handle")'],
      ['maybe', '{x} or null'],
      ['maybe.x', U64],
      ['(checked across fields)', expect.stringContaining('refinement')],
    ]);
  });

  it('renders a markdown table, `|` escaped inside cells, the same text each time', () => {
    const table = contextTable(schema);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toBe('| field | holds |');
    expect(lines[1]).toBe('| --- | --- |');
    expect(lines).toContain(`| \`addr\` | ${U64} |`);
    expect(lines).toContain(
      '| `slots` | list; each element: one of: {t: "page", id, v} \\| {t: "handle", h}, or null |',
    );
    expect(lines).toHaveLength(2 + contextRows(schema).length);
    expect(contextTable(schema)).toBe(table);
  });

  it('describes nullable lists and maps with the null apart from the element', () => {
    expect(describeSchema(z.array(u32).nullable())).toBe('list of u32, or null');
    expect(describeSchema(pageValues.nullable())).toBe('map keyed by integer ≥ 0, or null');
    expect(describeSchema(z.string())).toBe('string');
    expect(describeSchema(u64.optional())).toBe(`${U64}, or absent`);
  });

  it('says so for a context without fields', () => {
    expect(contextRows(z.strictObject({}))).toEqual([]);
    expect(contextTable(z.strictObject({}))).toContain('no fields');
  });
});

describe('contextRows of kfd.bo', () => {
  const rows = new Map(contextRows(contextSpecOf('kfd.bo')!.schema));

  it('names the kernel types of its fields', () => {
    expect(rows.get('va')).toBe(U64);
    expect(rows.get('size')).toBe(U64);
    expect(rows.get('pid')).toBe('u32');
    expect(rows.get('gem')).toBe('world id');
    expect(rows.get('dmabuf')).toBe('world id or null');
    expect(rows.get('is_imported')).toBe('true or false');
    expect(rows.get('attachments')).toBe(
      'list of {vm, is_mapped, half_mapped} (checked: half_mapped only on a mapped attachment); checked: half_mapped only on an AQL_QUEUE_MEM BO',
    );
    expect(rows.get('attachments[].half_mapped')).toBe('true, or absent');
    expect(rows.get('attachments[].vm')).toBe('u32');
    expect(rows.get('attachments[].is_mapped')).toBe('true or false');
  });
});

describe('withContextBlock', () => {
  const diagram = '<!-- diagram:begin -->\nd\n<!-- diagram:end -->\n';
  const block = 'generated\n';
  const section = '<!-- context:begin -->\ngenerated\n<!-- context:end -->\n';

  it('adds the block at the end of an existing ## Context section, after the hand-written notes', () => {
    const page = `# t\n\n${diagram}\n## Context\n\n| field | meaning |\n\n## States\n`;
    expect(withContextBlock(page, block)).toBe(
      `# t\n\n${diagram}\n## Context\n\n| field | meaning |\n\n${section}\n## States\n`,
    );
    const last = `${diagram}\n## Context\n\nnotes\n`;
    expect(withContextBlock(last, block)).toBe(`${diagram}\n## Context\n\nnotes\n\n${section}\n`);
  });

  it('adds a ## Context heading right after the diagram when the page has none', () => {
    expect(withContextBlock(`${diagram}\n## States\n`, block)).toBe(
      `${diagram}\n## Context\n\n${section}\n## States\n`,
    );
    expect(withContextBlock(diagram, block)).toBe(`${diagram}\n## Context\n\n${section}`);
  });

  it('replaces a block already there and leaves the rest alone', () => {
    const page = withContextBlock(`${diagram}\n## States\n`, block);
    expect(withContextBlock(page, block)).toBe(page);
    expect(extractBlock(withContextBlock(page, 'new\n'), CONTEXT_MARKER)).toBe('new\n');
    expect(() => withContextBlock(`${diagram}<!-- context:end -->\n`, block)).toThrow(MarkerError);
  });
});

describe('docs/machines/*.md context blocks are current', () => {
  for (const kind of Object.keys(MACHINES) as ObjectKind[]) {
    it(`${diagramFileName(kind)} carries the context table of ${kind}`, () => {
      const page = readFileSync(join(ROOT, 'docs/machines', diagramFileName(kind)), 'utf8');
      const stale = `docs/machines/${diagramFileName(kind)} is stale: run \`npm run docs\``;
      expect(extractBlock(page, CONTEXT_MARKER), stale).toBe(contextBlock(kind, contextSpecOf(kind)!.schema));
      expect(page.indexOf('<!-- context:begin -->'), 'the block comes after the diagram').toBeGreaterThan(
        page.indexOf('<!-- diagram:end -->'),
      );
    });
  }
});
