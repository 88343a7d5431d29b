import type { LintFinding } from './types.js';

/**
 * Human output, one block per finding:
 *
 *     migrations/003.sql:4:1: error require-concurrent-index
 *       CREATE INDEX orders_user_idx ON orders (user_id)
 *       CREATE INDEX without CONCURRENTLY holds a SHARE lock ...
 *       fix: CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
 *
 * followed by a one-line summary.
 */
export function formatFindings(findings: LintFinding[]): string {
  if (findings.length === 0) return 'no locking hazards found\n';
  const blocks = findings.map((f) => {
    const fix = f.fix.split('\n').join('\n       ');
    return `${f.file}:${f.line}:${f.column}: ${f.severity} ${f.rule}\n  ${f.statement}\n  ${f.message}\n  fix: ${fix}\n`;
  });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const files = new Set(findings.map((f) => f.file)).size;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary = `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(files, 'file')}; silence one with a \`-- symphony-lint-ignore: <rule>\` comment on the line above the statement`;
  return `${blocks.join('\n')}\n${summary}\n`;
}
