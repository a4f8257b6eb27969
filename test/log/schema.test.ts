/**
 * docs/log-format.schema.json (JSON Schema draft 2020-12) against every example log
 * and test fixture, and against lines the reader refuses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/errors.js';
import { readLog } from '../../src/log/reader.js';
import { ROOT } from '../cli/helpers.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs/log-format.schema.json'), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(schema);
const id = schema.$id as string;
const header = ajv.getSchema(`${id}#/$defs/header`)!;
const event = ajv.getSchema(`${id}#/$defs/event`)!;
const line = ajv.getSchema(id)!;

function logs(): string[] {
  const out: string[] = [];
  for (const dir of ['docs/examples', 'test/fixtures']) {
    for (const f of readdirSync(join(ROOT, dir))) if (f.endsWith('.jsonl')) out.push(join(dir, f));
  }
  return out.sort();
}

describe('the log format schema', () => {
  it('is a valid draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('accepts every line of every example log and fixture', () => {
    const files = logs();
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) {
      const lines = readFileSync(join(ROOT, f), 'utf8').trimEnd().split('\n');
      lines.forEach((text, i) => {
        const v = JSON.parse(text) as unknown;
        const validate = i === 0 ? header : event;
        expect(validate(v), `${f}:${i + 1}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        expect(line(v)).toBe(true);
      });
    }
  });

  it('accepts a GPU’s XGMI hive, as the reader does', () => {
    const text = '{"gpucr":1,"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"hive_id":"0xfeed"}]}}';
    expect(header(JSON.parse(text) as unknown)).toBe(true);
    expect(readLog(text, 't').header.topology.gpus[0]!.hive_id).toBe(0xfeedn);
  });

  it('refuses lines the reader refuses for their structure', () => {
    const HEADER = '{"gpucr":1,"topology":{"gpus":[{"gpu_id":4660,"render_minor":128}]}}';
    const bad: [string, 'header' | 'event'][] = [
      ['{"gpucr":2,"topology":{"gpus":[]}}', 'header'],
      ['{"gpucr":1,"topology":{"gpus":[]},"seeds":1}', 'header'],
      ['{"gpucr":1,"topology":{"gpus":[{"gpu_id":1}]}}', 'header'],
      ['{"gpucr":1,"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"vram_size":"0xZZ"}]}}', 'header'],
      ['{"gpucr":1,"topology":{"gpus":[]},"snapshot":"md5:00"}', 'header'],
      ['{"gpucr":1,"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"hive_id":0}]}}', 'header'],
      ['{"gpucr":1,"topology":{"gpus":[{"gpu_id":1,"render_minor":128,"hive_id":"0x00"}]}}', 'header'],
      ['{"pid":1}', 'event'],
      ['{"pid":0,"call":"open"}', 'event'],
      ['{"pid":1,"call":"open","ret":2147483648}', 'event'],
      ['{"pid":1,"call":"open","ret":-4096}', 'event'],
      ['{"pid":1,"call":"open","fd":"1:"}', 'event'],
      ['{"pid":1,"call":"open","by":1}', 'event'],
      ['{"pid":1,"call":"open","extra":1}', 'event'],
      ['{"pid":1,"call":"open","args":{"__proto__":1}}', 'event'],
      ['{"pid":1,"call":"open","args":{"a":{"constructor":{}}}}', 'event'],
      ['{"pid":1,"call":"open","args":{"path":"$5"}}', 'event'],
      ['{"pid":1,"call":"open","args":{"path":["$05.x"]}}', 'event'],
      ['{"pid":1,"call":"open","out":{"fd":"$2.fd"}}', 'event'],
      ['{"pid":1,"call":"not a name"}', 'event'],
    ];
    for (const [text, kind] of bad) {
      const v = JSON.parse(text) as unknown;
      expect((kind === 'header' ? header : event)(v), text).toBe(false);
      const log = kind === 'header' ? text : `${HEADER}\n${text}`;
      expect(() => readLog(log, 't'), text).toThrow(LogError);
    }
  });
});
