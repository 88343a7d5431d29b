import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LintInputError, lintFiles } from '../src/migrate/lint/index.js';

const dir = join(import.meta.dirname, 'fixtures/lint');
const scratch = mkdtempSync(join(tmpdir(), 'symphony-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('lintFiles on migration files', () => {
  it('lints the sql operations of a YAML migration at their lines in the file, as the engine runs them', async () => {
    const findings = await lintFiles([join(dir, 'migration.yaml')]);
    expect(findings.map((f) => `${f.rule}@${f.line}:${f.column}`)).toEqual([
      'require-concurrent-index@8:9',
      'rename-column@9:9',
      'require-concurrent-drop-index@11:13',
    ]);
    expect(findings[0].message).toMatch(/^operations\[1\]\.sql\.up: /);
    expect(findings[2].message).toMatch(/^operations\[1\]\.sql\.down: /);
    // The engine runs sql operations in a transaction with lock_timeout set: no lock-timeout finding, and the fix says so.
    expect(findings[0].fix).toContain('create_index / drop_index operation');
  });

  it('lints the sql operations of a JSON (pgroll-style) migration', async () => {
    const findings = await lintFiles([join(dir, 'migration.json')]);
    expect(findings.map((f) => `${f.rule}@${f.line}`)).toEqual(['add-column-volatile-default@3', 'concurrent-index-in-transaction@4']);
  });

  it('can lint embedded SQL as if it ran alone, outside a transaction and without a timeout', async () => {
    const findings = await lintFiles([join(dir, 'migration.json')], { assumeInTransaction: false, assumeLockTimeout: false });
    expect(findings.map((f) => f.rule)).toEqual(['require-lock-timeout', 'add-column-volatile-default']);
  });

  it('reports a malformed migration file as a syntax-error finding with its line', async () => {
    const findings = await lintFiles([join(dir, 'broken.yaml')]);
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['syntax-error', 5]]);
  });

  it('expands a directory to its .sql/.yaml/.yml/.json files in name order', async () => {
    copyFileSync(join(dir, 'drop-column.bad.sql'), join(scratch, '002_drop.sql'));
    copyFileSync(join(dir, 'migration.json'), join(scratch, '001_token.json'));
    writeFileSync(join(scratch, 'README.md'), 'not a migration');
    const findings = await lintFiles([scratch]);
    expect(findings.map((f) => `${f.file.slice(scratch.length + 1)}:${f.rule}`)).toEqual([
      '001_token.json:add-column-volatile-default',
      '001_token.json:concurrent-index-in-transaction',
      '002_drop.sql:drop-column',
    ]);
  });

  it('refuses a missing file and an unknown file type with a typed error that says what to pass', async () => {
    await expect(lintFiles([join(scratch, 'nope.sql')])).rejects.toBeInstanceOf(LintInputError);
    const md = join(scratch, 'README.md');
    writeFileSync(md, 'x');
    const err = await lintFiles([md]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LintInputError);
    expect((err as LintInputError).message).toBe(`cannot lint ${md}: unknown file type '.md'; expected .sql, .yaml, .yml or .json`);
    expect((err as LintInputError).hint).toContain('symphony migrate lint');
  });
});
