import { describe, expect, it } from 'vitest';
import { canonicalHash, canonicalJson, fromCanonical } from '../../src/log/canonical.js';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { restoreSnapshot, snapshot, snapshotText, worldHash } from '../../src/log/snapshot.js';
import { splitLog } from '../../src/log/split.js';
import type { World } from '../../src/world/types.js';
import { example, inputError, worldOf } from './snapshot-helpers.js';

const RESTORE = example('kfd-restore-resume.jsonl');

describe('canonical encoding', () => {
  it('round-trips bigints of any size, byte buffers, and strings that look like them', () => {
    const v = {
      big: 2n ** 70n,
      neg: -5n,
      zero: 0n,
      bytes: Uint8Array.from([0, 1, 254, 255]),
      hexString: '0x10',
      quoted: "'x",
      dollar: { $bytes: 'not bytes', $$x: 1 },
      list: [1, 'a', null, true, { b: 2, a: 1 }],
      float: 0.5,
      minusZero: -0,
    };
    const text = canonicalJson(v);
    const back = fromCanonical(JSON.parse(text), 'v') as typeof v;
    expect(back.big).toBe(2n ** 70n);
    expect(back.neg).toBe(-5n);
    expect(back.zero).toBe(0n);
    expect([...back.bytes]).toEqual([0, 1, 254, 255]);
    expect(back.hexString).toBe('0x10');
    expect(back.quoted).toBe("'x");
    expect(back.dollar).toEqual({ $bytes: 'not bytes', $$x: 1 });
    expect(back.list).toEqual([1, 'a', null, true, { a: 1, b: 2 }]);
    expect(back.minusZero).toBe(0);
    // Encoding the decoded value gives the same text: the encoding is canonical.
    expect(canonicalJson(back)).toBe(text);
  });

  it('does not depend on the order keys were inserted in', () => {
    expect(canonicalJson({ b: 1, a: { d: 2n, c: [3] } })).toBe(canonicalJson({ a: { c: [3], d: 2n }, b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalHash({ x: 1n })).not.toBe(canonicalHash({ x: 1 }));
  });

  it('refuses values a world never holds', () => {
    expect(() => canonicalJson({ m: new Map() })).toThrow(/Map/);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/nested too deeply/);
  });
});

describe('snapshots', () => {
  it('restore gives back the same world, with the same hash, after a trip through text', () => {
    const w = worldOf(RESTORE);
    const text = snapshotText(w);
    const back = restoreSnapshot(text);
    expect(worldHash(back)).toBe(worldHash(w));
    expect(canonicalJson(back)).toBe(canonicalJson(w));
    const s = snapshot(w);
    expect(s.version).toBe(4);
    expect(s.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(text)).toEqual(s);
    // u64 values stay exact: the restored pdd's vram_usage is a bigint.
    const pdd = Object.values(back.objects).find((o) => o.kind === 'kfd.pdd')!;
    expect(typeof (pdd.context as { vram_usage: unknown }).vram_usage).toBe('bigint');
  });

  it('the hash changes with the world', () => {
    const w = worldOf(RESTORE);
    const h = worldHash(w);
    const w2 = restoreSnapshot(snapshotText(w));
    w2.next.file += 1;
    expect(worldHash(w2)).not.toBe(h);
  });

  it('rejects a bad snapshot with an InputError naming the place', () => {
    const w = worldOf(example('design-example.jsonl'));
    const good = JSON.parse(snapshotText(w)) as { world: Record<string, unknown>; hash: string };
    const edit = (f: (s: Record<string, unknown>) => void) => {
      const s = structuredClone(good) as unknown as Record<string, unknown>;
      f(s);
      return JSON.stringify(s);
    };
    const world = (s: Record<string, unknown>) => s.world as Record<string, Record<string, unknown>>;
    const cases: [string, RegExp][] = [
      ['{', /^snapshot: expected a JSON snapshot/],
      ['[]', /^snapshot: expected a snapshot object/],
      // version 1 kept alloc_idr in the pdd's context, version 2 attachments keyed by gpu_id, version 3
      // one i915 LMEM region and no ttm.tt pages_caching (docs/log-format.md, Snapshots)
      [edit((s) => (s.version = 1)), /^snapshot\.version: expected the snapshot version 4, found 1/],
      [edit((s) => (s.version = 2)), /^snapshot\.version: expected the snapshot version 4, found 2/],
      [edit((s) => (s.version = 3)), /^snapshot\.version: expected the snapshot version 4, found 3/],
      [edit((s) => (s.extra = 1)), /^snapshot\.extra: expected one of format, hash, version, world/],
      [edit((s) => (s.hash = `sha256:${'0'.repeat(64)}`)), /^snapshot\.hash: expected the hash of the world it holds/],
      // Tampering with the world without fixing the hash.
      [edit((s) => (world(s).next!.object = 99)), /^snapshot\.hash: expected the hash of the world it holds/],
    ];
    for (const [text, re] of cases) expect(inputError(() => restoreSnapshot(text)).message).toMatch(re);
  });

  it('rejects a world with a dangling reference, an unknown kind or a state its machine lacks (hash fixed up)', () => {
    const w = worldOf(example('design-example.jsonl'));
    const rehash = (f: (w: World) => void) => {
      const copy = restoreSnapshot(snapshotText(w));
      f(copy);
      // A consistent hash: only the structure check can refuse it.
      return snapshotText(copy);
    };
    const pddId = Object.keys(w.objects).find((id) => w.objects[id]!.kind === 'kfd.pdd')!;
    const cases: [string, RegExp][] = [
      [rehash((x) => (x.tasks[100]!.fds[9] = 'file#77')), /world\.tasks\.100\.fds\.9: expected a file of the world/],
      [rehash((x) => (x.objects[pddId]!.kind = 'kfd.nope')), /kind: expected a registered object kind/],
      [rehash((x) => (x.objects[pddId]!.value = 'nowhere')), /value: expected a state of kfd_pdd/],
      [rehash((x) => (x.tasks[100]!.pdds = ['kfd.bo#999'])), /pdds\[0\]: expected a kfd\.pdd object/],
      [rehash((x) => (x.variants.kernel = '5.0' as never)), /variants\.kernel: expected one of "6\.18", "6\.17"/],
      [rehash((x) => (x.next.object = 1)), /expected an id [\w.]+#<n> with n below next\.object/],
    ];
    for (const [text, re] of cases) expect(inputError(() => restoreSnapshot(text)).message).toMatch(re);
    // __proto__ as a key never reaches an object's prototype.
    const proto = snapshotText(w).replace('"tasks":{', '"tasks":{"__proto__":{"polluted":true},');
    expect(inputError(() => restoreSnapshot(proto)).message).toMatch(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('replaying a tail from a snapshot', () => {
  it('gives the world a replay from the start gives, wherever the log is split', () => {
    for (const name of ['kfd-restore-resume.jsonl', 'kfd-checkpoint-two-gpus.jsonl', 'kfd-ioctl-errors.jsonl']) {
      const text = example(name);
      const { header, events } = readLog(text, name);
      const full = replay(header, events, { file: name });
      expect(full.ok, name).toBe(true);
      const hash = worldHash(full.world);
      const last = events[events.length - 1]!.line;
      for (const at of [1, 2, 5, Math.floor(last / 2), last - 3, last - 1, last]) {
        const split = splitLog(text, at, name);
        // The tail references nothing before it and names the snapshot it continues from.
        const tail = readLog(split.tail, 'tail', { requireNewline: true });
        expect(tail.header.snapshot).toBe(split.hash);
        expect(tail.events.length).toBe(last - at);
        const world = restoreSnapshot(split.snapshot);
        const rep = replay(tail.header, tail.events, { file: 'tail', world });
        expect(rep.ok, `${name} split after line ${at}`).toBe(true);
        expect(worldHash(rep.world), `${name} split after line ${at}`).toBe(hash);
      }
    }
  });

  it('a tail needs its snapshot: none, or another world, is bad input on line 1', () => {
    const text = example('kfd-restore-resume.jsonl');
    const split = splitLog(text, 10);
    const tail = readLog(split.tail, 'tail.jsonl');
    expect(() => replay(tail.header, tail.events, { file: 'tail.jsonl' })).toThrow(LogError);
    expect(() => replay(tail.header, tail.events, { file: 'tail.jsonl' })).toThrow(
      /^tail\.jsonl:1:1: snapshot: expected --from <the snapshot of world sha256:/,
    );
    const other = restoreSnapshot(splitLog(text, 11).snapshot);
    expect(() => replay(tail.header, tail.events, { file: 'tail.jsonl', world: other })).toThrow(
      /^tail\.jsonl:1:1: snapshot: expected the hash of the --from snapshot/,
    );
  });
});
