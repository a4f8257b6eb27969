/**
 * Fuzz (design "Bad input"): random byte mutations of valid images must either decode or be
 * rejected with an ImageError (an InputError) — never any other exception.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeDmabufImage,
  decodeKfdImage,
  decodeRenderDImage,
  encodeDmabufImage,
  encodeKfdImage,
  encodeRenderDImage,
  ImageError,
  readImageDir,
  writeImageDir,
} from '../../src/criu/images/index.js';
import { sampleDir, sampleDmabuf, sampleKfd, sampleRenderD } from './images-fixtures.js';

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 12 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
);

/** Applies the mutations; `fixPrefix` rewrites the size prefix so that the payload gets parsed. */
function mutate(src: Uint8Array, ms: Mutation[], fixPrefix: boolean): Uint8Array {
  let b = [...src];
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'set') {
      if (b.length > 0) b[at % b.length] = m.byte;
    } else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes);
    else if (m.kind === 'delete') b.splice(at, m.len);
    else b = b.slice(0, at);
  }
  const out = new Uint8Array(b);
  if (fixPrefix && out.length >= 8) new DataView(out.buffer).setBigUint64(0, BigInt(out.length - 8), true);
  return out;
}

/** Runs `decode`; anything but success or an ImageError fails the property. */
function onlyImageErrors(decode: () => unknown): boolean {
  try {
    decode();
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
  }
  return true;
}

const RUNS = 3000;

describe('fuzz: mutated message images', () => {
  const images: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
    ['amdgpu-kfd-3.img', encodeKfdImage(sampleKfd()), (b) => decodeKfdImage(b, 'amdgpu-kfd-3.img')],
    ['amdgpu-renderD-7.img', encodeRenderDImage(sampleRenderD()), (b) => decodeRenderDImage(b, 'amdgpu-renderD-7.img')],
    ['amdgpu-dmabuf_9.img', encodeDmabufImage(sampleDmabuf()), (b) => decodeDmabufImage(b, 'amdgpu-dmabuf_9.img')],
  ];
  for (const [name, valid, decode] of images) {
    it(`${name}: ${RUNS} mutations, only ImageError`, () => {
      let rejected = 0;
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.boolean(), (ms, fix) => {
          const b = mutate(valid, ms, fix);
          try {
            decode(b);
          } catch (e) {
            if (!(e instanceof ImageError)) throw e;
            expect(e.message.startsWith(`${name}: `)).toBe(true);
            rejected++;
          }
        }),
        { numRuns: RUNS, seed: 0x5eed },
      );
      // The mutations do reach the checks (most mutated images are rejected).
      expect(rejected).toBeGreaterThan(RUNS / 2);
    });
  }

  it('random bytes with a consistent prefix: only ImageError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (payload) => {
        const b = new Uint8Array(8 + payload.length);
        new DataView(b.buffer).setBigUint64(0, BigInt(payload.length), true);
        b.set(payload, 8);
        return (
          onlyImageErrors(() => decodeKfdImage(b, 'amdgpu-kfd-1.img')) &&
          onlyImageErrors(() => decodeRenderDImage(b, 'amdgpu-renderD-1.img')) &&
          onlyImageErrors(() => decodeDmabufImage(b, 'amdgpu-dmabuf_1.img'))
        );
      }),
      { numRuns: RUNS, seed: 0xfeed },
    );
  });
});

describe('fuzz: a mutated file in an image directory', () => {
  it('300 directories, one file mutated each: readImageDir throws only ImageError', () => {
    const base = mkdtempSync(join(tmpdir(), 'gpucr-fuzz-'));
    const pristine = join(base, 'pristine');
    writeImageDir(pristine, sampleDir());
    const names = readdirSync(pristine).sort();
    const files = new Map(names.map((n) => [n, readFileSync(join(pristine, n))]));
    let n = 0;
    fc.assert(
      fc.property(
        fc.nat(names.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (which, ms, fix) => {
          const dir = join(base, `d${n++}`);
          writeImageDir(dir, sampleDir());
          const name = names[which]!;
          writeFileSync(join(dir, name), mutate(files.get(name)!, ms, fix));
          return onlyImageErrors(() => readImageDir(dir));
        },
      ),
      { numRuns: 300, seed: 0xd1 },
    );
  });
});
