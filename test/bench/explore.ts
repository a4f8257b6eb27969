/**
 * Explorer benchmark on the reference toy model, one run: gpucr at K = 6, 7, 10;
 * xstate/graph's getShortestPaths at the K it finishes in reasonable time (6, 7); SPIN
 * (BFS, no partial-order reduction) at K = 10 on the equivalent Promela model when
 * `spin` and `gcc` are installed (`apt-get install spin`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getShortestPaths } from 'xstate/graph';
import { exploreNumeric } from '../../src/explore/bfs.js';
import { toyMachine, toyModel, toyPromela } from '../../src/explore/toy.js';

function seconds<T>(f: () => T): { s: number; v: T } {
  const t0 = process.hrtime.bigint();
  const v = f();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, v };
}

function spin(k: number): { s: number; states: number; transitions: number } | string {
  if (spawnSync('spin', ['-V']).status !== 0) return 'spin not installed (apt-get install spin)';
  const dir = mkdtempSync(join(tmpdir(), 'gpucr-spin-'));
  try {
    writeFileSync(join(dir, 'toy.pml'), toyPromela(k));
    execFileSync('spin', ['-a', 'toy.pml'], { cwd: dir, stdio: 'ignore' });
    execFileSync('gcc', ['-O2', '-DBFS', '-DSAFETY', '-DNOREDUCE', '-DMEMLIM=8000', '-o', 'pan', 'pan.c'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const run = seconds(() => execFileSync('./pan', ['-m100000'], { cwd: dir, encoding: 'utf8' }));
    const states = Number(/(\d+) states, stored/.exec(run.v)?.[1]);
    const transitions = Number(/(\d+) transitions/.exec(run.v)?.[1]);
    return { s: run.s, states, transitions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function exploreBench(): void {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log('explorer benchmark: toy model, K BOs × {none, allocated, mapped, exported}');
  const gp: Record<number, number> = {};
  for (const k of [6, 7, 10]) {
    const r = exploreNumeric(toyModel(k));
    gp[k] = r.seconds;
    console.log(
      `  gpucr        K=${String(k).padStart(2)} ${n(r.states).padStart(10)} states ${n(r.transitions).padStart(11)} transitions ${r.seconds.toFixed(3).padStart(8)} s ${n(r.states / r.seconds).padStart(10)} states/s`,
    );
  }
  for (const k of [6, 7]) {
    const r = seconds(() => getShortestPaths(toyMachine(k)));
    console.log(
      `  xstate/graph K=${String(k).padStart(2)} ${n(r.v.length).padStart(10)} states ${''.padStart(23)} ${r.s.toFixed(3).padStart(8)} s ${n(r.v.length / r.s).padStart(10)} states/s  → gpucr is ${(r.s / gp[k]!).toFixed(0)}× faster (bar ≥ 100×)`,
    );
  }
  const s = spin(10);
  if (typeof s === 'string') console.log(`  SPIN: ${s}`);
  else
    console.log(
      `  SPIN         K=10 ${n(s.states).padStart(10)} states ${n(s.transitions).padStart(11)} transitions ${s.s.toFixed(3).padStart(8)} s ${n(s.states / s.s).padStart(10)} states/s  → gpucr/SPIN time ${(gp[10]! / s.s).toFixed(2)}× (bar ≤ 3×)`,
    );
}
