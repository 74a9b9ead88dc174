/**
 * What the README tells a newcomer to type: its shell blocks and the commands of its Commands table, read
 * from the file itself so the smoke test and the README cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';

export const REPOSITORY_ROOT = path.resolve(__dirname, '../..');

export interface ShellBlock {
  /** The heading the block stands under (`Install, run, test`, `A first case`). */
  readonly heading: string;
  readonly text: string;
}

export function readReadme(root: string = REPOSITORY_ROOT): string {
  return fs.readFileSync(path.join(root, 'README.md'), 'utf8');
}

/** Every fenced `sh` block, with the heading above it. */
export function shellBlocks(readme: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  let heading = '';
  let open: string[] | undefined;
  for (const line of readme.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push({ heading, text: open.join('\n') });
        open = undefined;
      } else open.push(line);
    } else if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    else if (line.trim() === '```sh') open = [];
  }
  return blocks;
}

/**
 * The command words of each row of the Commands table: `throughcare case start PATHWAY --patient …` gives
 * `['case', 'start']` (the words before the first argument placeholder or option).
 */
export function tableCommands(readme: string): string[][] {
  const section = readme.slice(readme.indexOf('## Commands'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| command')));
  const commands: string[][] = [];
  for (const row of table.split('\n')) {
    const usage = /^\| `throughcare ([^`]+)`/.exec(row)?.[1];
    if (!usage) continue;
    const words: string[] = [];
    for (const word of usage.split(/\s+/)) {
      if (!/^[a-z][a-z-]*$/.test(word)) break;
      words.push(word);
    }
    commands.push(words);
  }
  return commands;
}
