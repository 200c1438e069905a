/** @module `autolabel classes`: list, add, rename, merge and remove classes, over the workspace API the web app uses too. */
import { CLASS_STATUSES, type ClassInfo } from '@autolabel/core';
import { type Command } from 'commander';
import { type CommandContext, examples } from './context.js';

export function classesCommand(program: Command, { print, withWorkspace }: CommandContext): void {
  const classes = program
    .command('classes')
    .description('list, add, rename, merge and remove classes')
    .addHelpText(
      'after',
      examples([
        ['autolabel classes', 'every class with its images by status'],
        ['autolabel classes add "t-shirt"', 'a class before its first label'],
        ['autolabel classes rename tshirt t-shirt', 'the new name must be free'],
        ['autolabel classes merge T-Shirt t-shirt', 'labels and suggestions move; T-Shirt goes'],
        ['autolabel classes remove sandal --clear-labels', 'a class with labels only with its labels'],
      ]),
    );

  classes
    .command('list', { isDefault: true })
    .description('every class with its images by status (the default)')
    .action(async () => {
      await withWorkspace(async (ws) => {
        const list = await ws.classes.list();
        print(formatClasses(list), { classes: list });
      });
    });

  classes
    .command('add')
    .description('add a class before its first label (it can be chosen in the web app at once)')
    .argument('<name>', 'class name')
    .action(async (name: string) => {
      await withWorkspace(async (ws) => {
        const list = await ws.classes.add(name);
        print(`Added "${name.trim()}"\n${formatClasses(list)}`, { classes: list });
      });
    });

  classes
    .command('rename')
    .description('rename a class in its labels and suggestions (the new name must be free: merge otherwise)')
    .argument('<from>', 'the class')
    .argument('<to>', 'its new name')
    .action(async (from: string, to: string) => {
      await withWorkspace(async (ws) => {
        const list = await ws.classes.rename(from, to);
        print(`Renamed "${from}" to "${to.trim()}"\n${formatClasses(list)}`, { classes: list });
      });
    });

  classes
    .command('merge')
    .description('move every label and suggestion of one class into another, and remove the first')
    .argument('<from>', 'the class that goes')
    .argument('<into>', 'the class that stays')
    .action(async (from: string, into: string) => {
      await withWorkspace(async (ws) => {
        const result = await ws.classes.merge(from, into);
        print(
          `Merged "${from}" into "${into.trim()}": ${result.moved} labels moved\n${formatClasses(result.classes)}`,
          result,
        );
      });
    });

  classes
    .command('remove')
    .description('remove a class; one with labels only with --clear-labels, which removes its labels too')
    .argument('<name>', 'the class')
    .option('--clear-labels', 'remove its labels as well (their images become unlabelled)')
    .action(async (name: string, flags: { clearLabels?: boolean }) => {
      await withWorkspace(async (ws) => {
        const result = await ws.classes.remove(name, { clearLabels: flags.clearLabels === true });
        print(`Removed "${name}" (${result.removedLabels} labels removed)\n${formatClasses(result.classes)}`, result);
      });
    });
}

function formatClasses(list: readonly ClassInfo[]): string {
  if (list.length === 0) return 'No classes yet.';
  const width = Math.max(5, ...list.map((c) => c.name.length));
  const head = `${'class'.padEnd(width)}  ${CLASS_STATUSES.map((s) => s.padStart(10)).join('')}`;
  const rows = list.map(
    (c) => `${c.name.padEnd(width)}  ${CLASS_STATUSES.map((s) => String(c[s]).padStart(10)).join('')}`,
  );
  return [head, ...rows].join('\n');
}
