/**
 * The statistics `gpucr check` prints for a run, single-threaded (check.ts) or with workers
 * (check-parallel.ts): TLC/SPIN-style counts, rates and memory, and the bounds line.
 */

/** TLC/SPIN-style statistics: distinct states, transitions, depth; time, states/s, memory. */
export function statisticsLines(
  r: { states: number; transitions: number; depth: number; seconds: number; limited: string | null },
  memory: string,
): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const perSecond = Math.round(r.states / Math.max(r.seconds, 1e-9));
  return [
    `${n(r.states)} distinct states, ${n(r.transitions)} transitions, depth ${r.depth}${r.limited ? ` (stopped by the ${r.limited} limit)` : ''}`,
    `${r.seconds.toFixed(3)} s, ${n(perSecond)} states/s, ${memory}`,
  ];
}

/** `gpus 1, bos 2, depth 6, states none`: a run's bounds in one line (null: no bound). */
export function formatBounds(bounds: Record<string, number | null>): string {
  return Object.entries(bounds)
    .map(([k, v]) => `${k} ${v ?? 'none'}`)
    .join(', ');
}

/** The statistics fields of a `--json` report, in this order (TLC/SPIN's counts, rate, memory). */
export function statisticsJson(
  r: { states: number; transitions: number; depth: number; seconds: number; limited: string | null },
  memoryBytes: number,
) {
  return {
    states: r.states,
    transitions: r.transitions,
    depth: r.depth,
    seconds: Number(r.seconds.toFixed(3)),
    states_per_second: Math.round(r.states / Math.max(r.seconds, 1e-9)),
    memory_bytes: memoryBytes,
    limited: r.limited,
  };
}
