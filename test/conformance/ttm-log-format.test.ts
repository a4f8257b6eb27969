/**
 * Issue 6: `ttm.backup`, `ttm.shrink` and `ttm.swapout` return the kernel's value, a
 * positive number of pages (spec A.4.2 "Return: Number of pages actually backed up or
 * freed", A.5 `ttm_tt_swapout` returns num_pages). A log must be able to assert it.
 */
import { describe, expect, it } from 'vitest';
import { readLog } from '../../src/log/reader.js';
import { replay } from '../../src/log/replay.js';
import { Sim } from './ttm-harness.js';

const LOG = [
  '{"gpucr":1,"topology":{"gpus":[]}}',
  '{"call":"ttm.create","args":{"num_pages":3,"caching":"wc","backup":true},"ret":0,"out":{"tt":1}}',
  '{"call":"ttm.populate","args":{"tt":1},"ret":0}',
  '{"call":"fault","args":{"site":"ttm.backup_page","after":2},"ret":0}',
  '{"call":"ttm.backup","args":{"tt":1},"ret":2}',
].join('\n');

describe('positive return values in logs', () => {
  it('spec A.4.2: a partial backup of 2 pages can be asserted as "ret":2', () => {
    const { header, events } = readLog(`${LOG}\n`, 'positive.jsonl');
    expect(replay(header, events).ok).toBe(true);
    // And a wrong count is a divergence.
    const wrong = readLog(`${LOG.replace('"ret":2', '"ret":3')}\n`, 'positive.jsonl');
    expect(replay(wrong.header, wrong.events).divergence?.mismatch).toEqual(['ret']);
  });

  it('spec A.4.2: the same log without the assertion replays, and the model returns 2', () => {
    const { header, events } = readLog(`${LOG.replace(',"ret":2', '')}\n`, 'positive.jsonl');
    expect(replay(header, events).ok).toBe(true);
    const s = new Sim();
    const tt = s.createTt({ num_pages: 3, caching: 'wc', backup: true });
    s.ret('ttm.populate', { tt });
    s.fault('ttm.backup_page', { after: 2 });
    expect(s.ret('ttm.backup', { tt })).toBe(2);
  });
});
