/** @module `autolabel audit`: likely label errors, near-duplicate groups and outliers, ranked, with their evidence. */
import { AUDIT_KINDS, type AuditFinding, type AuditKind } from '@autolabel/core';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { type CommandContext, examples, parseFlags } from './context.js';

const FlagsSchema = z.object({
  kind: z.enum(AUDIT_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(50),
});

const TITLES: Readonly<Record<AuditKind, string>> = {
  'label-error': 'Likely label errors',
  duplicate: 'Near-duplicate groups',
  outlier: 'Outliers',
};

export function auditCommand(program: Command, { print, withWorkspace, progress }: CommandContext): void {
  program
    .command('audit')
    .description('find likely label errors, near-duplicate groups and outliers, ranked, each with its reason')
    .addOption(new Option('--kind <kind>', 'one kind of finding only').choices(AUDIT_KINDS))
    .option('--limit <n>', 'findings shown per kind (all are kept for the web app)', '50')
    .addHelpText(
      'after',
      examples([
        ['autolabel audit', 'every kind, the 50 most likely of each'],
        ['autolabel audit --kind label-error --limit 20', 'the 20 labels most likely wrong'],
        ['autolabel audit --kind duplicate --json', 'duplicate groups as JSON, most likely first'],
        ['autolabel label cats/12.jpg dog', 'relabel what a finding shows to be wrong'],
      ]),
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(FlagsSchema, raw);
      await withWorkspace(async (ws) => {
        const bar = progress('img');
        let result;
        try {
          result = await ws.audit.run({
            kinds: flags.kind === undefined ? undefined : [flags.kind],
            limit: flags.limit,
            onProgress: bar.onProgress,
          });
        } finally {
          bar.done();
        }
        const findings = [...result.findings].sort((a, b) => b.score - a.score);
        print(formatAudit(findings, result.notes, flags.kind), { findings, notes: result.notes });
      });
    });
}

function formatAudit(findings: readonly AuditFinding[], notes: readonly string[], only?: AuditKind): string {
  const lines: string[] = [];
  for (const kind of only === undefined ? AUDIT_KINDS : [only]) {
    const ofKind = findings.filter((f) => f.kind === kind);
    lines.push(`${TITLES[kind]}: ${ofKind.length === 0 ? 'none' : ofKind.length}`);
    for (const [i, f] of ofKind.entries()) {
      lines.push(`  ${String(i + 1).padStart(3)}. ${f.score.toFixed(2)}  ${f.images.join(', ')}`);
      lines.push(`       ${f.reason}`);
      const evidence = evidenceOf(f);
      if (evidence) lines.push(`       ${evidence}`);
    }
    lines.push('');
  }
  for (const note of notes) lines.push(`note: ${note}`);
  return lines.join('\n').trimEnd();
}

function evidenceOf(f: AuditFinding): string {
  switch (f.kind) {
    case 'label-error':
      return f.neighbours.length === 0
        ? ''
        : `neighbours: ${f.neighbours.map((n) => `${n.path} (${n.label}, ${n.similarity.toFixed(2)})`).join(', ')}`;
    case 'duplicate':
      return `labels: ${f.labels.map((l) => l ?? '-').join(', ')}${f.exact ? '; exact copies' : ''}`;
    case 'outlier':
      return f.decodeError === undefined ? '' : `decode error: ${f.decodeError}`;
  }
}
