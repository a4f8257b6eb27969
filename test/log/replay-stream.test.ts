/**
 * Replay of a file in one streaming pass (src/log/replay.ts replayFile, docs/log-format.md
 * "Replay"): a byte scan finds the referenced lines before anything is parsed, every line
 * is validated when the replay reaches it, and a log the scan cannot trust (`\u` escapes)
 * is validated in a first pass instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/errors.js';
import { readLogBatches, referencedLinesOfFile } from '../../src/log/read-file.js';
import { readLog } from '../../src/log/reader.js';
import { replayFile } from '../../src/log/replay.js';
import { tempDir } from '../cli/helpers.js';

const EXAMPLE = readFileSync(new URL('../fixtures/design-example.jsonl', import.meta.url), 'utf8');
const LINES = EXAMPLE.trimEnd().split('\n');
const dir = tempDir('gpucr-stream-');
let n = 0;
function file(text: string): string {
  const path = join(dir, `log-${n++}.jsonl`);
  writeFileSync(path, text);
  return path;
}

/** The references a full parse finds (the reader's own answer). */
function parsedRefs(text: string): Set<number> {
  return new Set(readLog(text, 'x').events.flatMap((e) => e.refs.map((r) => r.line)));
}

describe('replayFile: one pass, references found by a byte scan', () => {
  it('the design example line 6 refers to line 5: the scan finds exactly that', async () => {
    expect(await referencedLinesOfFile(file(EXAMPLE))).toEqual(new Set([5]));
  });

  it('the scan finds every reference of a log larger than its 1 MiB chunk, wherever the chunks cut', async () => {
    const version = '{"pid":100,"call":"AMDKFD_IOC_GET_VERSION","fd":3,"args":{}}';
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 80 }), async (pad) => {
        // Padding shifts every line, so each run cuts the chunks at other places.
        const lines = [...LINES.slice(0, 5), `${version}${' '.repeat(pad)}`];
        for (let bytes = 0; bytes < 2.2 * 2 ** 20; bytes += version.length + 1) {
          lines.push(version);
          if (lines.length % 997 === 0)
            lines.push(
              `{"pid":100,"call":"AMDKFD_IOC_MAP_MEMORY_TO_GPU","fd":3,"args":{"handle":"$5.handle","device_ids":[41966],"n_success":0},"ret":-22}`,
            );
          if (lines.length % 1499 === 0)
            lines.push(`{"pid":100,"call":"AMDKFD_IOC_GET_VERSION","fd":3,"args":{},"ret":0}`);
        }
        const text = `${lines.join('\n')}\n`;
        expect(await referencedLinesOfFile(file(text))).toEqual(parsedRefs(text));
      }),
      { numRuns: 8, seed: 4 },
    );
  });

  it('a reference spelled with \\u escapes is not trusted to the scan: the log is validated first and replays', async () => {
    const escaped = LINES.map((l, i) => (i === 5 ? l.replace('"$5.handle"', '"\\u00245.handle"') : l));
    const text = `${escaped.join('\n')}\n`;
    const path = file(text);
    expect(await referencedLinesOfFile(path)).toBeNull();
    expect(parsedRefs(text)).toEqual(new Set([5]));
    const rep = await replayFile(path);
    expect(rep.ok).toBe(true);
    expect(rep.events).toBe(LINES.length - 1);
  });

  it('a malformed line is bad input when the replay reaches it; the lines before it were replayed', async () => {
    const path = file(`${[...LINES, '{"pid":100,"call":"nope"}'].join('\n')}\n`);
    const err = await replayFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).message).toBe(`${path}:7:19: call: expected a call gpucr models, found "nope"`);
  });

  it('batches deliver the lines before a bad one, then the error', async () => {
    const path = file(`${[...LINES.slice(0, 3), '{"pid":100,"call":"nope"}', ...LINES.slice(3)].join('\n')}\n`);
    const seen: number[] = [];
    let err: unknown;
    try {
      for await (const batch of readLogBatches(path)) for (const i of batch) seen.push(i.event?.line ?? 1);
    } catch (e) {
      err = e;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(err).toBeInstanceOf(LogError);
  });

  it('line ends \\r\\n, \\n and a lone \\r number lines as readLog does', async () => {
    const text = `${LINES[0]}\r\n${LINES[1]}\r${LINES[2]}\n${LINES.slice(3).join('\r\n')}\n`;
    const items: number[] = [];
    for await (const batch of readLogBatches(file(text))) for (const i of batch) items.push(i.event?.line ?? 1);
    expect(items).toEqual([1, ...readLog(text, 'x').events.map((e) => e.line)]);
    expect(items).toHaveLength(LINES.length);
  });
});
