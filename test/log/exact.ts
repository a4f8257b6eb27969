/**
 * Values as text that tells apart everything a replay could see: key order, a bigint from a
 * number, -0 from 0, byte buffers by content, an undefined field from a missing one. For
 * tests that require two ways of reading a log to give the same events and reports.
 */
export function exact(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `<bigint ${x}>`;
    if (x instanceof Uint8Array) return `<bytes ${Buffer.from(x).toString('hex')}>`;
    if (Object.is(x, -0)) return '<-0>';
    if (x === undefined) return '<undefined>';
    return x;
  });
}
