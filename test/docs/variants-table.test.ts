/**
 * docs/log-format.md "variants" lists every variant the reader accepts with its values, default
 * first (it had drifted: it listed three of eleven and called three implemented ones unknown).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIANT_VALUES } from '../../src/log/reader.js';
import { DEFAULT_VARIANTS } from '../../src/world/types.js';

const text = readFileSync(new URL('../../docs/log-format.md', import.meta.url), 'utf8');
const designs = readFileSync(new URL('../../docs/design-variants.md', import.meta.url), 'utf8');

/** The rows of the table under "### variants": key → the values cell. */
function documented(): Map<string, string> {
  const section = text.slice(text.indexOf('### variants'), text.indexOf('\n## ', text.indexOf('### variants')));
  const rows = [...section.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)];
  return new Map(rows.map((m) => [m[1]!, m[2]!]));
}

describe('docs/log-format.md lists the variants', () => {
  it('every key of VARIANT_VALUES, with its values in order, the default first, and no other', () => {
    const rows = documented();
    expect([...rows.keys()].sort()).toEqual(Object.keys(VARIANT_VALUES).sort());
    for (const [k, values] of Object.entries(VARIANT_VALUES)) {
      const cell = rows.get(k)!;
      const listed = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      expect(listed).toEqual(values.map((v) => (typeof v === 'number' ? String(v) : `"${v}"`)));
      expect(values[0]).toBe(DEFAULT_VARIANTS[k as keyof typeof DEFAULT_VARIANTS]);
    }
  });

  it('docs/design-variants.md has a row for every variant, its values in the same order', () => {
    for (const [k, values] of Object.entries(VARIANT_VALUES)) {
      const row = designs.split('\n').find((l) => l.startsWith(`| \`${k}\` |`));
      expect(row, k).toBeDefined();
      const cell = row!.split(' | ')[1]!;
      expect([...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)).toEqual(
        values.map((v) => (typeof v === 'number' ? String(v) : `"${v}"`)),
      );
    }
  });
});
