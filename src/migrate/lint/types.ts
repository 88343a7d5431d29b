import type { Node } from 'libpg-query';

export type Severity = 'error' | 'warning';

/** One hazard found in a migration: where it is, why it hurts, and what to write instead. */
export interface LintFinding {
  rule: string;
  severity: Severity;
  file: string;
  /** 1-based line of the statement's first token. */
  line: number;
  /** 1-based column (in characters) of the statement's first token. */
  column: number;
  /** The statement, whitespace collapsed, first 120 characters. */
  statement: string;
  /** What is hazardous and why: which lock, what it blocks or breaks. */
  message: string;
  /** The safe alternative, concrete SQL when possible. */
  fix: string;
}

export interface LintOptions {
  /** The migration runner wraps the whole file in one transaction (BEGIN ... COMMIT). */
  assumeInTransaction?: boolean;
  /** The runner sets a lock_timeout before the file runs (Symphony's engine does, for `sql` operations). */
  assumeLockTimeout?: boolean;
  /** Rule names to skip everywhere in the file. */
  ignore?: string[];
}

/** A rule's catalogue entry, as listed by `symphony migrate lint --rules` and docs/migration-lint.md. */
export interface RuleInfo {
  name: string;
  severity: Severity;
  summary: string;
}

/** What a rule reports before the engine attaches the position and statement text. */
export interface Hazard {
  rule: string;
  message: string;
  fix: string;
  /** Defaults to the rule's catalogue severity; a rule lowers it when it cannot be sure. */
  severity?: Severity;
}

/** A validated or pending CHECK (col IS NOT NULL) seen earlier in the file. */
export interface NotNullCheck {
  table: string;
  column: string;
  name?: string;
  validated: boolean;
}

/**
 * What the statements before the current one did to the session, as far as the
 * rules care. Rules read it; only the session tracker (session.ts) writes it.
 */
export interface SessionView {
  inTransaction: boolean;
  /** A non-zero lock_timeout is in effect for the next statement. */
  lockTimeoutSet: boolean;
  /** Tables created earlier in this file: nobody else can be using them yet. */
  createdTables: ReadonlySet<string>;
  notNullChecks: readonly NotNullCheck[];
  /** Indexes created earlier in this file. */
  createdIndexes: ReadonlySet<string>;
  /** Column types known from CREATE TABLE / ADD COLUMN earlier in this file, keyed `table.column`. */
  columnTypes: ReadonlyMap<string, ColumnType>;
  /** A statement already ran with an ACCESS EXCLUSIVE lock and no lock_timeout since the last time one was set. */
  unboundedLockReported: boolean;
}

/** A column type reduced to what rewrite decisions need. */
export interface ColumnType {
  /** Canonical name: `varchar`, `numeric`, `text`, `int4`... */
  name: string;
  /** Type modifiers: varchar(n) → [n]; numeric(p,s) → [p, s]; none → []. */
  mods: number[];
  array: boolean;
}

/**
 * A check over one parsed statement. Pure: reads the statement, its source text
 * (for fixes) and the session so far, returns hazards.
 */
export type StatementRule = (stmt: Node, session: SessionView, text: string) => Hazard[];
