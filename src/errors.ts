/**
 * Bad input (a log, a topology, a CLI argument): where, what was expected, what was
 * found. Readers throw it; the CLI prints `message` and exits 2, never a stack.
 */
export class InputError extends Error {
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`${where}: expected ${expected}, found ${describe(found)}`);
    this.name = 'InputError';
  }
}

/** A short, deterministic rendering of an offending value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return `${v}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}` : x));
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
