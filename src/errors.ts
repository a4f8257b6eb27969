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
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object' && v !== null) {
    // Name the keys only: a value nested thousands deep must not overflow the stack here.
    const keys = Object.keys(v);
    const shown = keys.slice(0, 4).map((k) => JSON.stringify(k));
    return `an object {${shown.join(', ')}${keys.length > 4 ? ', ...' : ''}}`;
  }
  return String(v);
}
