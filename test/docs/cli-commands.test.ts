/**
 * docs/cli.md opens with the list of commands `gpucr --help` prints: the list names every
 * command the program registers, with its usage and description, and no other (it had
 * drifted: five commands added after it was written were missing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The "Commands:" lines of the first code block of docs/cli.md, whitespace collapsed. */
function documentedCommands(): string[] {
  const text = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
  const start = text.indexOf('Commands:\n');
  expect(start).toBeGreaterThan(0);
  const block = text.slice(start + 'Commands:\n'.length, text.indexOf('```', start));
  return block
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().replace(/\s+/g, ' '));
}

/** What `gpucr --help` lists for each command: usage, then description. */
function registeredCommands(): string[] {
  const program = buildProgram();
  const help = program.createHelp();
  const lines = program.commands.map((c) => `${help.subcommandTerm(c)} ${help.subcommandDescription(c)}`);
  return [...lines, 'help [command] display help for command'].map((l) => l.replace(/\s+/g, ' '));
}

describe('docs/cli.md lists the commands of gpucr --help', () => {
  it('every registered command, with its usage and description, and nothing else', () => {
    expect(documentedCommands()).toEqual(registeredCommands());
  });
});
