/**
 * `gpucr images <dir>`: decode, check and print every CRIU amdgpu plugin image of a directory
 * (docs/criu-images.md). Exit 0 when all are valid, 2 on the first bad image (message on stderr).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { imageDirJson, imageDirText, readImageDir } from '../criu/images/index.js';
import { readCoreImage } from '../criu/tasks-image.js';
import { stableJson } from './output.js';

export interface ImagesCliOptions {
  json?: boolean;
  contents?: boolean;
  pageSize?: string;
  maxGpuInstance?: string;
}

function intOption(v: string | undefined, name: string, allowed: (n: number) => boolean, what: string) {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!allowed(n)) throw new InputError(name, what, v);
  return n;
}

/** Run the command; returns the exit code (bad input throws InputError, which the caller maps to 2). */
export function imagesCommand(dir: string, opts: ImagesCliOptions): number {
  const pageSize = intOption(
    opts.pageSize,
    '--page-size',
    (n) => Number.isInteger(n) && n >= 4096 && n <= 1 << 30 && (n & (n - 1)) === 0,
    'a power of two ≥ 4096',
  );
  const max = intOption(opts.maxGpuInstance, '--max-gpu-instance', (n) => n === 16 || n === 64, '16 or 64') as
    16 | 64 | undefined;
  const kfdOpts = max === undefined ? {} : { maxGpuInstance: max };
  let images;
  try {
    images = readImageDir(dir, { ...kfdOpts, pageSize, contents: opts.contents !== false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') {
      throw new InputError(dir, 'a readable image directory', undefined);
    }
    throw e;
  }
  // which task holds which image (CRIU core's part, when the dump wrote it): what one task restores into one file
  const tasks = readCoreImage(dir)?.tasks;
  if (opts.json) process.stdout.write(`${stableJson({ dir, ...imageDirJson(images, kfdOpts, tasks) })}\n`);
  else process.stdout.write(imageDirText(images, kfdOpts, tasks));
  return 0;
}

export function registerImages(program: Command): void {
  program
    .command('images')
    .description('decode, check and print the CRIU amdgpu plugin images of a directory')
    .argument('<dir>', 'CRIU image directory (amdgpu-kfd-*.img, amdgpu-pages-*.img, amdgpu-renderD-*.img, ...)')
    .option('--json', 'print a machine-readable report (sorted keys, log encoding)')
    .option('--no-contents', 'check the pages images’ sizes without decoding BO contents')
    .option('--page-size <bytes>', 'page size of the contents (default 4096)')
    .option('--max-gpu-instance <n>', 'MAX_GPU_INSTANCE of the kernel that wrote priv_data: 64 (default) or 16')
    .addHelpText('after', '\nExit codes: 0 every image is valid, 2 a bad image or argument (message on stderr).')
    .action((dir: string, opts: ImagesCliOptions) => {
      process.exitCode = imagesCommand(dir, opts);
    });
}
