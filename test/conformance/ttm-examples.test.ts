/**
 * The worked examples of docs/ttm-i915-events.md are runnable logs: they replay through
 * src/log/replay.ts with every recorded result holding, and the states the page
 * describes after each step are the ones the model reaches (spec A.4.3, A.4.4, C.6, C.7).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TtContext } from '../../machines/ttm/pool.js';
import { checkI915 } from '../../src/invariants/i915.js';
import { checkTtm } from '../../src/invariants/ttm.js';
import { readLog } from '../../src/log/reader.js';
import { replay, replayFile } from '../../src/log/replay.js';
import { callDef } from '../../src/ioctls/registry.js';
import { decodeArgs } from '../../src/ioctls/schema.js';
import { step } from '../../src/world/step.js';
import { createWorld } from '../../src/world/world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const example = (name: string) => join(ROOT, 'docs/examples', name);

function upTo(file: string, line: number) {
  const { header, events } = readLog(readFileSync(file, 'utf8'), file);
  const rep = replay(
    header,
    events.filter((e) => e.line <= line),
  );
  expect(rep.ok).toBe(true);
  const tt = rep.world.objects['ttm.tt#1']!;
  return { value: tt.value, c: tt.context as TtContext, world: rep.world };
}

describe('docs/examples/ttm-interrupted-restore.jsonl', () => {
  const file = example('ttm-interrupted-restore.jsonl');

  it('replays with every recorded result holding, and ends with every invariant holding', async () => {
    const rep = await replayFile(file);
    expect(rep.divergence).toBeUndefined();
    expect(rep.ok).toBe(true);
    expect(rep.events).toBe(20);
    expect(checkTtm(rep.world)).toEqual([]);
  });

  it('spec A.4.2: line 9 backs up 3 pages and keeps page 3 (partial backup)', () => {
    const { value, c } = upTo(file, 9);
    expect(value).toEqual({ backedUp: 'partial' });
    expect(c.slots.map((s) => s?.t)).toEqual(['handle', 'handle', 'handle', 'page']);
  });

  it('spec A.4.4: line 12 fails on the first handle of the order-2 block: the block is freed, nothing was restored', () => {
    const { value, c } = upTo(file, 12);
    expect(value).toEqual({ restoring: 'betweenBlocks' });
    expect(c.restore).toMatchObject({ order: 2, restored_pages: 4, alloced_pages: 0, block: null });
    expect(Object.keys(c.ledger.live)).toHaveLength(1);
  });

  it('spec A.4.4: line 14 restores pages 0 and 1 of the re-allocated block, then fails: the block stays open', () => {
    const { value, c, world } = upTo(file, 14);
    expect(value).toEqual({ restoring: 'blockOpen' });
    expect(c.restore).toMatchObject({ order: 2, restored_pages: 2 });
    expect(c.restore?.block?.values).toEqual([4096, 4097]);
    expect(c.slots).toEqual([{ t: 'handle', h: 0 }, { t: 'handle', h: 0 }, { t: 'handle', h: 3 }, c.slots[3]]);
    expect(checkTtm(world)).toEqual([]);
  });

  it('spec A.4.3: line 16 resumes the open block and completes: POPULATED, restore freed, no handle left', () => {
    const { value, c } = upTo(file, 16);
    expect(value).toBe('populated');
    expect(c.restore).toBeNull();
    expect(c.shmem).toEqual({});
  });
});

describe('docs/examples/i915-suspend-faults.jsonl', () => {
  it('spec C.6, C.7: replays with every recorded result holding and every invariant holding', async () => {
    const rep = await replayFile(example('i915-suspend-faults.jsonl'));
    expect(rep.divergence).toBeUndefined();
    expect(rep.ok).toBe(true);
    expect(checkI915(rep.world)).toEqual([]);
  });
});

describe('the pure step() and applyInPlace agree on the examples', () => {
  for (const name of ['ttm-interrupted-restore.jsonl', 'i915-suspend-faults.jsonl'])
    it(`${name}: folding step() (immer drafts, frozen worlds) gives the same world and results as replay`, async () => {
      const text = readFileSync(example(name), 'utf8');
      const { header, events } = readLog(text, name);
      const rep = await replayFile(example(name));
      let w = createWorld(header.topology, header.variants);
      const outs = new Map<number, Record<string, unknown>>();
      for (const ev of events) {
        let args = ev.args;
        if (!args) {
          const raw = JSON.parse(JSON.stringify(ev.rawArgs)) as Record<string, unknown>;
          for (const r of ev.refs) raw[r.path[0] as string] = outs.get(r.line)![r.field[0] as string];
          args = decodeArgs(callDef(ev.call)!.args, raw, 'args');
        }
        const r = step(w, { call: ev.call, args });
        outs.set(ev.line, r.out);
        if (ev.ret !== undefined) expect(r.ret, `line ${ev.line}`).toBe(ev.ret);
        w = r.world;
      }
      expect(JSON.parse(JSON.stringify(w.objects))).toEqual(JSON.parse(JSON.stringify(rep.world.objects)));
    });
});
