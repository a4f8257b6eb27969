/**
 * The images gpucr writes are read by the standard protobuf tools (spec §9.2): each message
 * image, without its 8-byte size prefix, decodes with
 * `protoc --decode=<message> criu-amdgpu.proto`, and protoc's text output shows the field values
 * that were written. protoc comes from the Debian package protobuf-compiler (.ci/run installs it);
 * without it this test fails, it does not skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeImageDir } from '../../src/criu/images/index.js';
import { sampleDir } from './images-fixtures.js';

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../src/criu/images');
const PROTO = 'criu-amdgpu.proto';

function requireProtoc(): void {
  const r = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      'protoc is not installed: this test decodes the images with the standard protobuf compiler. ' +
        'Install it with `apt-get install -y protobuf-compiler` (Debian/Ubuntu; .ci/run does this).',
    );
  }
}

function protocDecode(message: string, payload: Uint8Array): string {
  const r = spawnSync('protoc', [`--proto_path=${PROTO_DIR}`, `--decode=${message}`, PROTO], { input: payload });
  expect(r.stderr.toString()).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.toString();
}

/** Field names of each message in field-number order, read from the .proto text itself. */
function schemaFields(): Map<string, { name: string; type: string }[]> {
  const text = readFileSync(join(PROTO_DIR, PROTO), 'utf8');
  const out = new Map<string, { name: string; type: string }[]>();
  for (const m of text.matchAll(/message (\w+) \{([^}]*)\}/g)) {
    const fields = [...m[2]!.matchAll(/(?:required|repeated) (\w+) (\w+) = (\d+);/g)]
      .map((f) => ({ type: f[1]!, name: f[2]!, n: Number(f[3]) }))
      .sort((a, b) => a.n - b.n);
    out.set(m[1]!, fields);
  }
  return out;
}

/** protoc's C escaping of a bytes field. */
function cEscape(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x22) s += '\\"';
    else if (c === 0x27) s += "\\'";
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\${c.toString(8).padStart(3, '0')}`;
  }
  return s;
}

/** The protobuf text format of `value` as message `type` (what `protoc --decode` prints). */
function textFormat(
  fields: Map<string, { name: string; type: string }[]>,
  type: string,
  value: unknown,
  indent = '',
): string {
  let s = '';
  for (const f of fields.get(type)!) {
    const v = (value as Record<string, unknown>)[f.name];
    const items = Array.isArray(v) ? v : [v];
    for (const item of items) {
      if (fields.has(f.type))
        s += `${indent}${f.name} {\n${textFormat(fields, f.type, item, `${indent}  `)}${indent}}\n`;
      else if (f.type === 'bytes') s += `${indent}${f.name}: "${cEscape(item as Uint8Array)}"\n`;
      else s += `${indent}${f.name}: ${String(item)}\n`;
    }
  }
  return s;
}

describe('spec §9.2: images decode with the standard protobuf tools', () => {
  it('protoc --decode=<message> criu-amdgpu.proto reads every message image gpucr writes', () => {
    requireProtoc();
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-protoc-'));
    const images = sampleDir();
    writeImageDir(dir, images);
    const fields = schemaFields();
    expect([...fields.keys()]).toEqual([
      'dev_iolink',
      'kfd_device_entry',
      'kfd_bo_entry',
      'criu_kfd',
      'drm_bo_entry',
      'drm_vm_entry',
      'criu_render_node',
      'criu_dmabuf_node',
    ]);
    const cases: [string, string, unknown][] = [
      ['amdgpu-kfd-3.img', 'criu_kfd', images.kfd[0]!.kfd],
      ['amdgpu-renderD-7.img', 'criu_render_node', images.renderD[0]!.renderD],
      ['amdgpu-dmabuf_9.img', 'criu_dmabuf_node', images.dmabuf[0]!.dmabuf],
    ];
    for (const [file, message, value] of cases) {
      const bytes = readFileSync(join(dir, file));
      const text = protocDecode(message, bytes.subarray(8));
      expect(text).toBe(textFormat(fields, message, value));
    }
  });

  it('protoc shows the values themselves: the -1 handle, u64s, the priv_data bytes', () => {
    requireProtoc();
    const dir = mkdtempSync(join(tmpdir(), 'gpucr-protoc-'));
    const images = sampleDir();
    writeImageDir(dir, images);
    const text = protocDecode('criu_kfd', readFileSync(join(dir, 'amdgpu-kfd-3.img')).subarray(8));
    expect(text).toContain('  handle: 4294967295\n'); // -1 in a uint32 (spec §9.2)
    expect(text).toContain(`  hive_id: ${0x1234_5678_9abc_def0n}\n`);
    expect(text).toContain('num_of_bos: 5\n');
    // priv_data starts with the process record {version 1, xnack_mode 0} (spec §3).
    expect(text).toMatch(/^priv_data: "\\001\\000\\000\\000\\000\\000\\000\\000/m);
  });
});
