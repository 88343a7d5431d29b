import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations, parseMigration, MigrationFileError, planMigration, type Layout } from '../src/migrate/index.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'migrations', 'pgroll');
const tmp = mkdtempSync(join(tmpdir(), 'sym-mig-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function issuesOf(text: string, file = 'm.yaml') {
  try {
    parseMigration(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(MigrationFileError);
    return (err as MigrationFileError).issues;
  }
  throw new Error('expected MigrationFileError');
}

describe('migration files', () => {
  it('loads pgroll JSON and YAML files in file-name order, named by file', () => {
    const ms = loadMigrations(fixtures);
    expect(ms.map((m) => m.name)).toEqual(['01_create_tables', '02_change_type']);
    expect(ms[0].operations[0]).toEqual({
      create_table: { name: 'customers', columns: [
        { name: 'id', type: 'integer', pk: true },
        { name: 'name', type: 'varchar(255)', unique: true },
        { name: 'bio', type: 'text', nullable: true },
      ] },
    });
    expect(ms[1].operations[1]).toEqual({ rename_column: { table: 'customers', from: 'name', to: 'full_name' } });
  });

  it('names line, column and path of a bad field', () => {
    const issues = issuesOf(`operations:\n  - add_column:\n      table: users\n      column:\n        name: email\n        type: 42\n`);
    expect(issues).toEqual([{ file: 'm.yaml', line: 6, column: 15, path: 'operations.0.add_column.column.type', message: expect.stringMatching(/expected string/) }]);
  });

  it('names an unknown operation and an unknown key', () => {
    const issues = issuesOf(`operations:\n  - add_colum: { table: users }\n  - drop_index: { name: i, extra: 1 }\n`);
    expect(issues.map((i) => [i.line, i.path])).toEqual([[2, 'operations.0'], [3, 'operations.1.drop_index']]);
    expect(issues[0].message).toMatch(/exactly one operation, one of: create_table.*\(got: add_colum\)/);
    expect(issues[1].message).toMatch(/extra/);
  });

  it('reports YAML syntax errors and missing operations with their line', () => {
    expect(issuesOf(`operations:\n  - sql: { up: "x"\n`)[0].line).toBeGreaterThanOrEqual(2);
    expect(issuesOf(`name: x\n`)).toEqual([{ file: 'm.yaml', line: 1, column: 1, path: 'operations', message: 'expected a non-empty list of operations' }]);
  });

  it('refuses two files with the same version name', () => {
    writeFileSync(join(tmp, '001.yaml'), 'operations:\n  - drop_index: { name: a }\n');
    writeFileSync(join(tmp, '001.json'), '{"operations": [{"drop_index": {"name": "a"}}]}');
    expect(() => loadMigrations(tmp)).toThrow(/two migration files share the version name 001/);
  });
});

describe('planner (pure)', () => {
  const before: Layout = { schema: 'public', tables: [{ name: 'users', physical: 'users', primaryKey: ['id'], columns: [
    { name: 'id', physical: 'id', type: 'integer', nullable: false, default: null },
    { name: 'name', physical: 'name', type: 'text', nullable: false, default: null },
  ] }] };

  it('renames through views at start and physically at complete', () => {
    const plan = planMigration(before, parseMigration('operations:\n  - rename_column: { table: users, column: name, name: full_name }\n', '0002_rename.yaml'), 'public_0002_rename');
    expect(plan.startTx).toEqual([]);
    expect(plan.views).toEqual([
      'CREATE SCHEMA "public_0002_rename"',
      'CREATE VIEW "public_0002_rename"."users" WITH (security_invoker = true) AS SELECT "id", "name" AS "full_name" FROM "public"."users"',
    ]);
    expect(plan.completeTx).toEqual(['ALTER TABLE "public"."users" RENAME COLUMN "name" TO "full_name"']);
    expect(plan.rollbackTx).toEqual(['DROP SCHEMA IF EXISTS "public_0002_rename" CASCADE']);
    expect(plan.backfill).toEqual([]);
  });

  it('adds a NOT NULL column as NOT VALID check, validated then SET NOT NULL at complete', () => {
    const plan = planMigration(before, parseMigration('operations:\n  - add_column: { table: users, column: { name: email, type: text }, up: "name" }\n', '3.yaml'), 'public_3');
    expect(plan.startTx[0]).toBe('ALTER TABLE "public"."users" ADD COLUMN "email" text');
    expect(plan.startTx[1]).toMatch(/^ALTER TABLE "public"."users" ADD CONSTRAINT "_sym_nn_[0-9a-f]{8}_email" CHECK \("email" IS NOT NULL\) NOT VALID$/);
    expect(plan.validate[0]).toMatch(/VALIDATE CONSTRAINT "_sym_nn_[0-9a-f]{8}_email"/);
    expect(plan.completeTx).toContain('ALTER TABLE "public"."users" ALTER COLUMN "email" SET NOT NULL');
    expect(plan.backfill).toEqual(['users']);
    expect(plan.movedAside).toEqual([{ kind: 'column', table: 'users', from: 'email', to: '_sym_rolled_back_3_email' }]);
  });

  it('refuses a NOT NULL column without up or default, and changing a column twice', () => {
    expect(() => planMigration(before, parseMigration('operations:\n  - add_column: { table: users, column: { name: x, type: int } }\n', '4.yaml'), 's')).toThrow(/neither `up` nor `default`/);
    expect(() => planMigration(before, parseMigration('operations:\n  - rename_column: { table: users, column: name, name: a }\n  - alter_column: { table: users, column: a, type: varchar(10) }\n', '5.yaml'), 's')).toThrow(/changed twice/);
  });
});
