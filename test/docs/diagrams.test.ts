/**
 * The machine pages' generated diagrams are current, and toMermaid renders what the
 * definition says (checked on a small hand-made machine, independent of the KFD ones).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { and, not, setup } from 'xstate';
import {
  DIAGRAM_MARKER,
  diagramBlock,
  diagramFileName,
  extractBlock,
  MarkerError,
  mermaidOfBlock,
  replaceBlock,
  toMermaid,
} from '../../src/docs/diagram.js';
import '../../src/ioctls/all.js';
import { MACHINES } from '../../src/world/objects.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = join(ROOT, 'docs/machines');

describe('docs/machines/*.md diagrams are current for every registered machine', () => {
  const kinds = Object.keys(MACHINES) as (keyof typeof MACHINES)[];

  it('there is one page per registered machine, named after its kind, and no page without one', () => {
    const pages = readdirSync(PAGES)
      .filter((f) => f.endsWith('.md'))
      .sort();
    expect(pages).toEqual(kinds.map(diagramFileName).sort());
    expect(kinds).toContain('kfd.bo');
  });

  for (const kind of kinds) {
    it(`${diagramFileName(kind)} carries toMermaid(${kind})`, () => {
      const file = join(PAGES, diagramFileName(kind));
      const block = extractBlock(readFileSync(file, 'utf8'), DIAGRAM_MARKER);
      const stale = `docs/machines/${diagramFileName(kind)} is stale: run \`npm run diagrams\``;
      expect(mermaidOfBlock(block), stale).toBe(toMermaid(MACHINES[kind]!));
      expect(block, stale).toBe(diagramBlock(kind, MACHINES[kind]!));
    });

    it(`${diagramFileName(kind)} describes every event and guard of the machine`, () => {
      const page = readFileSync(join(PAGES, diagramFileName(kind)), 'utf8');
      const prose = page.replace(extractBlock(page, DIAGRAM_MARKER), '');
      const def = MACHINES[kind]!;
      for (const ev of def.root.events.filter((e) => !e.startsWith('xstate.')))
        expect(prose, `event ${ev} not documented outside the diagram`).toContain(`\`${ev}\``);
      const guards = Object.keys((def.implementations as { guards: Record<string, unknown> }).guards);
      for (const g of guards) expect(prose, `guard ${g} not documented outside the diagram`).toContain(`\`${g}\``);
    });
  }
});

/** A machine with every construct the renderer handles, none of them KFD's. */
const toy = setup({
  types: {} as { events: { type: 'GO' | 'STOP' | 'FIN' | 'ABORT' | 'POKE' } },
  guards: { ready: () => true, quiet: () => false },
  actions: { tick: () => {}, tock: () => {} },
}).createMachine({
  id: 'toy',
  initial: 'work',
  states: {
    work: {
      type: 'parallel',
      on: { POKE: { actions: ['tick', 'tock'] } },
      states: {
        left: {
          initial: 'idle',
          states: {
            idle: { on: { GO: { guard: 'ready', target: 'busy' } } },
            busy: { on: { STOP: [{ guard: not('quiet'), target: 'idle' }, { actions: 'tick' }] } },
          },
        },
        right: {
          initial: 'idle',
          states: {
            idle: {
              on: {
                FIN: { guard: and(['ready', 'quiet']), target: 'done' },
                ABORT: '#toy.stopped',
              },
            },
            done: { type: 'final' },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});

/** Lines of the diagram with their indentation depth (two spaces a level). */
function lines(text: string): { depth: number; text: string }[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => ({ depth: (l.length - l.trimStart().length) / 2, text: l.trim() }));
}

describe('toMermaid on a hand-made machine', () => {
  const text = toMermaid(toy);
  const ls = lines(text);
  const at = (t: string) => ls.findIndex((l) => l.text === t);

  it('is a stateDiagram-v2 with the root initial state', () => {
    expect(ls[0]).toEqual({ depth: 0, text: 'stateDiagram-v2' });
    expect(ls[1]).toEqual({ depth: 1, text: '[*] --> work' });
  });

  it('draws a parallel state as one block whose regions are separated by --', () => {
    const work = at('state work {');
    const left = at('state left {');
    const sep = ls.findIndex((l, i) => i > left && l.text === '--');
    const right = at('state right {');
    expect(work).toBeGreaterThan(0);
    expect(left).toBeGreaterThan(work);
    expect(sep).toBeGreaterThan(left);
    expect(right).toBeGreaterThan(sep);
    expect(ls[left]!.depth).toBe(ls[work]!.depth + 1);
    expect(ls[sep]!.depth).toBe(ls[left]!.depth);
    expect(ls[right]!.depth).toBe(ls[left]!.depth);
    // Each region starts at its own initial state.
    expect(ls[left + 2]!.text).toBe('[*] --> work_left_idle');
  });

  it('ends final states with --> [*] in their own block', () => {
    const stopped = ls.find((l) => l.text === 'stopped --> [*]');
    expect(stopped?.depth).toBe(1);
    const done = ls.find((l) => l.text === 'done --> [*]');
    expect(done?.depth).toBe(ls[at('state right {')]!.depth + 1);
  });

  it('labels transitions with the event and the guard, combinators included', () => {
    expect(text).toContain('work_left_idle --> busy : GO [ready]\n');
    expect(text).toContain('busy --> work_left_idle : STOP [!quiet]\n');
    expect(text).toContain('work_right_idle --> done : FIN [ready && quiet]\n');
  });

  it('draws a targetless transition as a self-loop, an unguarded fallback as [else]', () => {
    expect(text).toContain('busy --> busy : STOP [else] / tick\n');
    expect(text).toContain('work --> work : POKE / tick, tock\n');
  });

  it('writes an edge leaving a composite state outside it', () => {
    const abort = ls.find((l) => l.text === 'work_right_idle --> stopped : ABORT');
    expect(abort?.depth).toBe(1);
    const poke = ls.find((l) => l.text.startsWith('work --> work'));
    expect(poke?.depth).toBe(1);
  });

  it('gives a key used twice a path id, labelled with the key, declared before use', () => {
    const decl = at('state "idle" as work_left_idle');
    expect(decl).toBeGreaterThan(0);
    expect(decl).toBeLessThan(ls.findIndex((l) => l.text.includes('work_left_idle') && l !== ls[decl]));
    expect(text).toContain('state "idle" as work_right_idle');
    expect(text).not.toMatch(/^\s*idle\b/m);
  });

  it('leaves actions out on request', () => {
    const bare = toMermaid(toy, { actions: false });
    expect(bare).not.toContain(' / ');
    expect(bare).toContain('busy --> busy : STOP [else]\n');
  });

  it('joins parallel edges between the same two states into one label', () => {
    const m = setup({}).createMachine({
      id: 'two',
      initial: 'a',
      states: { a: { on: { X: 'b', Y: 'b', Z: {} } }, b: {} },
    });
    expect(toMermaid(m)).toBe('stateDiagram-v2\n  [*] --> a\n  a --> b : X<br/>Y\n  a --> a : Z\n');
    expect(toMermaid(m, { merge: false })).toContain('  a --> b : X\n  a --> b : Y\n');
  });

  it('declares a state no edge names, and follows definition order', () => {
    const m = setup({}).createMachine({
      id: 'order',
      initial: 'z',
      states: { z: { on: { GO: 'y' } }, y: {}, lonely: {} },
    });
    expect(toMermaid(m)).toBe('stateDiagram-v2\n  [*] --> z\n  lonely\n  z --> y : GO\n');
    expect(toMermaid(m)).toBe(toMermaid(m));
  });
});

describe('marked blocks', () => {
  const page = 'intro\n<!-- diagram:begin -->\nold\n<!-- diagram:end -->\noutro\n';

  it('replaces only the text between the markers', () => {
    const next = replaceBlock(page, 'diagram', 'new\n');
    expect(next).toBe('intro\n<!-- diagram:begin -->\nnew\n<!-- diagram:end -->\noutro\n');
    expect(extractBlock(next, 'diagram')).toBe('new\n');
  });

  it('refuses a page without markers, or with two blocks', () => {
    expect(() => extractBlock('no markers\n', 'diagram')).toThrow(MarkerError);
    expect(() => replaceBlock(page + page, 'diagram', 'x\n')).toThrow(MarkerError);
  });
});

describe('gpucr diagram', () => {
  const MAIN = join(ROOT, 'dist/src/cli/main.js');
  const gpucr = (...args: string[]) => {
    expect(built, 'dist/src/cli/main.js was not built').toBe(true);
    const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  let built = false;
  beforeAll(() => {
    try {
      // npm test builds first; build here only when run on its own (never race the CLI tests).
      if (!existsSync(join(ROOT, 'dist/src/cli/main.js')))
        execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
    } catch {
      // tsc emits even when another part of the tree does not type-check yet.
    }
    built = existsSync(MAIN);
  }, 180_000);

  it('prints one machine', () => {
    const r = gpucr('diagram', 'kfd.queue');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(toMermaid(MACHINES['kfd.queue']));
  });

  it('refuses an unknown machine with the valid names, exit 2, no stack', () => {
    const r = gpucr('diagram', 'kfd.nope');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    for (const k of Object.keys(MACHINES)) expect(r.stderr).toContain(k);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('--all --write rewrites the block and keeps the prose', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-diagram-'));
    const file = join(dir, 'kfd-event.md');
    writeFileSync(file, '# mine\n<!-- diagram:begin -->\nstale\n<!-- diagram:end -->\nmore prose\n');
    const r = gpucr('diagram', '--all', '--write', dir);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# mine\n<!-- diagram:begin -->\n')).toBe(true);
    expect(text.endsWith('<!-- diagram:end -->\nmore prose\n')).toBe(true);
    expect(extractBlock(text, 'diagram')).toBe(diagramBlock('kfd.event', MACHINES['kfd.event']));
    // Pages that did not exist are created, with the block.
    const bo = readFileSync(join(dir, 'kfd-bo.md'), 'utf8');
    expect(extractBlock(bo, 'diagram')).toBe(diagramBlock('kfd.bo', MACHINES['kfd.bo']));
    expect(gpucr('diagram', '--all', '--write', dir, '--check').code).toBe(0);
    writeFileSync(file, text.replace('stateDiagram-v2', 'stateDiagram'));
    const check = gpucr('diagram', '--all', '--write', dir, '--check');
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`${file}: stale`);
  });

  it('refuses a page without markers and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-diagram-'));
    writeFileSync(join(dir, 'kfd-pdd.md'), '# no markers\n');
    const r = gpucr('diagram', '--all', '--write', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('kfd-pdd.md');
    expect(existsSync(join(dir, 'kfd-bo.md'))).toBe(false);
    expect(readFileSync(join(dir, 'kfd-pdd.md'), 'utf8')).toBe('# no markers\n');
  });
});
