import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { referencedLines } from '../../src/log/refs.js';
import { replay, replayFile } from '../../src/log/replay.js';
import { matches } from '../../src/log/values.js';

const EXAMPLE = readFileSync(new URL('../fixtures/design-example.jsonl', import.meta.url), 'utf8');
const LINES = EXAMPLE.trimEnd().split('\n');
const FILE = 'trace.jsonl';
const EINVAL = -22;
const ENOENT = -2;

function run(lines: string[]) {
  const { header, events } = readLog(lines.join('\n'), FILE);
  return replay(header, events, { file: FILE });
}

function withLine(n: number, text: string): string[] {
  const lines = [...LINES];
  lines[n - 1] = text;
  return lines;
}

describe('replay', () => {
  it('replays the design example: every assertion holds', () => {
    const rep = run(LINES);
    expect(rep.divergence).toBeUndefined();
    expect(rep.ok).toBe(true);
    expect(rep.events).toBe(5);
    expect(Object.values(rep.world.tasks).map((t) => t.pid)).toEqual([100]);
  });

  it('keeps only the outs later lines reference', () => {
    expect([...referencedLines(readLog(EXAMPLE, FILE).events)]).toEqual([5]);
  });

  it('reports the first divergence of ret with its line and stops', () => {
    const lines = withLine(4, LINES[3]!.replace('"ret":0', `"ret":${EINVAL}`));
    const rep = run(lines);
    expect(rep.ok).toBe(false);
    expect(rep.events).toBe(3);
    const { involved, ...d } = rep.divergence!;
    expect(d).toEqual({
      line: 4,
      call: 'AMDKFD_IOC_ACQUIRE_VM',
      expected: { ret: EINVAL },
      actual: { ret: 0, out: {} },
      mismatch: ['ret'],
    });
    // The caller's kfd process, and what line 4 changed: ACQUIRE_VM gives the pdd its
    // VM and takes a reference on the render-node file (spec §7.2).
    expect(involved!.processes).toMatchObject([{ pid: 100, role: 'caller', process: { kind: 'kfd.process' } }]);
    const pdd = involved!.changed.find((c) => c.kind === 'kfd.pdd')!;
    expect((pdd.before as { context: { drm_file: unknown } }).context.drm_file).toBeNull();
    expect((pdd.after as { context: { drm_file: unknown } }).context.drm_file).toBe('file#2');
    const file = involved!.changed.find((c) => c.id === 'file#2')!;
    expect([(file.before as { refs: number }).refs, (file.after as { refs: number }).refs]).toEqual([1, 2]);
    // Nothing that line 4 left alone is listed.
    expect(involved!.changed.some((c) => c.id === 'file#1')).toBe(false);
  });

  it("a failing ALLOC lists the handle it took in its pdd's alloc_idr among what it changed", () => {
    // Line 5 allocates the VRAM BO that line 6 maps; assert another handle to make it diverge.
    const lines = withLine(5, LINES[4]!.replace('"ret":0', `"ret":${EINVAL}`));
    const rep = run(lines);
    expect(rep.divergence?.line).toBe(5);
    const idr = rep.divergence!.involved!.changed.find((c) => c.kind === 'alloc_idr')!;
    expect(idr.id).toMatch(/^alloc_idr:kfd\.pdd#\d+$/);
    const bo = rep.divergence!.involved!.changed.find((c) => c.kind === 'kfd.bo' && c.before === undefined)!;
    expect(idr.after).toEqual({ 0: bo.id });
    expect(idr.before ?? {}).toEqual({});
  });

  it('reports a divergence of an out field', () => {
    const rep = run(withLine(6, LINES[5]!.replace('"out":{"n_success":1}', '"out":{"n_success":2}')));
    expect(rep.divergence).toMatchObject({
      line: 6,
      call: 'AMDKFD_IOC_MAP_MEMORY_TO_GPU',
      expected: { ret: 0, out: { n_success: 2 } },
      actual: { ret: 0, out: { n_success: 1 } },
      mismatch: ['out.n_success'],
    });
  });

  it('a wrong assertion after a failing call', () => {
    // Without ACQUIRE_VM the process has no VM: ALLOC (now line 4) diverges on its ret.
    const lines = [...LINES.slice(0, 3), ...LINES.slice(4)];
    const rep = run(lines.map((l) => l.replace('$5.handle', '$4.handle')));
    expect(rep.divergence?.line).toBe(4);
    expect(rep.divergence?.call).toBe('AMDKFD_IOC_ALLOC_MEMORY_OF_GPU');
    expect(rep.divergence?.expected.ret).toBe(0);
    expect(rep.divergence?.actual.ret).toBeLessThan(0);
  });

  it('compares u64 out fields exactly whatever their encoding; absent keys are not compared', () => {
    const handle = (41966n << 32n).toString();
    for (const enc of [`"0x${(41966n << 32n).toString(16)}"`, `"${handle}"`, `"0xA3EE00000000"`]) {
      const lines = withLine(5, LINES[4]!.replace('"ret":0', `"ret":0,"out":{"handle":${enc}}`));
      expect(run(lines).ok).toBe(true);
    }
    const wrong = withLine(5, LINES[4]!.replace('"ret":0', '"ret":0,"out":{"handle":"0xa3ee00000001"}'));
    expect(run(wrong).divergence?.mismatch).toEqual(['out.handle']);
  });

  it('resolves references chained through several lines and inside arrays', () => {
    const lines = [
      ...LINES.slice(0, 5),
      '{"pid":100,"call":"AMDKFD_IOC_EXPORT_DMABUF","fd":3,"args":{"handle":"$5.handle","flags":2},"ret":0,"out":{"dmabuf_fd":5}}',
      '{"pid":100,"call":"AMDKFD_IOC_GET_DMABUF_INFO","fd":3,"args":{"dmabuf_fd":"$6.dmabuf_fd"},"ret":0,"out":{"size":2097152,"gpu_id":41966}}',
      '{"pid":100,"call":"AMDKFD_IOC_MAP_MEMORY_TO_GPU","fd":3,"args":{"handle":"$5.handle","device_ids":["$7.gpu_id"]},"ret":0,"out":{"n_success":1}}',
    ];
    const { events } = readLog(lines.join('\n'), FILE);
    expect(events[6]!.refs.map((r) => [r.path, r.line, r.field])).toEqual([
      [['handle'], 5, ['handle']],
      [['device_ids', 0], 7, ['gpu_id']],
    ]);
    expect([...referencedLines(events)].sort()).toEqual([5, 6, 7]);
    const rep = run(lines);
    expect(rep.divergence).toBeUndefined();
    expect(rep.events).toBe(7);
  });

  it('a reference to a field missing from the actual out is bad input naming both lines', () => {
    const lines = [
      LINES[0]!,
      '{"pid":100,"call":"open","args":{"path":"/dev/dri/renderD200"},"ret":-2}',
      '{"pid":100,"call":"close","args":{"fd":"$2.fd"}}',
    ];
    let err: unknown;
    try {
      run(lines);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).message).toBe(
      `trace.jsonl:3:${lines[2]!.indexOf('"$2.fd"') + 1}: args.fd: expected field fd in the actual out of line 2 (open returned -ENOENT with out {}), found "$2.fd"`,
    );
    expect(ENOENT).toBe(-2);
  });

  it('replayFile streams the same result, and reports bad input before replaying', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-replay-'));
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, EXAMPLE);
    const rep = await replayFile(good);
    expect(rep.ok).toBe(true);
    expect(rep.events).toBe(5);

    const wrong = join(dir, 'wrong.jsonl');
    writeFileSync(wrong, `${withLine(4, LINES[3]!.replace('"ret":0', `"ret":${EINVAL}`)).join('\n')}\n`);
    expect((await replayFile(wrong)).divergence?.line).toBe(4);

    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${[...LINES, '{"pid":100,"call":"open","args":{"path":7}}'].join('\n')}\n`);
    await expect(replayFile(bad)).rejects.toThrow(`${bad}:7:`);
  });
});

describe('matches: the out comparison rule', () => {
  it('integers compare exactly across encodings', () => {
    expect(matches(1, 1n)).toBe(true);
    expect(matches(2n ** 60n, `0x${(2n ** 60n).toString(16)}`)).toBe(true);
    expect(matches('0x10', 16)).toBe(true);
    expect(matches('16', 16n)).toBe(true);
    expect(matches(2 ** 53, 2n ** 53n)).toBe(false); // not a safe integer: never equal
    expect(matches(1, 2)).toBe(false);
    expect(matches('0x10', '16')).toBe(false); // two strings compare as strings
  });

  it('objects compare the expected keys only, arrays by length and elements', () => {
    expect(matches({ a: 1 }, { a: 1n, b: 2 })).toBe(true);
    expect(matches({ a: 1, c: 3 }, { a: 1 })).toBe(false);
    expect(matches([{ a: 1 }], [{ a: 1, b: 2 }])).toBe(true);
    expect(matches([1], [1, 2])).toBe(false);
    expect(matches('00ff', Uint8Array.from([0, 255]))).toBe(true);
    expect(matches(null, 0)).toBe(false);
    expect(matches(true, true)).toBe(true);
  });
});
