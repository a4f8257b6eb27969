import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { LogError } from '../../src/log/errors.js';
import { replay } from '../../src/log/replay.js';
import { type LogHeader, type LogItem, type LogLine, readLog, VARIANT_VALUES } from '../../src/log/reader.js';
import { readLogLines } from '../../src/log/read-file.js';

const EXAMPLE = readFileSync(new URL('../fixtures/design-example.jsonl', import.meta.url), 'utf8');
const LINES = EXAMPLE.trimEnd().split('\n');
const HEADER = LINES[0]!;
const FILE = 'trace.jsonl';

/** The LogError that reading these lines raises. */
function errorOf(lines: string[]): LogError {
  try {
    readLog(lines.join('\n'), FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(LogError);
    expect(e).toBeInstanceOf(InputError);
    return e as LogError;
  }
  throw new Error('expected the log to be rejected');
}

/** 1-based column of `needle` in `line` (the first occurrence). */
function col(line: string, needle: string): number {
  const i = line.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in ${line}`);
  return i + 1;
}

/** The example with line `n` (1-based) replaced. */
function withLine(n: number, text: string): string[] {
  const lines = [...LINES];
  lines[n - 1] = text;
  return lines;
}

describe('readLog: the design example', () => {
  const { header, events } = readLog(EXAMPLE, 'design-example.jsonl');

  it('reads the header with topology defaults', () => {
    expect(header.gpucr).toBe(1);
    expect(header.variants).toEqual({});
    expect(header.topology.page_size).toBe(4096);
    expect(header.topology.processes).toEqual([]);
    const gpu = header.topology.gpus[0]!;
    expect(gpu.gpu_id).toBe(41966);
    expect(gpu.render_minor).toBe(128);
    expect(gpu.vram_size).toBe(17179869184n);
    expect(gpu.doorbell_slice_size).toBe(8192);
    expect(gpu.xnack_capable).toBe(false);
    expect(gpu.large_bar).toBe(true);
  });

  it('reads five events with their line numbers', () => {
    expect(events.map((e) => [e.line, e.call])).toEqual([
      [2, 'open'],
      [3, 'open'],
      [4, 'AMDKFD_IOC_ACQUIRE_VM'],
      [5, 'AMDKFD_IOC_ALLOC_MEMORY_OF_GPU'],
      [6, 'AMDKFD_IOC_MAP_MEMORY_TO_GPU'],
    ]);
    expect(events.every((e) => e.pid === 100)).toBe(true);
  });

  it('decodes args by schema and assertions', () => {
    const [open, , acquire, alloc] = events as [LogLine, LogLine, LogLine, LogLine];
    expect(open.args?.path).toBe('/dev/kfd');
    expect(open.ret).toBe(0);
    expect(open.out).toEqual({ fd: 3 });
    expect(acquire.fd).toBe(3);
    expect(acquire.args).toEqual({ drm_fd: 4, gpu_id: 41966 });
    expect(acquire.out).toBeUndefined();
    expect(alloc.args?.va_addr).toBe(0x7f0000000000n);
    expect(alloc.args?.size).toBe(2097152n);
    expect(typeof alloc.args?.flags).toBe('number');
    expect(alloc.args?.handle).toBe(0n); // absent fields are zero, as in a zeroed struct
  });

  it('keeps the $5.handle reference for replay', () => {
    const map = events[4]!;
    expect(map.args).toBeUndefined();
    expect(map.rawArgs).toEqual({ handle: '$5.handle', device_ids: [41966], n_success: 0 });
    expect(map.refs).toEqual([
      {
        path: ['handle'],
        line: 5,
        field: ['handle'],
        text: '$5.handle',
        column: col(LINES[5]!, '"$5.handle"'),
      },
    ]);
    expect(map.out).toEqual({ n_success: 1 });
  });

  it('accepts CRLF line ends and a missing final newline', () => {
    expect(readLog(LINES.join('\r\n'), FILE).events).toHaveLength(5);
    expect(readLog(LINES.join('\n'), FILE).events).toHaveLength(5);
  });

  it('reads fd references to another process and by', () => {
    const lines = [
      HEADER,
      '{"pid":100,"call":"open","args":{"path":"/dev/kfd"}}',
      '{"pid":200,"call":"AMDKFD_IOC_GET_VERSION","fd":"100:3","by":2}',
    ];
    const ev = readLog(lines.join('\n'), FILE).events[1]!;
    expect(ev.fd).toEqual({ pid: 100, fd: 3 });
    expect(ev.by).toBe(2);
  });

  it('reads a header with processes, variants and seed', () => {
    const h = JSON.parse(HEADER) as Record<string, unknown>;
    const text = JSON.stringify({
      ...h,
      processes: [{ pid: 200, caps: [], ptrace_parent: 100 }],
      variants: { kernel: '6.17', 'kfd-restore-devices': 'fget-leak', max_gpu_instance: 16 },
      seed: 7,
    });
    const header: LogHeader = readLog(text, FILE).header;
    expect(header.topology.processes).toEqual([{ pid: 200, caps: [], ptrace_parent: 100 }]);
    expect(header.variants).toEqual({
      kernel: '6.17',
      'kfd-restore-devices': 'fget-leak',
      max_gpu_instance: 16,
    });
    expect(header.seed).toBe(7);
  });

  it('decodes expected out values by type (0x strings, decimal strings, numbers)', () => {
    const line =
      '{"pid":100,"call":"AMDKFD_IOC_ALLOC_MEMORY_OF_GPU","fd":3,"args":{"size":4096,"gpu_id":41966,"flags":["GTT"]},"out":{"handle":"0xa3ee00000000","mmap_offset":"4096"}}';
    const ev = readLog([...LINES.slice(0, 4), line].join('\n'), FILE).events[3]!;
    expect(ev.out).toEqual({ handle: 0xa3ee00000000n, mmap_offset: 4096n });
  });
});

describe('readLog: bad input names file:line:column', () => {
  it('unknown key', () => {
    const line = '{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"bogus":1}';
    expect(errorOf(withLine(2, line)).message).toBe(
      `trace.jsonl:2:${col(line, '"bogus"')}: bogus: expected one of pid, call, fd, args, ret, out, by, found "bogus"`,
    );
  });

  it('unknown key in args', () => {
    const line = '{"pid":100,"call":"open","args":{"path":"/dev/kfd","mode":1}}';
    const e = errorOf(withLine(2, line));
    expect(e.message).toBe(
      `trace.jsonl:2:${col(line, '"mode"')}: args.mode: expected one of path, flags, found "mode"`,
    );
    expect([e.file, e.line, e.column, e.path]).toEqual([FILE, 2, col(line, '"mode"'), 'args.mode']);
  });

  it('unknown key in out', () => {
    const line = '{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"out":{"fd":3,"handle":1}}';
    expect(errorOf(withLine(2, line)).message).toBe(
      `trace.jsonl:2:${col(line, '"handle"')}: out.handle: expected one of fd (the out fields of open), found "handle"`,
    );
  });

  it('unknown call', () => {
    const line = '{"pid":100,"call":"AMDKFD_IOC_NOPE","fd":3}';
    expect(errorOf(withLine(4, line)).message).toBe(
      `trace.jsonl:4:${col(line, '"AMDKFD_IOC_NOPE"')}: call: expected a call gpucr models, found "AMDKFD_IOC_NOPE"`,
    );
  });

  it('missing call', () => {
    expect(errorOf(withLine(2, '{"pid":100}')).message).toBe(
      'trace.jsonl:2:1: call: expected a call name, found nothing',
    );
  });

  it('bad u64 "0xZZ"', () => {
    const line = LINES[4]!.replace('"size":2097152', '"size":"0xZZ"');
    expect(errorOf(withLine(5, line)).message).toBe(
      `trace.jsonl:5:${col(line, '"0xZZ"')}: args.size: expected an unsigned 64-bit integer, found "0xZZ"`,
    );
  });

  it('negative u32', () => {
    const line = LINES[3]!.replace('"gpu_id":41966', '"gpu_id":-1');
    expect(errorOf(withLine(4, line)).message).toBe(
      `trace.jsonl:4:${col(line, '-1')}: args.gpu_id: expected an unsigned 32-bit integer, found -1`,
    );
  });

  it('unknown flag name inside a list', () => {
    const line = LINES[4]!.replace('"WRITABLE"', '"WRITEABLE"');
    expect(errorOf(withLine(5, line)).message).toBe(
      `trace.jsonl:5:${col(line, '"WRITEABLE"')}: args.flags[1]: expected a flag name of KFD_IOC_ALLOC_MEM_FLAGS_*, found "WRITEABLE"`,
    );
  });

  it('bad value in a line with a reference is found at read time', () => {
    const line = LINES[5]!.replace('"n_success":0', '"n_success":-3');
    expect(errorOf(withLine(6, line)).message).toBe(
      `trace.jsonl:6:${col(line, '-3')}: args.n_success: expected an unsigned 32-bit integer, found -3`,
    );
  });

  it('forward reference', () => {
    const line = LINES[3]!.replace('"drm_fd":4', '"drm_fd":"$5.handle"');
    expect(errorOf(withLine(4, line)).message).toBe(
      `trace.jsonl:4:${col(line, '"$5.handle"')}: args.drm_fd: expected a reference to an earlier line (2..3), found "$5.handle"`,
    );
  });

  it('reference to the same line', () => {
    const line = LINES[5]!.replace('$5.handle', '$6.handle');
    expect(errorOf(withLine(6, line)).message).toContain(
      ': args.handle: expected a reference to an earlier line (2..5)',
    );
  });

  it('reference beyond the end of the file', () => {
    const line = LINES[5]!.replace('$5.handle', '$99.handle');
    expect(errorOf(withLine(6, line)).message).toBe(
      `trace.jsonl:6:${col(line, '"$99')}: args.handle: expected a reference to an earlier line (2..5) (the file has 6 lines), found "$99.handle"`,
    );
  });

  it('reference to the header', () => {
    const line = LINES[5]!.replace('$5.handle', '$1.gpucr');
    expect(errorOf(withLine(6, line)).message).toBe(
      `trace.jsonl:6:${col(line, '"$1.gpucr"')}: args.handle: expected a reference to an event line (line 1 is the header, it has no out), found "$1.gpucr"`,
    );
  });

  it('reference to a field the referenced call does not return', () => {
    const line = LINES[5]!.replace('$5.handle', '$5.size');
    expect(errorOf(withLine(6, line)).message).toBe(
      `trace.jsonl:6:${col(line, '"$5.size"')}: args.handle: expected a field of the out of line 5 (AMDKFD_IOC_ALLOC_MEMORY_OF_GPU: handle, mmap_offset), found "$5.size"`,
    );
  });

  it('malformed reference', () => {
    for (const bad of ['$5', '$5.', '$5..handle', '$05.handle', '$5.handle-1']) {
      const line = LINES[5]!.replace('$5.handle', bad);
      expect(errorOf(withLine(6, line)).message).toBe(
        `trace.jsonl:6:${col(line, `"${bad}"`)}: args.handle: expected a reference of the form $<line>.<field> such as "$5.handle", found "${bad}"`,
      );
    }
  });

  it('a $ string without a digit is an ordinary string', () => {
    const line = '{"pid":100,"call":"open","args":{"path":"$HOME/x"},"ret":-2}';
    expect(readLog(withLine(2, line).slice(0, 2).join('\n'), FILE).events[0]?.args?.path).toBe('$HOME/x');
  });

  it('references in out are refused', () => {
    const line = '{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"out":{"fd":"$2.fd"}}';
    expect(errorOf(withLine(3, line)).message).toBe(
      `trace.jsonl:3:${col(line, '"$2.fd"')}: out.fd: expected a value (references are resolved in args only), found "$2.fd"`,
    );
  });

  it('missing pid', () => {
    const line = '{"call":"AMDKFD_IOC_ACQUIRE_VM","fd":3,"args":{"drm_fd":4,"gpu_id":41966}}';
    expect(errorOf(withLine(4, line)).message).toBe(
      'trace.jsonl:4:1: pid: expected a pid (AMDKFD_IOC_ACQUIRE_VM is issued by a process), found nothing',
    );
  });

  it('bad pid', () => {
    const line = '{"pid":"100","call":"open","args":{"path":"/dev/kfd"}}';
    expect(errorOf(withLine(2, line)).message).toBe(
      `trace.jsonl:2:${col(line, '"100"')}: pid: expected a pid (an integer from 1 to 2147483647), found "100"`,
    );
  });

  it('bad fd strings', () => {
    for (const fd of ['"abc"', '"100:"', '"0:3"', '"100:3:4"', '-1', '1.5', '"3"']) {
      const line = `{"pid":100,"call":"AMDKFD_IOC_ACQUIRE_VM","fd":${fd},"args":{"drm_fd":4,"gpu_id":41966}}`;
      const e = errorOf(withLine(4, line));
      expect(e.message).toBe(
        `trace.jsonl:4:${col(line, `:${fd}`) + 1}: fd: expected a file descriptor: a number, or "<pid>:<fd>" for a file of another process, found ${fd}`,
      );
    }
  });

  it('ret beyond INT_MAX or below -MAX_ERRNO', () => {
    for (const bad of ['2147483648', '-4096']) {
      const line = LINES[3]!.replace('"ret":0', `"ret":${bad}`);
      expect(errorOf(withLine(4, line)).message).toBe(
        `trace.jsonl:4:${col(line, `"ret":${bad}`) + 6}: ret: expected 0, a count up to 2147483647, or a negative errno (-4095..-1), found ${bad}`,
      );
    }
  });

  it('by must name an earlier line', () => {
    const line = LINES[3]!.replace('"ret":0', '"ret":0,"by":4');
    expect(errorOf(withLine(4, line)).message).toBe(
      `trace.jsonl:4:${col(line, '"by":4') + 5}: by: expected the line of an earlier event (2..3), found 4`,
    );
    const header = LINES[3]!.replace('"ret":0', '"ret":0,"by":1');
    expect(errorOf(withLine(4, header)).message).toContain('by: expected the line of an earlier event (2..3), found 1');
  });

  it('bad JSON', () => {
    const line = '{"pid":100,"call":}';
    expect(errorOf(withLine(2, line)).message).toBe(
      `trace.jsonl:2:${col(line, '}')}: JSON: expected a JSON value, found "}"`,
    );
    const cut = LINES[2]!.slice(0, LINES[2]!.indexOf(',"ret"'));
    expect(errorOf(withLine(3, cut)).message).toBe(
      `trace.jsonl:3:${cut.length + 1}: JSON: expected ',' or '}', found nothing`,
    );
    const torn = LINES[2]!.slice(0, 30);
    expect(errorOf(withLine(3, torn)).message).toBe(
      `trace.jsonl:3:31: JSON: expected the closing '"' of a string, found nothing`,
    );
    const trailing = `${LINES[1]}x`;
    expect(errorOf(withLine(2, trailing)).message).toBe(
      `trace.jsonl:2:${trailing.length}: JSON: expected the end of the line after the JSON value, found "x"`,
    );
  });

  it('non-object line', () => {
    expect(errorOf(withLine(3, '[1,2]')).message).toBe(
      'trace.jsonl:3:1: expected an event object {"pid":…,"call":…,"args":…}, found [1,2]',
    );
    expect(errorOf(withLine(3, '42')).message).toBe(
      'trace.jsonl:3:1: expected an event object {"pid":…,"call":…,"args":…}, found 42',
    );
  });

  it('blank line', () => {
    expect(errorOf([...LINES.slice(0, 3), '', ...LINES.slice(3)]).message).toBe(
      'trace.jsonl:4:1: expected an event line (blank lines are not allowed), found ""',
    );
    expect(errorOf([...LINES, '', '']).message).toContain('trace.jsonl:7:1: expected an event line');
    expect(errorOf(withLine(3, '   ')).message).toBe(
      'trace.jsonl:3:1: expected an event line (blank lines are not allowed), found "   "',
    );
  });

  it('__proto__, constructor and prototype keys', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const line = `{"pid":100,"call":"open","args":{"path":"/dev/kfd","${key}":{"polluted":1}}}`;
      const e = errorOf(withLine(2, line));
      expect(e.message).toBe(
        `trace.jsonl:2:${col(line, `"${key}"`)}: args.${key}: expected a field name (__proto__, constructor and prototype are not field names), found "${key}"`,
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const top = '{"pid":100,"call":"open","__proto__":{"x":1}}';
    expect(errorOf(withLine(2, top)).message).toContain(
      `trace.jsonl:2:${col(top, '"__proto__"')}: __proto__: expected one of pid`,
    );
    const inOut = '{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"out":{"__proto__":1}}';
    expect(errorOf(withLine(2, inOut)).message).toContain('out.__proto__: expected a field name');
  });

  it('1000-deep nesting', () => {
    const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
    const line = `{"pid":100,"call":"AMDKFD_IOC_MAP_MEMORY_TO_GPU","fd":3,"args":{"device_ids":${deep}}}`;
    const e = errorOf(withLine(6, line));
    expect(e.message).toMatch(
      /^trace\.jsonl:6:\d+: args\.device_ids(\[0\]){63}: expected at most 64 levels of nesting, found \[/,
    );
    expect(e.column).toBe(col(line, deep) + 63);
  });

  it('very deep nesting anywhere does not crash', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const objDeep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const cases = [
      `{"pid":100,"call":"open","args":{"path":${deep}}}`,
      `{"pid":100,"call":"open","args":{"path":"/dev/kfd"},"out":{"fd":${objDeep}}}`,
      `{"pid":${deep},"call":"open"}`,
      `{"pid":100,"call":${objDeep}}`,
      `{"pid":100,"call":"open","fd":${deep}}`,
      deep,
    ];
    for (const line of cases) expect(errorOf(withLine(2, line)).line).toBe(2);
    for (const h of [
      `{"gpucr":1,"topology":{"gpus":${deep}}}`,
      `{"gpucr":1,"topology":{"gpus":[]},"processes":${deep}}`,
      `{"gpucr":1,"topology":{"gpus":[]},"variants":{"kernel":${deep}}}`,
      `{"gpucr":${deep}}`,
    ]) {
      const e = errorOf([h]);
      expect(e.line).toBe(1);
      expect(e.message.length).toBeLessThan(400);
    }
    const unclosed = '['.repeat(1_000_000);
    expect(errorOf(withLine(2, unclosed)).message).toBe(
      `trace.jsonl:2:1000001: JSON: expected a JSON value, found nothing`,
    );
  });

  it('huge inline arrays are refused', () => {
    const ids = new Array(1 << 20).fill(0);
    ids.push(0);
    const line = `{"pid":100,"call":"AMDKFD_IOC_MAP_MEMORY_TO_GPU","fd":3,"args":{"device_ids":${JSON.stringify(ids)}}}`;
    expect(errorOf(withLine(6, line)).message).toBe(
      `trace.jsonl:6:${col(line, '[0,')}: args.device_ids: expected at most 1048576 entries, found 1048577`,
    );
  });

  it('duplicate keys: the last one counts, and the column points at it', () => {
    const line = LINES[3]!.replace('"gpu_id":41966', '"gpu_id":41966,"gpu_id":"x"');
    expect(errorOf(withLine(4, line)).message).toBe(
      `trace.jsonl:4:${col(line, '"x"')}: args.gpu_id: expected an unsigned 32-bit integer, found "x"`,
    );
  });
});

describe('readLog: the header', () => {
  it('an empty file has no header', () => {
    expect(errorOf([]).message).toBe('trace.jsonl:1:1: expected a header line {"gpucr":1,"topology":…}, found nothing');
  });

  it('line 1 must be a header', () => {
    expect(errorOf(LINES.slice(1)).message).toBe(
      `trace.jsonl:1:1: expected a header line {"gpucr":1,"topology":…} on line 1, found {"pid":100,"call":"open","args":{"path":"/dev/kfd"},"ret"...`,
    );
  });

  it('gpucr must be 1', () => {
    const h = HEADER.replace('"gpucr":1', '"gpucr":2');
    expect(errorOf(withLine(1, h)).message).toBe(`trace.jsonl:1:10: gpucr: expected the log format version 1, found 2`);
  });

  it('unknown header key', () => {
    const h = HEADER.replace('"gpucr":1', '"gpucr":1,"seeds":3');
    expect(errorOf(withLine(1, h)).message).toBe(
      `trace.jsonl:1:${col(h, '"seeds"')}: seeds: expected one of gpucr, topology, processes, variants, seed, snapshot, found "seeds"`,
    );
  });

  it('topology errors point into the topology', () => {
    const h = HEADER.replace('"render_minor":128', '"render_minor":12');
    expect(errorOf(withLine(1, h)).message).toBe(
      `trace.jsonl:1:${col(h, '12,')}: topology.gpus[0].render_minor: expected a render node minor (128..255), found 12`,
    );
    const k = HEADER.replace('"xnack_capable":false', '"xnack":false');
    expect(errorOf(withLine(1, k)).message).toContain(
      `trace.jsonl:1:${col(k, '"xnack"')}: topology.gpus[0].xnack: expected one of gpu_id`,
    );
    const p = HEADER.replace('"gpucr":1', '"gpucr":1,"processes":[{"pid":-4}]');
    expect(errorOf(withLine(1, p)).message).toBe(
      `trace.jsonl:1:${col(p, '-4')}: processes[0].pid: expected an unsigned 32-bit integer, found -4`,
    );
  });

  it('variants are checked by name and value', () => {
    const bad = HEADER.replace('"gpucr":1', '"gpucr":1,"variants":{"kernel":"6.1"}');
    expect(errorOf(withLine(1, bad)).message).toBe(
      `trace.jsonl:1:${col(bad, '"6.1"')}: variants.kernel: expected one of "6.18", "6.17", found "6.1"`,
    );
    const num = HEADER.replace('"gpucr":1', '"gpucr":1,"variants":{"max_gpu_instance":"64"}');
    expect(errorOf(withLine(1, num)).message).toContain(
      'variants.max_gpu_instance: expected one of 64, 16, found "64"',
    );
    const unknown = HEADER.replace('"gpucr":1', '"gpucr":1,"variants":{"no-such-variant":"fixed"}');
    expect(errorOf(withLine(1, unknown)).message).toBe(
      `trace.jsonl:1:${col(unknown, '"no-such-variant"')}: variants.no-such-variant: expected one of ${Object.keys(VARIANT_VALUES).join(', ')}, found "no-such-variant"`,
    );
  });

  it('seed is a non-negative integer', () => {
    const bad = HEADER.replace('"gpucr":1', '"gpucr":1,"seed":-1');
    expect(errorOf(withLine(1, bad)).message).toBe(
      `trace.jsonl:1:${col(bad, '-1')}: seed: expected a non-negative integer up to 2^53-1, found -1`,
    );
  });
});

describe('readLogLines: streaming', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-reader-'));

  async function collect(path: string): Promise<LogItem[]> {
    const items: LogItem[] = [];
    for await (const item of readLogLines(path)) items.push(item);
    return items;
  }

  it('yields the same header and events as readLog', async () => {
    const path = join(dir, 'example.jsonl');
    writeFileSync(path, EXAMPLE);
    const items = await collect(path);
    const whole = readLog(EXAMPLE, path);
    expect(items[0]?.header).toEqual(whole.header);
    expect(items.slice(1).map((i) => i.event)).toEqual(whole.events);
  });

  it('reports errors with the path and line, after the lines before it', async () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, [...LINES.slice(0, 3), '{"pid":100,"call":"nope"}', ...LINES.slice(3)].join('\n'));
    const seen: number[] = [];
    const err = await (async () => {
      try {
        for await (const item of readLogLines(path)) seen.push(item.event?.line ?? 1);
      } catch (e) {
        return e as LogError;
      }
      return undefined;
    })();
    expect(seen).toEqual([1, 2, 3]);
    expect(err).toBeInstanceOf(LogError);
    expect(err?.message).toBe(`${path}:4:19: call: expected a call gpucr models, found "nope"`);
  });

  it('an empty file and a missing file are bad input', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await expect(collect(empty)).rejects.toThrow(`${empty}:1:1: expected a header line`);
    await expect(collect(join(dir, 'missing.jsonl'))).rejects.toThrow(InputError);
    await expect(collect(join(dir, 'missing.jsonl'))).rejects.toThrow('expected a readable log file, found "ENOENT"');
    await expect(collect(dir)).rejects.toThrow('expected a readable log file, found "EISDIR"');
  });
});

describe('random mutations of the design example', () => {
  it('never raise anything but bad input, and every message carries file:line:column', () => {
    let seed = 20250101;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '{}[]",:0123456789-$.x\n \\_aeKV';
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const chars = [...EXAMPLE];
      for (let j = 1 + rnd(3); j > 0; j--) {
        const p = rnd(chars.length);
        const op = rnd(3);
        if (op === 0) chars.splice(p, 1);
        else if (op === 1) chars.splice(p, 0, alphabet[rnd(alphabet.length)]!);
        else chars[p] = alphabet[rnd(alphabet.length)]!;
      }
      const text = chars.join('');
      try {
        const { header, events } = readLog(text, FILE);
        replay(header, events, { file: FILE });
        accepted++;
      } catch (e) {
        if (!(e instanceof LogError))
          throw new Error(`not a LogError for ${JSON.stringify(text)}: ${(e as Error).stack}`);
        expect(e.message).toMatch(/^trace\.jsonl:\d+:\d+: /);
        const line = text.split(/\r\n|\n|\r/)[e.line - 1] ?? '';
        expect(e.column).toBeGreaterThanOrEqual(1);
        expect(e.column).toBeLessThanOrEqual(line.length + 1);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});
