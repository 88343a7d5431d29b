/**
 * The migration linter behind `symphony migrate lint`: flags locking hazards
 * and release-breaking changes in raw SQL, parsed by the real Postgres parser
 * (libpg-query). Rules and their fixes: docs/migration-lint.md.
 */
export type { LintFinding, LintOptions, RuleInfo, Severity } from './types.js';
export { lintSql } from './engine.js';
export { lintFiles, LintInputError } from './files.js';
export { formatFindings } from './format.js';
export { RULES } from './rules/catalog.js';
