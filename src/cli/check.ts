/**
 * `gpucr check`: exhaustive exploration with TLC/SPIN-style statistics (docs/cli.md).
 * This revision explores the reference toy model (`--model toy --k K`); composed
 * driver worlds come with the invariant and event-generator work of issue 7.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { type ExploreResult, exploreNumeric } from '../explore/bfs.js';
import { toyModel } from '../explore/toy.js';

interface CheckOptions {
  model?: string;
  k?: string;
  json?: boolean;
  maxStates?: string;
  maxDepth?: string;
}

function positive(v: string | undefined, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new InputError(name, `an integer from 1 to ${max}`, v);
  return Number(v);
}

export function checkReport(r: ExploreResult) {
  return {
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: Number(r.seconds.toFixed(3)),
    states_per_second: Math.round(r.states / Math.max(r.seconds, 1e-9)),
    memory_bytes: r.memoryBytes,
    limited: r.limited,
    violations: r.violation ? [{ invariant: r.violation.invariant, path: r.violation.path }] : [],
  };
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('explore every reachable state of a model and check its invariants')
    .option('--model <name>', 'the model to explore: toy (K BOs × {none, allocated, mapped, exported})')
    .option('--k <K>', 'number of BOs of the toy model (1..26)')
    .option('--max-states <n>', 'stop after this many distinct states and report')
    .option('--max-depth <n>', 'stop at this depth and report')
    .option('--json', 'print a machine-readable report')
    .action((opts: CheckOptions) => {
      if (opts.model !== 'toy') throw new InputError('--model', 'toy', opts.model);
      const k = positive(opts.k ?? '10', '--k', 26)!;
      const maxStates = positive(opts.maxStates, '--max-states', 2 ** 31 - 1);
      const maxDepth = positive(opts.maxDepth, '--max-depth', 2 ** 31 - 1);
      const tty = process.stderr.isTTY && !opts.json;
      const r = exploreNumeric(toyModel(k), {
        ...(maxStates ? { maxStates } : {}),
        ...(maxDepth ? { maxDepth } : {}),
        ...(tty
          ? {
              onProgress: (s: number, t: number, d: number) =>
                process.stderr.write(
                  `\r${s.toLocaleString('en-US')} states, ${t.toLocaleString('en-US')} transitions, depth ${d}`,
                ),
              progressEvery: 1 << 17,
            }
          : {}),
      });
      if (tty) process.stderr.write('\r\x1b[K');
      const report = { model: 'toy', k, ...checkReport(r) };
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const n = (x: number) => x.toLocaleString('en-US');
        process.stdout.write(
          [
            `model toy, K = ${k}${r.limited ? ` (stopped by the ${r.limited} limit)` : ''}`,
            `${n(r.states)} distinct states, ${n(r.transitions)} transitions, depth ${r.depth}`,
            `${r.seconds.toFixed(3)} s, ${n(report.states_per_second)} states/s, ${(r.memoryBytes / 2 ** 20).toFixed(1)} MiB`,
            r.violation ? `violation of ${r.violation.invariant}: ${r.violation.path.join(' → ')}` : 'no violation',
          ].join('\n') + '\n',
        );
      }
      process.exitCode = r.violation ? 1 : 0;
    });
}
