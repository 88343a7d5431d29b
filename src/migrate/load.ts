import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { MigrationError } from '../errors.js';
import { MigrationFileError, type MigrationFileIssue } from './errors.js';
import { OPERATION_KINDS, OperationSpecs, type Migration, type Operation, type OperationKind } from './operations.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function positionOf(doc: Document, lines: LineCounter, path: (string | number)[]): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}

/**
 * Parse one migration file (YAML or JSON; pgroll's files are accepted as they
 * are). The version name is the file's base name. Throws MigrationFileError
 * listing every problem with its line.
 */
export function parseMigration(text: string, file: string): Migration {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const issues: MigrationFileIssue[] = [];
  const issue = (path: (string | number)[], message: string) => issues.push({ file, ...positionOf(doc, lines, path), path: path.join('.'), message });
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    issues.push({ file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] });
  }
  if (issues.length) throw new MigrationFileError(issues);
  const root: unknown = doc.toJS();
  const name = basename(file, extname(file));
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new MigrationFileError([{ file, line: 1, column: 1, path: '', message: 'expected a mapping with `operations:` (a list)' }]);
  }
  const body = root as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (key !== 'name' && key !== 'operations' && key !== 'version_schema') issue([key], `unknown key '${key}'; allowed: name, version_schema, operations`);
  }
  if (body.name !== undefined && typeof body.name !== 'string') issue(['name'], 'expected a string');
  const versionSchema = body.version_schema;
  if (versionSchema !== undefined && (typeof versionSchema !== 'string' || !/^[A-Za-z0-9_]{1,50}$/.test(versionSchema))) {
    issue(['version_schema'], 'expected a schema name suffix: 1 to 50 letters, digits or _');
  }
  if (!Array.isArray(body.operations) || body.operations.length === 0) {
    issue(['operations'], 'expected a non-empty list of operations');
    throw new MigrationFileError(issues);
  }
  const operations: Operation[] = [];
  const opLines: number[] = [];
  body.operations.forEach((raw: unknown, i: number) => {
    const keys = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.keys(raw) : [];
    if (keys.length !== 1 || !OPERATION_KINDS.includes(keys[0] as OperationKind)) {
      issue(['operations', i], `expected exactly one operation, one of: ${OPERATION_KINDS.join(', ')}${keys.length ? ` (got: ${keys.join(', ')})` : ''}`);
      return;
    }
    const kind = keys[0] as OperationKind;
    const schema: z.ZodType = OperationSpecs[kind];
    const parsed = schema.safeParse((raw as Record<string, unknown>)[kind]);
    if (!parsed.success) {
      for (const zi of parsed.error.issues) issue(['operations', i, kind, ...(zi.path as (string | number)[])], zi.message);
      return;
    }
    operations.push({ [kind]: parsed.data } as Operation);
    opLines.push(positionOf(doc, lines, ['operations', i]).line);
  });
  if (issues.length) throw new MigrationFileError(issues);
  return { name, file, operations, lines: opLines, ...(typeof versionSchema === 'string' ? { versionSchema } : {}) };
}

/** Every migration file of a directory, ordered by file name. */
export function loadMigrations(dir: string): Migration[] {
  const root = resolve(dir);
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    throw new MigrationError(`migrations directory ${root} cannot be read`, 'check `migrations:` of the postgres service in the stack file');
  }
  const files = entries.filter((f) => EXTENSIONS.has(extname(f))).sort();
  const seen = new Map<string, string>();
  return files.map((f) => {
    const migration = parseMigration(readFileSync(join(root, f), 'utf8'), join(root, f));
    const other = seen.get(migration.name);
    if (other) throw new MigrationError(`two migration files share the version name ${migration.name}: ${other} and ${f}`, 'rename one of them');
    seen.set(migration.name, f);
    return migration;
  });
}
