import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import type { LintFinding, LintOptions } from './types.js';
import { SymphonyError } from '../../errors.js';
import { excerpt, lintSql } from './engine.js';

/** A migration file could not be read or is of a kind the linter does not know. */
export class LintInputError extends SymphonyError {
  override readonly code = 'lint_input';
  constructor(readonly file: string, detail: string) {
    super(`cannot lint ${file}: ${detail}`, 'pass .sql files, or YAML/JSON migration files: symphony migrate lint <file>...');
  }
}

const MIGRATION_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const LINTABLE = new Set(['.sql', ...MIGRATION_EXTENSIONS]);

/**
 * Lint `.sql` files, and the `sql` operations (`up` and `down`) of YAML/JSON
 * migration files. A directory means the lintable files directly inside it,
 * in name order. SQL embedded in a migration file is linted the way Symphony's
 * engine runs it: inside a transaction, with a lock_timeout already set
 * (override with `opts`).
 */
export async function lintFiles(paths: string[], opts: LintOptions = {}): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  for (const file of await expand(paths)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new LintInputError(file, (err as Error).message);
    }
    const ext = extname(file).toLowerCase();
    if (ext === '.sql') findings.push(...(await lintSql(text, file, opts)));
    else if (MIGRATION_EXTENSIONS.has(ext)) findings.push(...(await lintMigrationFile(text, file, opts)));
    else throw new LintInputError(file, `unknown file type '${ext || '(none)'}'; expected .sql, .yaml, .yml or .json`);
  }
  return findings;
}

async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch((err: Error) => {
      throw new LintInputError(p, err.message);
    });
    if (!info.isDirectory()) {
      out.push(p);
      continue;
    }
    const entries = (await readdir(p)).filter((n) => LINTABLE.has(extname(n).toLowerCase())).sort();
    out.push(...entries.map((n) => join(p, n)));
  }
  return out;
}

/** Lint every `operations[i].sql.up` / `.down` body, with findings placed at their lines in the migration file. */
async function lintMigrationFile(text: string, file: string, opts: LintOptions): Promise<LintFinding[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    const line = text.split('\n')[pos.line - 1] ?? '';
    return [
      {
        rule: 'syntax-error',
        severity: 'error',
        file,
        line: pos.line,
        column: pos.col,
        statement: excerpt(line),
        message: `the migration file does not parse: ${e.message.split('\n')[0]}; no SQL in it was checked`,
        fix: `Correct the file at ${file}:${pos.line}:${pos.col}, then run: symphony migrate lint ${file}`,
      },
    ];
  }
  const operations = isMap(doc.contents) ? doc.contents.get('operations', true) : undefined;
  if (!isSeq(operations)) return [];
  const embedded: LintOptions = { assumeInTransaction: true, assumeLockTimeout: true, ...opts };
  const findings: LintFinding[] = [];
  for (const [i, op] of operations.items.entries()) {
    const sql = isMap(op) ? op.get('sql', true) : undefined;
    if (!isMap(sql)) continue;
    for (const side of ['up', 'down'] as const) {
      const node = sql.get(side, true);
      if (!isScalar(node) || typeof node.value !== 'string' || !node.range) continue;
      const where = `operations[${i}].sql.${side}`;
      for (const f of await lintSql(node.value, file, embedded)) {
        findings.push({ ...f, ...placeInFile(node, text, lines, f), message: `${where}: ${f.message}` });
      }
    }
  }
  return findings;
}

/**
 * Map a position inside an embedded SQL string to the migration file. Exact for
 * block scalars (`up: |`); for quoted or JSON strings, the string's own position.
 */
function placeInFile(node: Scalar, text: string, lines: LineCounter, f: LintFinding): { line: number; column: number } {
  const start = lines.linePos(node.range?.[0] ?? 0);
  if (node.type === Scalar.BLOCK_LITERAL) {
    const contentLines = text.split('\n').slice(start.line);
    const firstContent = contentLines.find((l) => l.trim() !== '') ?? '';
    const indent = firstContent.length - firstContent.trimStart().length;
    return { line: start.line + f.line, column: f.column + indent };
  }
  return { line: start.line, column: start.col };
}
