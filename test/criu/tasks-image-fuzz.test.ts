/**
 * Fuzz (design "Bad input", issue 4 item 6) of gpucr-core.json (src/criu/tasks-image.ts), which
 * `gpucr restore` reads for the dumping machine's GPUs and variants: a valid file changed as a
 * JSON value (a key dropped, renamed, duplicated under another name, set to any JSON value, a
 * `__proto__` key, a deep nesting, a huge number) or as bytes must either read, with a topology
 * a world can be built on, or be refused with an ImageError — never any other exception.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../src/criu/images/index.js';
import { CORE_IMAGE, headerTopology, readCoreImage, writeCoreImage } from '../../src/criu/tasks-image.js';
import { parseTopology } from '../../src/world/topology.js';
import { createWorld } from '../../src/world/world.js';

const dir = mkdtempSync(join(tmpdir(), 'gpucr-core-fuzz-'));

/** A valid file: two tasks, userptr pages, an 8-XCC GPU and two variants. */
function validText(): string {
  writeCoreImage(dir, {
    tasks: [
      { pid: 100, fds: [{ fd: 3, id: 3 }] },
      { pid: 101, fds: [{ fd: 0, id: 4 }] },
    ],
    memory: [{ pid: 100, gpu_id: 0x1001, addr: 0x7f0000000000n, content: { 0: 7 } }],
    topology: {
      page_size: 4096,
      gpus: [
        {
          gpu_id: 0x1001,
          render_minor: 128,
          vram_size: 1n << 34n,
          doorbell_slice_size: 8192,
          xnack_capable: false,
          large_bar: true,
          is_apu: false,
          gpuvm_base: 0x4000n,
          mmio_remap_bus_addr: 0xfe000000n,
          gc_version: '9.4.3',
          num_xcc: 8,
          properties: { device_id: 0x74a1 },
        },
      ],
    },
    variants: { 'kfd-restore-mqd-size': 'num-xcc', kernel: '6.18' },
  });
  return readFileSync(join(dir, CORE_IMAGE), 'utf8');
}
const VALID = validText();

/** Every path to a value in `v` (object keys and list indexes), the root first. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

type Edit =
  { kind: 'drop' | 'rename' | 'proto' | 'nest' | 'huge'; pick: number } | { kind: 'set'; pick: number; value: unknown };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('drop', 'rename', 'proto', 'nest', 'huge'), pick: fc.nat() }) as fc.Arbitrary<Edit>,
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
);

/** The JSON text after `e` on the value at one of its paths (the parent of the path for key edits). */
function applyEdit(text: string, e: Edit): string {
  const root = JSON.parse(text) as unknown;
  const all = paths(root).filter((p) => p.length > 0);
  const path = all[e.pick % all.length]!;
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root) as Record<
    string | number,
    unknown
  >;
  const key = path[path.length - 1]!;
  if (e.kind === 'drop') delete parent[key];
  else if (e.kind === 'rename') {
    parent[`${String(key)}x`] = parent[key];
    delete parent[key];
  } else if (e.kind === 'proto') Object.defineProperty(parent, '__proto__', { value: { x: 1 }, enumerable: true });
  else if (e.kind === 'nest') parent[key] = JSON.parse(`${'['.repeat(300)}1${']'.repeat(300)}`);
  else if (e.kind === 'huge') parent[key] = 1e300;
  else if (e.kind === 'set') parent[key] = e.value;
  return JSON.stringify(root);
}

/** Read `text` as gpucr-core.json: 'read' when it reads and a world can be built on what it gives. */
function outcome(text: string): 'read' | 'refused' {
  writeFileSync(join(dir, CORE_IMAGE), text);
  try {
    const c = readCoreImage(dir)!;
    if (c.topology) createWorld(parseTopology(headerTopology(c.topology), []), c.variants ?? {});
    return 'read';
  } catch (e) {
    if (e instanceof ImageError) return 'refused';
    throw e;
  }
}

describe('gpucr-core.json fuzz: read, or refused with an ImageError naming the field', () => {
  it('the valid file reads', () => {
    expect(outcome(VALID)).toBe('read');
  });

  it('JSON edits of a valid file (1,000 cases), some read and some refused', () => {
    const seen = { read: 0, refused: 0 };
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        seen[outcome(edits.reduce(applyEdit, VALID))] += 1;
      }),
      { numRuns: 1000, seed: 14 },
    );
    // the edits reach both sides: values the file accepts (memory pages, fds) and ones it refuses
    expect(seen.read).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(50);
  });

  it('byte edits of a valid file (1,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), (sets) => {
        const b = Buffer.from(VALID);
        for (const [at, byte] of sets) b[at % b.length] = byte;
        outcome(b.toString('latin1'));
      }),
      { numRuns: 1000, seed: 14 },
    );
  });
});
