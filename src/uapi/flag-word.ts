/**
 * A flag word split into names (the one decoder of flag words that may hold an
 * enumerated field, e.g. GEM_VA's MTYPE in bits 5–8, include/uapi/drm/amdgpu_drm.h):
 * the log writer (src/log/writer.ts) writes a word by its names when nothing is left
 * over, the GEM_VA catalogue (src/uapi/amdgpu-va.ts) and flagNames (src/uapi/kfd-flags.ts,
 * for people and image dumps) name what is left in hex.
 */

function popcount1(n: number): boolean {
  return n !== 0 && (n & (n - 1)) === 0;
}

/**
 * The names of `word` in `family`, in ascending bit order, and the bits no name covers.
 * Single-bit members name bits. With `exclusive` (a mask of bits holding one value), the
 * members whose value lies inside the mask name values of that field: the word's field
 * value is named by the member equal to it (left out when 0), or, with no such member,
 * stays in `rest`.
 */
export function splitFlagWord(
  family: Readonly<Record<string, number>>,
  word: number,
  exclusive?: number,
): { names: string[]; rest: number } {
  let rest = word >>> 0;
  const named: [string, number][] = [];
  if (exclusive !== undefined) {
    const value = (rest & exclusive) >>> 0;
    if (value !== 0) {
      const name = Object.entries(family).find(([, b]) => (b & ~exclusive) === 0 && b >>> 0 === value);
      if (name) {
        named.push([name[0], value]);
        rest = (rest & ~exclusive) >>> 0;
      }
    }
  }
  const bits = Object.entries(family).filter(
    ([, b]) => popcount1(b >>> 0) && (exclusive === undefined || (b & ~exclusive) !== 0),
  );
  for (const [name, b] of bits) {
    if ((rest & b) >>> 0 === b >>> 0) {
      named.push([name, b >>> 0]);
      rest = (rest & ~b) >>> 0;
    }
  }
  // In bit order (the field sorts by its value, which lies in its own bits).
  return { names: named.sort((a, b) => a[1] - b[1]).map(([n]) => n), rest };
}
