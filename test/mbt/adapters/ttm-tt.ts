/**
 * Adapters for ttm_tt (machines/ttm/tt.ts), driven through the `ttm.*` events and
 * `gpu_write`, with faults armed by `fault` events:
 *
 *   POPULATE         ← ttm.populate (a SWAPPED tt: with its swapin, site ttm.copy_page)
 *   UNPOPULATE       ← ttm.unpopulate
 *   BACKUP           ← ttm.backup; ttm.shrink (same tt effect, errors mapped to -EBUSY but -EINTR)
 *   RESTORE          ← ttm.restore
 *   CLEAR_BACKED_UP  ← ttm.clear_backed_up
 *   SWAPOUT          ← ttm.swapout (legacy tts only)
 *   FINI             ← ttm.fini
 *   WRITE            ← gpu_write {tt}
 *
 * Each sample event carries the fault plan the handler will hand the machine: the macro
 * disarms every site, arms exactly the sites of the plan, then issues the call, and
 * checks the call's return value against the machine's algorithm for that event.
 * Two model instances: a backup-capable tt (as Xe creates them) and a legacy one.
 */
import type { TtContext, TtInput } from '../../../machines/ttm/pool.js';
import { type TtEvent, ttMachine, ttResult } from '../../../machines/ttm/tt.js';
import type { Adapter, Macro, MacroRun } from '../../../src/mbt/run.js';
import type { FaultPlan } from '../../../src/world/faults.js';
import { Sim } from '../../conformance/ttm-harness.js';

export class TtmSut extends Sim {
  subject: string | undefined;
}

type Env = Record<string, never>;

const EINTR = 4;
const ENOMEM = 12;
const ENOSPC = 28;

const plan = (site: keyof FaultPlan, errno: number, after: number, count = 1): FaultPlan => ({
  [site]: { errno, after, count },
});

/** Arm exactly the plan of the model event, then issue `call`; check its return value. */
function issue(
  call: string,
  args: Record<string, unknown>,
  expect: (r: number, model: number) => boolean = (r, m) => r === m,
) {
  return (s: TtmSut, m: MacroRun<Env>) => {
    const e = m.events[0] as TtEvent;
    s.disarm();
    if ('faults' in e)
      for (const [site, f] of Object.entries(e.faults))
        s.fault(site, { errno: String(f!.errno), after: f!.after, count: f!.count });
    const model = ttResult(m.before.context as TtContext, e).ret;
    const extra =
      e.type === 'WRITE'
        ? { page: e.page, value: e.value }
        : e.type === 'BACKUP'
          ? { purge: e.purge, writeback: e.writeback }
          : {};
    const r = s.ret(call, { tt: 1, ...args, ...extra });
    if (!expect(r, model)) throw new Error(`${call} returned ${r}, the machine's algorithm ${model}`);
  };
}

const macros: Macro<TtmSut, Env>[] = [
  { name: 'ttm.populate', effect: ['POPULATE'], run: issue('ttm.populate', {}) },
  { name: 'ttm.unpopulate', effect: ['UNPOPULATE'], run: issue('ttm.unpopulate', {}) },
  { name: 'ttm.backup', effect: ['BACKUP'], run: issue('ttm.backup', {}) },
  {
    name: 'ttm.shrink',
    effect: ['BACKUP'],
    // spec A.6.1: every negative result but -EINTR becomes -EBUSY.
    run: issue('ttm.shrink', {}, (r, m) => r === (m < 0 && m !== -EINTR ? -16 : m)),
  },
  { name: 'ttm.restore', effect: ['RESTORE'], run: issue('ttm.restore', { interruptible: true }) },
  { name: 'ttm.clear_backed_up', effect: ['CLEAR_BACKED_UP'], run: issue('ttm.clear_backed_up', {}) },
  { name: 'ttm.swapout', effect: ['SWAPOUT'], run: issue('ttm.swapout', {}) },
  { name: 'ttm.fini', effect: ['FINI'], run: issue('ttm.fini', {}) },
  { name: 'gpu_write', effect: ['WRITE'], run: issue('gpu_write', {}) },
];

/** The context without page ids (a page is its content; the ledger its counts). */
export function abstractTt(c: TtContext): unknown {
  return {
    ...c,
    slots: c.slots.map((s) => (s === null ? null : s.t === 'page' ? { p: s.v } : { h: s.h })),
    ledger: { live: Object.keys(c.ledger.live).length, bad_frees: c.ledger.bad_frees, bad_drops: c.ledger.bad_drops },
    restore: c.restore ? { ...c.restore, block: c.restore.block ? c.restore.block.values : null } : null,
  };
}

const common: TtEvent[] = [
  { type: 'POPULATE', faults: {} },
  // two pages: the order-1 block fails, the order-0 retry fails too → -ENOMEM, nothing kept
  { type: 'POPULATE', faults: plan('ttm.alloc', ENOMEM, 0, 2) },
  // the order-1 block fails, two order-0 blocks succeed
  { type: 'POPULATE', faults: plan('ttm.alloc', ENOMEM, 0, 1) },
  { type: 'UNPOPULATE' },
  { type: 'BACKUP', purge: false, writeback: false, faults: {} },
  { type: 'BACKUP', purge: true, writeback: false, faults: {} },
  { type: 'BACKUP', purge: false, writeback: true, faults: plan('ttm.backup_page', ENOSPC, 1) },
  { type: 'BACKUP', purge: false, writeback: false, faults: plan('ttm.backup_page', EINTR, 0) },
  { type: 'BACKUP', purge: false, writeback: false, faults: plan('ttm.no_swap', ENOSPC, 0) },
  { type: 'RESTORE', interruptible: true, faults: {} },
  { type: 'RESTORE', interruptible: true, faults: plan('ttm.copy_page', EINTR, 0) },
  { type: 'RESTORE', interruptible: true, faults: plan('ttm.copy_page', EINTR, 1) },
  { type: 'RESTORE', interruptible: true, faults: plan('ttm.restore_alloc', ENOMEM, 0) },
  { type: 'RESTORE', interruptible: true, faults: plan('ttm.restore_alloc', ENOMEM, 1, 2) },
  { type: 'CLEAR_BACKED_UP' },
  { type: 'FINI' },
  { type: 'WRITE', page: 0, value: 7 },
  { type: 'WRITE', page: 1, value: 9 },
];

function adapter(name: string, input: TtInput, events: TtEvent[]): Adapter<TtmSut, Env> {
  return {
    name,
    machine: ttMachine,
    input,
    events,
    abstract: abstractTt as never,
    project: abstractTt as never,
    initialEnv: {},
    macros,
    setup: () => {
      const s = new TtmSut({ ttm: input.variant });
      const tt = s.createTt({
        num_pages: input.num_pages,
        caching: input.caching,
        backup: input.backup,
        dma_alloc: input.dma_alloc,
      });
      s.subject = `ttm.tt#${tt}`;
      return s;
    },
    subject: (s) => s.subject,
  };
}

/** A backup-capable tt of two pages (one order-1 block): every backup and restore path. */
export const backupTtAdapter = adapter(
  'ttm_tt (backup-capable, 2 pages)',
  { num_pages: 2, caching: 'wc', dma_alloc: false, backup: true, variant: 'fixed' },
  [...common, { type: 'SWAPOUT', faults: {} }],
);

/** A legacy tt (no backup file, not EXTERNAL): the swap file path. */
export const legacyTtAdapter = adapter(
  'ttm_tt (legacy swap, 2 pages)',
  { num_pages: 2, caching: 'cached', dma_alloc: false, backup: false, variant: 'fixed' },
  [
    { type: 'POPULATE', faults: {} },
    { type: 'POPULATE', faults: plan('ttm.copy_page', ENOMEM, 1) },
    { type: 'POPULATE', faults: plan('ttm.alloc', ENOMEM, 0, 2) },
    { type: 'UNPOPULATE' },
    { type: 'BACKUP', purge: false, writeback: false, faults: {} },
    { type: 'SWAPOUT', faults: {} },
    { type: 'SWAPOUT', faults: plan('ttm.backup_page', ENOSPC, 1) },
    { type: 'CLEAR_BACKED_UP' },
    { type: 'FINI' },
    { type: 'WRITE', page: 1, value: 5 },
  ],
);
