import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { lintFiles, RULES } from '../src/migrate/lint/index.js';

const dir = join(import.meta.dirname, 'fixtures/lint');

/** Each rule's bad fixture and exactly what it must produce: [line, severity]. The safe fixture must produce nothing. */
const CASES: Record<string, Array<[number, 'error' | 'warning']>> = {
  'require-concurrent-index': [[2, 'error'], [3, 'error'], [5, 'error']],
  'require-concurrent-drop-index': [[2, 'error'], [3, 'error']],
  'concurrent-index-in-transaction': [[2, 'error'], [5, 'error']],
  'set-not-null-without-check': [[2, 'error'], [4, 'error'], [7, 'error']],
  'add-column-volatile-default': [[2, 'error'], [3, 'error'], [4, 'error'], [5, 'error'], [6, 'warning']],
  'add-not-null-column-without-default': [[2, 'error']],
  'alter-column-type-rewrite': [[2, 'error'], [3, 'error'], [4, 'warning'], [6, 'error']],
  'require-lock-timeout': [[1, 'error'], [6, 'error'], [11, 'error'], [15, 'error'], [20, 'error']],
  'unique-constraint-without-index': [[2, 'error'], [3, 'error'], [4, 'error']],
  'constraint-without-not-valid': [[2, 'error'], [3, 'error'], [4, 'error']],
  'drop-table': [[2, 'error'], [3, 'error'], [3, 'error']],
  'drop-column': [[2, 'error']],
  'rename-column': [[2, 'error']],
  'rename-table': [[2, 'error']],
  'vacuum-full-or-cluster': [[2, 'error'], [3, 'error'], [4, 'error']],
  'truncate-table': [[2, 'error'], [3, 'error']],
  'syntax-error': [[3, 'error']],
};

describe('migration lint rules: one bad and one safe fixture per rule', () => {
  it('has a fixture pair for every rule in the catalogue', () => {
    expect(Object.keys(CASES).sort()).toEqual(RULES.map((r) => r.name).sort());
  });

  for (const [rule, expected] of Object.entries(CASES)) {
    it(`${rule}: flags exactly the hazardous statements of the bad fixture`, async () => {
      const file = join(dir, `${rule}.bad.sql`);
      const findings = await lintFiles([file]);
      expect(findings.map((f) => [f.rule, f.line, f.severity])).toEqual(expected.map(([line, sev]) => [rule, line, sev]));
      for (const f of findings) {
        expect(f.file).toBe(file);
        expect(f.message.length).toBeGreaterThan(40);
        expect(f.fix.length).toBeGreaterThan(20);
        expect(f.statement.length).toBeGreaterThan(0);
        expect(f.statement.length).toBeLessThanOrEqual(120);
      }
    });

    it(`${rule}: finds nothing in the safe fixture`, async () => {
      expect(await lintFiles([join(dir, `${rule}.safe.sql`)])).toEqual([]);
    });
  }

  it('names the lock and what it blocks, and gives concrete SQL as the fix', async () => {
    const [index] = await lintFiles([join(dir, 'require-concurrent-index.bad.sql')]);
    expect(index.message).toContain('SHARE lock on orders');
    expect(index.fix).toContain('CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);');

    const [notNull] = await lintFiles([join(dir, 'set-not-null-without-check.bad.sql')]);
    expect(notNull.message).toContain('ACCESS EXCLUSIVE');
    expect(notNull.fix).toContain('ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;');
    expect(notNull.fix).toContain('ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;');

    const unique = await lintFiles([join(dir, 'unique-constraint-without-index.bad.sql')]);
    expect(unique[0].fix).toContain('CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);');
    expect(unique[0].fix).toContain('ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;');

    const [fk] = await lintFiles([join(dir, 'constraint-without-not-valid.bad.sql')]);
    expect(fk.message).toContain('SHARE ROW EXCLUSIVE lock on orders and on users');
    expect(fk.fix).toContain('REFERENCES users (id) NOT VALID;');

    const drops = await lintFiles([join(dir, 'require-concurrent-drop-index.bad.sql')]);
    expect(drops[1].fix).toContain('DROP INDEX CONCURRENTLY IF EXISTS orders_a_idx;\nDROP INDEX CONCURRENTLY IF EXISTS orders_b_idx;');
  });

  it('explains an unbounded lock wait and the SET that bounds it', async () => {
    const [first] = await lintFiles([join(dir, 'require-lock-timeout.bad.sql')]);
    expect(first.message).toContain('ACCESS EXCLUSIVE lock on users');
    expect(first.fix).toContain("SET lock_timeout = '2s';");
  });
});
