/**
 * The runbook in docs/operations.md, "When an alarm fires": one entry per kind of alarm (a
 * heading like ### `<node>-dead-letters`), which each alarm's description names last.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const SECTION = '\n## When an alarm fires\n';

/** The entries' names, in the document's order. */
export function runbookEntries(): string[] {
  const operations = readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  const start = operations.indexOf(SECTION);
  if (start < 0) throw new Error('docs/operations.md has no "When an alarm fires" section');
  const rest = operations.slice(start + SECTION.length);
  const end = rest.indexOf('\n## ');
  return [...(end < 0 ? rest : rest.slice(0, end)).matchAll(/^### `([^`]+)`$/gm)].map((match) => match[1] as string);
}

/** The entry an alarm's description names, if it ends by naming one. */
export function runbookEntryOf(description: unknown): string | undefined {
  return /Runbook: docs\/operations\.md, "When an alarm fires", (\S+)\.$/.exec(String(description))?.[1];
}
