import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { colorEnabled, colors, Progress, progressAmount, progressEta } from '../../src/cli/style.js';

const TTY = { isTTY: true };
const PIPE = { isTTY: false };

describe('colour', () => {
  it('on for a terminal only, NO_COLOR wins, FORCE_COLOR forces, TERM=dumb turns it off', () => {
    expect(colorEnabled(TTY, {})).toBe(true);
    expect(colorEnabled(PIPE, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled(TTY, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(TTY, { NO_COLOR: '' })).toBe(true); // set but empty: not a request (no-color.org)
    expect(colorEnabled(PIPE, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(PIPE, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(PIPE, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorEnabled(PIPE, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(TTY, { TERM: 'dumb' })).toBe(false);
    expect(colors(PIPE, {}).red('x')).toBe('x');
    expect(colors(TTY, {}).red('x')).not.toBe('x');
  });
});

/** A fake terminal that records what is drawn. */
function terminal(isTTY: boolean) {
  const chunks: string[] = [];
  const s = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; cursorTo?: unknown; clearLine?: unknown };
  s.isTTY = isTTY;
  s.columns = 80;
  // What cli-progress uses of a tty.WriteStream.
  s.cursorTo = (_x: number, _y?: number) => true;
  s.clearLine = () => true;
  Object.assign(s, { moveCursor: () => true, clearScreenDown: () => true });
  return { stream: s, text: () => chunks.join('') };
}

describe('the progress bar', () => {
  it('appears only after a second of work, and only on a terminal', () => {
    let now = 0;
    const t = terminal(true);
    const p = new Progress({ stream: t.stream as never, now: () => now });
    p.update('replaying', 10, 100);
    now = 999;
    p.update('replaying', 20, 100);
    expect(p.shown).toBe(false);
    expect(t.text()).toBe('');
    now = 1001;
    p.update('replaying', 30, 100);
    expect(p.shown).toBe(true);
    expect(t.text()).toContain('replaying');
    p.stop();
    expect(p.shown).toBe(false);

    const pipe = terminal(false);
    now = 0;
    const q = new Progress({ stream: pipe.stream as never, now: () => now });
    now = 5000;
    q.update('replaying', 50, 100);
    q.stop();
    expect(q.shown).toBe(false);
    expect(pipe.text()).toBe('');
  });

  it('--quiet (enabled: false) never draws', () => {
    let now = 0;
    const t = terminal(true);
    const p = new Progress({ stream: t.stream as never, now: () => now, enabled: false });
    now = 5000;
    p.update('replaying', 1, 2);
    expect(p.shown).toBe(false);
    expect(t.text()).toBe('');
  });
});

describe('what the bar shows', () => {
  it('bytes in MiB and events by count', () => {
    expect(progressAmount(48_024_780, 114_245_069, 'bytes')).toBe('45.8/109.0 MiB');
    expect(progressAmount(420_000, 1_000_000, 'events')).toBe('420,000/1,000,000 events');
  });

  it("an ETA at the phase's average rate, once there is a second of it", () => {
    expect(progressEta(10, 100, 999)).toBe('');
    expect(progressEta(0, 100, 5000)).toBe('');
    expect(progressEta(25, 100, 2000)).toBe(', ETA 6s');
    expect(progressEta(1, 100, 2000)).toBe(', ETA 3m18s');
    expect(progressEta(1, 3000, 2000)).toBe(', ETA 1h39m');
  });

  it('a new label is a new bar, drawn at once, with its own ETA', () => {
    let now = 0;
    const t = terminal(true);
    const p = new Progress({ stream: t.stream as never, now: () => now });
    now = 1500;
    p.update('validating', 3 * 2 ** 20, 12 * 2 ** 20);
    expect(t.text()).toContain('validating');
    expect(t.text()).toContain('3.0/12.0 MiB, ETA 5s');
    now = 1600;
    p.update('running', 1024, 4096, 'events');
    expect(p.shown).toBe(true);
    expect(t.text()).toContain('running');
    expect(t.text()).toContain('1,024/4,096 events');
    // The running phase is 0.1 s old: no ETA yet.
    expect(t.text()).not.toContain('events, ETA');
    p.stop();
  });
});
