/**
 * The documentation of the TTM / i915 / Xe models is current: each machine page carries
 * the generated diagram of its machine and names every event and guard outside it, and
 * docs/ttm-i915-events.md documents every call and every fault site.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DIAGRAM_MARKER, diagramBlock, diagramFileName, extractBlock } from '../../src/docs/diagram.js';
import '../../src/ioctls/all.js';
import { allCalls } from '../../src/ioctls/registry.js';
import { FAULT_SITE_NAMES } from '../../src/world/faults.js';
import { MACHINES } from '../../src/world/objects.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KINDS = ['ttm.tt', 'i915.lmem_object', 'i915.device', 'xe.bo', 'xe.device'];

describe('docs/machines pages of the TTM, i915 and Xe machines', () => {
  for (const kind of KINDS) {
    const file = join(ROOT, 'docs/machines', diagramFileName(kind));
    it(`${diagramFileName(kind)} carries the current diagram of ${kind} (run \`npm run docs\`)`, () => {
      expect(extractBlock(readFileSync(file, 'utf8'), DIAGRAM_MARKER)).toBe(diagramBlock(kind, MACHINES[kind]!));
    });

    it(`${diagramFileName(kind)} describes every event and guard of ${kind}`, () => {
      const page = readFileSync(file, 'utf8');
      const prose = page.replace(extractBlock(page, DIAGRAM_MARKER), '');
      const def = MACHINES[kind]!;
      for (const ev of def.root.events.filter((e) => !e.startsWith('xstate.'))) expect(prose).toContain(`\`${ev}\``);
      const guards = Object.keys((def.implementations as { guards: Record<string, unknown> }).guards);
      for (const g of guards) expect(prose).toContain(`\`${g}\``);
    });
  }
});

describe('docs/ttm-i915-events.md', () => {
  const page = readFileSync(join(ROOT, 'docs/ttm-i915-events.md'), 'utf8');
  it('documents every ttm.*, i915.* and xe.* call, fault, gpu_write and gpu_read', () => {
    const names = allCalls()
      .map((c) => c.name)
      .filter((n) => /^(ttm|i915|xe)\./.test(n) || ['fault', 'gpu_write', 'gpu_read'].includes(n));
    expect(names.length).toBeGreaterThan(20);
    for (const n of names) expect(page).toContain(`\`${n}`);
  });

  it('documents every fault site', () => {
    for (const s of FAULT_SITE_NAMES) expect(page).toContain(`| \`${s}\` |`);
  });

  it('carries the worked example exactly as docs/examples/ttm-interrupted-restore.jsonl', () => {
    const log = readFileSync(join(ROOT, 'docs/examples/ttm-interrupted-restore.jsonl'), 'utf8');
    expect(page).toContain(`\`\`\`jsonl\n${log}\`\`\``);
  });
});
