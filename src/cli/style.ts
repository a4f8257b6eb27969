/**
 * Terminal niceties of the CLI (docs/cli.md, "Colour and progress"): colour only
 * when the stream is a terminal, and a progress bar only for work that takes longer
 * than a second on a terminal. Neither ever reaches a pipe or a file, so what tools
 * read (`--json`, redirected output) is the same bytes on every run.
 *
 * Colour: NO_COLOR (set and not empty) turns it off; otherwise FORCE_COLOR (set and
 * not "0" or "false") turns it on; otherwise it is on when the stream is a TTY and
 * TERM is not "dumb".
 */
import { SingleBar } from 'cli-progress';
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface Stream {
  isTTY?: boolean;
}

export function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force.toLowerCase() !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** picocolors' functions, active or not for this stream. */
export function colors(stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): Colors {
  return pc.createColors(colorEnabled(stream, env));
}

export interface ProgressOptions {
  /** Where the bar is drawn (default stderr). */
  stream?: NodeJS.WritableStream & Stream;
  /** Milliseconds of work before a bar appears (default 1000). */
  delayMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** False turns the bar off (--quiet). */
  enabled?: boolean;
}

/** What a bar counts: bytes of a file (shown in MiB) or events. */
export type ProgressUnit = 'bytes' | 'events';

/** "45.8/109.0 MiB" or "420,000/1,000,000 events". */
export function progressAmount(done: number, total: number, unit: ProgressUnit): string {
  if (unit === 'events') return `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} events`;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return `${mib(done)}/${mib(total)} MiB`;
}

/** The time left at the phase's average rate so far ("", before there is a rate to go by). */
export function progressEta(done: number, total: number, elapsedMs: number): string {
  if (done <= 0 || elapsedMs < 1000) return '';
  const s = Math.ceil(((total - done) * elapsedMs) / done / 1000);
  const text =
    s >= 3600
      ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
        : `${s}s`;
  return `, ETA ${text}`;
}

/**
 * A progress bar that appears only after `delayMs` of work, and only on a TTY.
 * `update(label, done, total, unit)` is cheap to call often; a new label is a new phase
 * (a new bar, its ETA from its own start); `stop()` clears the bar.
 */
export class Progress {
  private bar: SingleBar | undefined;
  private readonly start: number;
  private readonly now: () => number;
  private readonly delay: number;
  private readonly stream: NodeJS.WritableStream & Stream;
  private readonly on: boolean;
  private phase = '';
  private phaseStart = 0;

  constructor(opts: ProgressOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.delay = opts.delayMs ?? 1000;
    this.stream = opts.stream ?? process.stderr;
    this.on = opts.enabled !== false && this.stream.isTTY === true;
  }

  /** Whether a bar has been drawn. */
  get shown(): boolean {
    return this.bar !== undefined;
  }

  update(label: string, done: number, total: number, unit: ProgressUnit = 'bytes'): void {
    if (!this.on) return;
    const now = this.now();
    if (label !== this.phase) {
      // The first phase began when the work did; a later one when its first update came.
      this.phaseStart = this.phase === '' ? this.start : now;
      this.phase = label;
      this.stop();
    }
    if (!this.bar && now - this.start < this.delay) return;
    const payload = {
      label,
      amount: progressAmount(done, total, unit),
      left: progressEta(done, total, now - this.phaseStart),
    };
    if (this.bar) {
      this.bar.update(done, payload);
      return;
    }
    this.bar = new SingleBar({
      stream: this.stream,
      format: '{label} [{bar}] {percentage}% {amount}{left}',
      barsize: 30,
      hideCursor: false,
      clearOnComplete: true,
      gracefulExit: false,
      noTTYOutput: false,
    });
    this.bar.start(Math.max(total, 1), done, payload);
  }

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
}
