import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFindings, lintFiles, lintSql, RULES } from '../src/migrate/lint/index.js';

const dir = join(import.meta.dirname, 'fixtures/lint');
const at = (fs: { rule: string; line: number; column: number }[]) => fs.map((f) => `${f.rule}@${f.line}:${f.column}`);

describe('migration lint engine', () => {
  it('places every finding of a multi-statement file at its statement (comments, blank lines, multi-line, non-ASCII)', async () => {
    const findings = await lintFiles([join(dir, 'multi.sql')]);
    expect(at(findings)).toEqual([
      'require-lock-timeout@4:1',
      'require-concurrent-index@8:1',
      'set-not-null-without-check@14:26',
      'constraint-without-not-valid@16:1',
      'drop-column@16:1',
      'truncate-table@19:11',
    ]);
    expect(findings[1].statement).toBe("CREATE INDEX orders_created_idx ON orders (created_at) WHERE status <> 'archived'");
  });

  it('honours -- symphony-lint-ignore comments above a statement, and only for the rules they name', async () => {
    const findings = await lintFiles([join(dir, 'ignore.sql')]);
    expect(at(findings)).toEqual(['require-concurrent-index@7:1', 'drop-table@8:1', 'require-concurrent-index@10:1']);
    const ignored = await lintFiles([join(dir, 'ignore.sql')], { ignore: ['require-concurrent-index'] });
    expect(at(ignored)).toEqual(['drop-table@8:1']);
  });

  it('reports a syntax error as a finding with its line and column instead of throwing', async () => {
    const sql = "SET lock_timeout = '1s';\n-- ünïcode comment\nALTER TABLE users ADD COLUMN x int;\nALTER TABLE users ALTR COLUMN y int;\n";
    const findings = await lintSql(sql, 'bad.sql');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'syntax-error', severity: 'error', file: 'bad.sql', line: 4, column: 19 });
    expect(findings[0].message).toContain('syntax error at or near "ALTR"');
    expect(findings[0].statement).toBe('ALTER TABLE users ALTR COLUMN y int;');
    expect(findings[0].fix).toContain('bad.sql:4:19');
  });

  it('reports a syntax error at the end of the input on the last line', async () => {
    const findings = await lintSql('SELECT 1;\nALTER TABLE users ADD COLUMN', 'eof.sql');
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['syntax-error', 2]]);
  });

  it('treats the whole file as one transaction with assumeInTransaction', async () => {
    const sql = 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);';
    expect(await lintSql(sql, 'a.sql')).toEqual([]);
    const inTx = await lintSql(sql, 'a.sql', { assumeInTransaction: true });
    expect(inTx.map((f) => f.rule)).toEqual(['concurrent-index-in-transaction']);
    const afterCommit = await lintSql(`COMMIT;\n${sql}`, 'a.sql', { assumeInTransaction: true });
    expect(afterCommit).toEqual([]);
  });

  it('skips hazards on tables the same file creates', async () => {
    const sql = [
      'CREATE TABLE carts (id bigint, user_id bigint, note varchar(10));',
      'CREATE INDEX carts_user_idx ON carts (user_id);',
      'ALTER TABLE carts ADD CONSTRAINT carts_pkey PRIMARY KEY (id), ALTER COLUMN note TYPE text, ALTER COLUMN user_id SET NOT NULL;',
      'ALTER TABLE carts ADD COLUMN token uuid DEFAULT gen_random_uuid();',
    ].join('\n');
    expect(await lintSql(sql, 'new.sql')).toEqual([]);
    const existing = await lintSql(sql.replace(/^CREATE TABLE.*\n/, ''), 'old.sql');
    expect(new Set(existing.map((f) => f.rule))).toEqual(
      new Set(['require-concurrent-index', 'require-lock-timeout', 'unique-constraint-without-index', 'alter-column-type-rewrite', 'set-not-null-without-check', 'add-column-volatile-default']),
    );
  });

  it('formats findings as file:line:col, severity, rule, statement, message and fix, with a summary', async () => {
    const findings = await lintFiles([join(dir, 'drop-column.bad.sql'), join(dir, 'alter-column-type-rewrite.bad.sql')]);
    const text = formatFindings(findings);
    expect(text).toContain(`${join(dir, 'drop-column.bad.sql')}:2:1: error drop-column\n  ALTER TABLE users DROP COLUMN fax\n`);
    expect(text).toContain('  fix: Use a Symphony migration operation instead: { drop_column: { table: users, column: fax');
    expect(text).toMatch(/: warning alter-column-type-rewrite\n/);
    expect(text.trimEnd().split('\n').pop()).toBe(
      '4 errors, 1 warning in 2 files; silence one with a `-- symphony-lint-ignore: <rule>` comment on the line above the statement',
    );
    expect(formatFindings([])).toBe('no locking hazards found\n');
  });

  it('documents every rule in docs/migration-lint.md', () => {
    const doc = readFileSync(join(import.meta.dirname, '../docs/migration-lint.md'), 'utf8');
    const missing = RULES.filter((r) => !doc.includes(`## ${r.name}`)).map((r) => r.name);
    expect(missing).toEqual([]);
  });
});
