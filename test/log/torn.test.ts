/**
 * The torn-record rule (docs/log-format.md, "Torn records"): the last line of a log
 * file must end with its newline and be valid JSON; otherwise it is a write cut
 * short, reported as `file:LINE: torn last record`, and `repairLog` cuts it off.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { LogError, TornRecordError } from '../../src/log/errors.js';
import { readLogLines } from '../../src/log/read-file.js';
import { readLog } from '../../src/log/reader.js';
import { repairLog } from '../../src/log/repair.js';
import { tempDir } from '../cli/helpers.js';

const EXAMPLE = readFileSync(new URL('../fixtures/design-example.jsonl', import.meta.url), 'utf8');
const LINES = EXAMPLE.trimEnd().split('\n');
const dir = tempDir('gpucr-torn-');

async function readFile(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readLogLines(path)) n++;
  return n;
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('torn last records', () => {
  it('a last line without its newline is torn, even when it is valid JSON', async () => {
    const path = file('no-newline.jsonl', LINES.join('\n'));
    const e = await errorOf(readFile(path));
    expect(e).toBeInstanceOf(TornRecordError);
    expect(e).toBeInstanceOf(LogError);
    expect(e.message).toBe(`${path}:6: torn last record (no newline at its end; \`gpucr repair ${path}\` removes it)`);
    expect((e as TornRecordError).line).toBe(6);
  });

  it('a last line cut inside its JSON is torn; the same text before the last line is a syntax error', async () => {
    const cut = `${LINES.slice(0, 5).join('\n')}\n${LINES[5]!.slice(0, 40)}`;
    expect((await errorOf(readFile(file('cut.jsonl', cut)))).message).toMatch(/:6: torn last record \(no newline/);
    const withNewline = file('cut-nl.jsonl', `${cut}\n`);
    expect((await errorOf(readFile(withNewline))).message).toMatch(
      /:6: torn last record \(not valid JSON: column \d+: expected .*, found nothing;/,
    );
    const middle = file('middle.jsonl', `${LINES.slice(0, 4).join('\n')}\n${LINES[5]!.slice(0, 40)}\n${LINES[4]}\n`);
    const e = await errorOf(readFile(middle));
    expect(e).not.toBeInstanceOf(TornRecordError);
    expect(e.message).toMatch(/:5:\d+: JSON: expected /);
  });

  it('a torn header is reported on line 1; a blank last line is torn', async () => {
    expect((await errorOf(readFile(file('header.jsonl', LINES[0]!.slice(0, 30))))).message).toMatch(
      /:1: torn last record \(no newline/,
    );
    expect((await errorOf(readFile(file('blank.jsonl', `${EXAMPLE}\n`)))).message).toMatch(
      /:7: torn last record \(a blank line;/,
    );
  });

  it('readLog applies the rule only when asked; readLogLines always, unless told not to', async () => {
    const text = LINES.join('\n');
    expect(readLog(text, 't').events.length).toBe(5);
    expect(() => readLog(text, 't', { requireNewline: true })).toThrow(TornRecordError);
    expect(readLog(`${text}\n`, 't', { requireNewline: true }).events.length).toBe(5);
    const path = file('lenient.jsonl', text);
    let n = 0;
    for await (const _ of readLogLines(path, path, { requireNewline: false })) n++;
    expect(n).toBe(6);
  });

  it('a complete log is read whole', async () => {
    expect(await readFile(file('ok.jsonl', EXAMPLE))).toBe(6);
  });
});

describe('streamed reading names the line and column', () => {
  it('issue 4: trace.jsonl:1234:17: args.size: expected an unsigned 64-bit integer, found "0xZZ"', async () => {
    const event = '{"pid":100,"call":"AMDKFD_IOC_GET_VERSION","fd":3,"args":{}}';
    const bad = '{"args":{"size":"0xZZ"},"pid":100,"call":"AMDKFD_IOC_ALLOC_MEMORY_OF_GPU","fd":3}';
    const ls = [LINES[0]!, ...Array.from({ length: 1232 }, () => event), bad, event];
    const path = file('long.jsonl', `${ls.join('\n')}\n`);
    let n = 0;
    const e = await errorOf(
      (async () => {
        for await (const _ of readLogLines(path, 'trace.jsonl')) n++;
      })(),
    );
    expect(e.message).toBe('trace.jsonl:1234:17: args.size: expected an unsigned 64-bit integer, found "0xZZ"');
    // Every line before it was read and validated first.
    expect(n).toBe(1233);
  });
});

describe('repairLog', () => {
  it('cuts a torn last line off, keeping every complete record', async () => {
    const path = file('repair.jsonl', `${EXAMPLE}${LINES[5]!.slice(0, 25)}`);
    const r = await repairLog(path);
    expect(r).toEqual({ removed: { line: 7, bytes: 25 }, lines: 6 });
    expect(readFileSync(path, 'utf8')).toBe(EXAMPLE);
    expect(await readFile(path)).toBe(6);
    // Nothing torn any more: a second repair changes nothing.
    expect(await repairLog(path)).toEqual({ removed: null, lines: 6 });
    expect(readFileSync(path, 'utf8')).toBe(EXAMPLE);
  });

  it('cuts an unparsable last line that has a newline, and a torn header down to an empty file', async () => {
    const path = file('repair-nl.jsonl', `${EXAMPLE}{"pid":1,\n`);
    expect((await repairLog(path)).removed).toEqual({ line: 7, bytes: 10 });
    expect(readFileSync(path, 'utf8')).toBe(EXAMPLE);
    const header = file('repair-header.jsonl', '{"gpucr":1,"topo');
    expect(await repairLog(header)).toEqual({ removed: { line: 1, bytes: 16 }, lines: 0 });
    expect(readFileSync(header, 'utf8')).toBe('');
  });

  it('leaves a log alone when a line before the last is invalid, and reports it as bad input', async () => {
    const text = `${LINES[0]}\n{"pid":1,"call":"nope"}\n${LINES[1]!.slice(0, 10)}`;
    const path = file('repair-bad.jsonl', text);
    const e = await errorOf(repairLog(path));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/:2:\d+: call: expected a call gpucr models/);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('a missing file is bad input', async () => {
    const e = await errorOf(repairLog(join(dir, 'missing.jsonl')));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/expected a readable and writable log file, found "ENOENT"/);
  });
});
