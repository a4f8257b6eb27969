/**
 * BO contents in pages images (spec §9.1: `amdgpu-pages-<id>-<gpu>.img` holds the VRAM/GTT KFD
 * BOs of one GPU back to back in bucket order; `amdgpu-drm-pages-<id>-<minor>-<n>.img` one
 * render-node BO). The model's content is a sparse map page → u32 (design "Content"); a page is
 * stored as `pageSize` bytes whose first 4 bytes are the value (little endian) and the rest zero,
 * so every image has the BO's real size. A page whose last bytes are not zero cannot come from
 * the model and is rejected. A BO whose size is not a multiple of the page size ends in a short
 * page holding the value's low bytes.
 *
 * Files are written sparse (all-zero pages are holes) and read in bounded chunks.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { checkPrefixMatches } from './codec.js';
import { DEFAULT_PAGE_SIZE, hex, ImageError, type PageContent, SIZE_PREFIX_BYTES } from './types.js';

const U32_MAX = 0xffff_ffff;
const MAX_BYTES = BigInt(Number.MAX_SAFE_INTEGER);

/** Throws unless `pageSize` is a power of two ≥ 4096 (the model's topology rule). */
export function checkPageSize(pageSize: number): number {
  if (!Number.isInteger(pageSize) || pageSize < 4096 || (pageSize & (pageSize - 1)) !== 0 || pageSize > 1 << 30) {
    throw new RangeError(`page size must be a power of two ≥ 4096, got ${String(pageSize)}`);
  }
  return pageSize;
}

function sizeNumber(size: number | bigint, file: string, field: string): number {
  const b = typeof size === 'bigint' ? size : BigInt(size);
  if (typeof size === 'number' && (!Number.isInteger(size) || size < 0)) {
    throw new ImageError(file, field, 'a byte size (a non-negative integer)', size);
  }
  if (b < 0n || b > MAX_BYTES) throw new ImageError(file, field, 'a byte size ≤ 2^53−1', b);
  return Number(b);
}

/** Number of pages (the last one possibly short) of a BO of `size` bytes. */
function pageCount(size: number, pageSize: number): number {
  return Math.ceil(size / pageSize);
}

/**
 * Checks a content map against a BO of `size` bytes: integer page keys inside the BO, u32
 * values, and values that fit a short last page. Returns the non-zero pages in ascending order.
 */
export function contentPages(
  content: PageContent,
  size: number,
  pageSize: number,
  file: string,
  field: string,
): [number, number][] {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new ImageError(file, field, 'a page → u32 map (object)', content);
  }
  const n = pageCount(size, pageSize);
  const out: [number, number][] = [];
  for (const key of Object.keys(content)) {
    const page = Number(key);
    if (!/^(0|[1-9]\d*)$/.test(key) || page >= n) {
      throw new ImageError(file, `${field}[${key}]`, `a page index 0 … ${n - 1} (a BO of ${size} bytes)`, key);
    }
    const v = content[page];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
      throw new ImageError(file, `${field}[${key}]`, 'a u32 value', v);
    }
    const len = Math.min(4, size - page * pageSize);
    if (len < 4 && v >= 2 ** (8 * len)) {
      throw new ImageError(file, `${field}[${key}]`, `a value that fits the ${len}-byte last page`, v, hex(v));
    }
    if (v !== 0) out.push([page, v]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function putValue(buf: Uint8Array, at: number, v: number, len: number): void {
  for (let i = 0; i < len; i++) buf[at + i] = (v >>> (8 * i)) & 0xff;
}

/** The raw bytes (no size prefix) of one BO of `sizeBytes` bytes holding `content`. */
export function encodePages(
  content: PageContent,
  sizeBytes: number | bigint,
  pageSize: number = DEFAULT_PAGE_SIZE,
  file = 'pages',
): Uint8Array {
  checkPageSize(pageSize);
  const size = sizeNumber(sizeBytes, file, 'size');
  const out = new Uint8Array(size);
  for (const [page, v] of contentPages(content, size, pageSize, file, 'content')) {
    const at = page * pageSize;
    putValue(out, at, v, Math.min(4, size - at));
  }
  return out;
}

/** Scans one page at `bytes[at … at+len)`; returns its value or throws for non-zero tail bytes. */
function pageValue(bytes: Uint8Array, at: number, len: number, zeros: Uint8Array, file: string, field: string): number {
  const head = Math.min(4, len);
  let v = 0;
  for (let i = head - 1; i >= 0; i--) v = v * 256 + bytes[at + i]!;
  if (len > 4 && Buffer.compare(bytes.subarray(at + 4, at + len), zeros.subarray(0, len - 4)) !== 0) {
    let k = at + 4;
    while (bytes[k] === 0) k++;
    throw new ImageError(
      file,
      field,
      'zero bytes after the first 4 of every page (gpucr content model: one u32 per page)',
      k - at,
      `a non-zero byte at offset ${k - at} of the page`,
    );
  }
  return v;
}

/** The content map of one BO's raw bytes (no size prefix). */
export function decodePages(
  bytes: Uint8Array,
  pageSize: number = DEFAULT_PAGE_SIZE,
  file = 'pages',
  field = 'content',
): PageContent {
  checkPageSize(pageSize);
  const zeros = new Uint8Array(pageSize);
  const content: PageContent = {};
  const n = pageCount(bytes.length, pageSize);
  for (let page = 0; page < n; page++) {
    const at = page * pageSize;
    const len = Math.min(pageSize, bytes.length - at);
    const v = pageValue(bytes, at, len, zeros, file, `${field}: page ${page}`);
    if (v !== 0) content[page] = v;
  }
  return content;
}

// ---------------------------------------------------------------------------------------------
// Files

/** One BO of a pages file: its byte size and content; `field` names it in errors. */
export interface PagesSegment {
  size: bigint;
  content: PageContent | undefined;
  field: string;
}

/** A checked pages image, ready to write: its total size and the non-zero words to store. */
export interface PagesPlan {
  total: number;
  writes: [position: number, value: number, bytes: number][];
}

/** Checks the segments (sizes, contents) and lays them out back to back after the size prefix. */
export function planPagesFile(file: string, segments: PagesSegment[], pageSize: number): PagesPlan {
  checkPageSize(pageSize);
  let total = 0;
  const writes: PagesPlan['writes'] = [];
  for (const s of segments) {
    const size = sizeNumber(s.size, file, `${s.field}.size`);
    if (s.content !== undefined) {
      for (const [page, v] of contentPages(s.content, size, pageSize, file, s.field)) {
        const at = page * pageSize;
        writes.push([SIZE_PREFIX_BYTES + total + at, v, Math.min(4, size - at)]);
      }
    }
    total += size;
    if (total > Number.MAX_SAFE_INTEGER) throw new ImageError(file, 'size', 'a total ≤ 2^53−1 bytes', total);
  }
  return { total, writes };
}

/**
 * Writes a planned pages image to `path` (which must not exist): the size prefix, then the
 * non-zero words, all-zero pages left as holes (ftruncate sets the size); then checks the size.
 */
export function writePagesFile(path: string, file: string, plan: PagesPlan): void {
  const { total, writes } = plan;
  const fd = openSync(path, 'wx', 0o600);
  try {
    const prefix = new Uint8Array(SIZE_PREFIX_BYTES);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(total), true);
    writeSync(fd, prefix, 0, SIZE_PREFIX_BYTES, 0);
    const word = new Uint8Array(4);
    for (const [pos, v, len] of writes) {
      putValue(word, 0, v, len);
      writeSync(fd, word, 0, len, pos);
    }
    ftruncateSync(fd, SIZE_PREFIX_BYTES + total);
    const got = fstatSync(fd).size;
    if (got !== SIZE_PREFIX_BYTES + total) {
      throw new Error(`${file}: wrote a pages image of ${got} bytes, expected ${SIZE_PREFIX_BYTES + total}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Chunk size of pages reads (a multiple of every allowed page size up to 1 MiB). */
const CHUNK = 1 << 20;

/**
 * The size prefix of an open pages image, checked against the file's length (a file too short
 * to hold one is rejected before anything else is read).
 */
function readSizePrefix(fd: number, file: string): bigint {
  const length = BigInt(fstatSync(fd).size);
  const head = new Uint8Array(SIZE_PREFIX_BYTES);
  const got = length >= BigInt(SIZE_PREFIX_BYTES) ? readSync(fd, head, 0, SIZE_PREFIX_BYTES, 0) : 0;
  if (got < SIZE_PREFIX_BYTES) {
    throw new ImageError(
      file,
      'size prefix',
      'an 8-byte little-endian size_t (spec §9.1)',
      length,
      `a file of ${length} bytes`,
    );
  }
  const prefix = new DataView(head.buffer).getBigUint64(0, true);
  checkPrefixMatches(prefix, length, file);
  return prefix;
}

/** One segment to decode: where its bytes start in the file, its checked size, and its names in errors. */
interface PagesReadSegment {
  file: string;
  field: string;
  pos: number;
  size: number;
}

/** Buffers of one bounded read (a chunk) and the zeros it is compared with, reused for every segment. */
interface ChunkBuffers {
  bytes: number;
  buf: Uint8Array;
  zeros: Uint8Array;
}

/** Fills `buf[0 … want)` from `position`; a file that ends first is short for the segment. */
function readChunk(fd: number, buf: Uint8Array, want: number, position: number, what: PagesReadSegment): void {
  let have = 0;
  while (have < want) {
    const n = readSync(fd, buf, have, want - have, position + have);
    if (n === 0)
      throw new ImageError(what.file, what.field, `${what.size} bytes of content`, undefined, 'a short file');
    have += n;
  }
}

/** The content of one segment, decoded chunk by chunk. */
function readSegmentContent(fd: number, seg: PagesReadSegment, pageSize: number, chunk: ChunkBuffers): PageContent {
  const { buf, zeros } = chunk;
  const content: PageContent = {};
  for (let done = 0; done < seg.size;) {
    const want = Math.min(chunk.bytes, seg.size - done);
    readChunk(fd, buf, want, seg.pos + done, seg);
    // Whole-chunk zero test first: holes and empty BOs cost one memcmp per chunk.
    if (Buffer.compare(buf.subarray(0, want), zeros.subarray(0, want)) !== 0) {
      for (let at = 0; at < want; at += pageSize) {
        const page = (done + at) / pageSize;
        const len = Math.min(pageSize, want - at);
        const v = pageValue(buf, at, len, zeros, seg.file, `${seg.field}: page ${page}`);
        if (v !== 0) content[page] = v;
      }
    }
    done += want;
  }
  return content;
}

/**
 * Reads a pages image: checks the size prefix against the file's length and against the sum of
 * the segments' sizes (what the restore path checks, spec §9.5), then, when `withContent`,
 * decodes each segment's content in bounded chunks (memory independent of the BO sizes).
 */
export function readPagesFile(
  path: string,
  file: string,
  segments: { size: bigint; field: string }[],
  pageSize: number,
  withContent: boolean,
  sumWhat: string,
): PageContent[] {
  checkPageSize(pageSize);
  const fd = openSync(path, 'r');
  try {
    const prefix = readSizePrefix(fd, file);
    const sum = segments.reduce((a, s) => a + s.size, 0n);
    if (prefix !== sum) throw new ImageError(file, 'size prefix', `${sum} (${sumWhat})`, prefix);
    if (!withContent) return segments.map(() => ({}));
    const bytes = Math.max(CHUNK, pageSize);
    const chunk: ChunkBuffers = { bytes, buf: new Uint8Array(bytes), zeros: new Uint8Array(bytes) };
    const out: PageContent[] = [];
    let pos = SIZE_PREFIX_BYTES;
    for (const s of segments) {
      // Each size is checked only when its segment is reached, after the ones before it decoded.
      const size = sizeNumber(s.size, file, `${s.field}.size`);
      out.push(readSegmentContent(fd, { file, field: s.field, pos, size }, pageSize, chunk));
      pos += size;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
