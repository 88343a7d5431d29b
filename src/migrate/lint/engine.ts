import { parse, hasSqlDetails, type RawStmt } from 'libpg-query';
import type { LintFinding, LintOptions, Severity } from './types.js';
import { SqlSource, ignoredRules } from './source.js';
import { SessionTracker } from './session.js';
import { RULES, STATEMENT_RULES } from './rules/catalog.js';

const DEFAULT_SEVERITY = new Map<string, Severity>(RULES.map((r) => [r.name, r.severity]));

/** The statement as shown in a finding: whitespace collapsed, at most 120 characters. */
export function excerpt(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 120);
}

/**
 * Lint one SQL text as one Postgres session would run it, top to bottom.
 * Never throws for bad SQL: a parse failure is one `syntax-error` finding.
 */
export async function lintSql(sql: string, file: string, opts: LintOptions = {}): Promise<LintFinding[]> {
  const source = new SqlSource(sql);
  const ignoredEverywhere = new Set((opts.ignore ?? []).map((r) => r.toLowerCase()));
  let stmts: RawStmt[];
  try {
    stmts = (await parse(sql)).stmts ?? [];
  } catch (err) {
    if (!hasSqlDetails(err)) throw err;
    if (ignoredEverywhere.has('syntax-error')) return [];
    const at = source.positionOfChar(err.sqlDetails?.cursorPosition ?? 0);
    return [
      {
        rule: 'syntax-error',
        severity: 'error',
        file,
        ...at,
        statement: excerpt(source.lineText(at.line)),
        message: `${err.message} (Postgres 18 grammar); no rule was checked in this file`,
        fix: `Correct the SQL at ${file}:${at.line}:${at.column}, then run: symphony migrate lint ${file}`,
      },
    ];
  }

  const session = new SessionTracker(opts.assumeInTransaction === true, opts.assumeLockTimeout === true);
  const findings: LintFinding[] = [];
  let prevEnd = 0;
  for (const raw of stmts) {
    if (!raw.stmt) continue;
    const loc = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? loc + raw.stmt_len : source.byteLength;
    const start = source.skipTrivia(loc, end);
    const text = source.slice(start, end);
    const at = source.positionOfByte(start);
    const ignored = ignoredRules(source.slice(prevEnd, start), prevEnd > 0);
    for (const rule of STATEMENT_RULES) {
      for (const hazard of rule(raw.stmt, session, text)) {
        if (ignoredEverywhere.has(hazard.rule) || ignored.has(hazard.rule)) continue;
        findings.push({
          rule: hazard.rule,
          severity: hazard.severity ?? DEFAULT_SEVERITY.get(hazard.rule) ?? 'error',
          file,
          ...at,
          statement: excerpt(text),
          message: hazard.message,
          fix: hazard.fix,
        });
      }
    }
    session.advance(raw.stmt);
    prevEnd = end;
  }
  return findings;
}
