import type { ColumnType } from '../types.js';
import { typeText } from '../ast.js';

/**
 * Type changes Postgres makes without rewriting the table or its indexes
 * (binary-coercible, and the new modifier admits every old value):
 *
 * - varchar(n) → varchar(m ≥ n), varchar, text
 * - text / varchar → varchar (no length limit)
 * - numeric(p, s) → numeric(p2 ≥ p, s), numeric (no modifiers)
 * - varbit(n) → varbit(m ≥ n), varbit
 * - cidr → inet
 * - the same type with the same modifiers (a no-op)
 *
 * Everything else (int4 → int8, text → int, timestamp ↔ timestamptz, varchar(n)
 * → varchar(m < n), char(n), any USING expression) rewrites or at least scans.
 */
export function rewriteFree(from: ColumnType, to: ColumnType): boolean {
  if (from.array !== to.array) return false;
  if (from.name === to.name && sameMods(from.mods, to.mods)) return true;
  const widens = (): boolean => to.mods.length === 0 || (from.mods.length > 0 && to.mods[0] >= from.mods[0]);
  switch (from.name) {
    case 'varchar':
      return to.name === 'text' || (to.name === 'varchar' && widens());
    case 'text':
      return to.name === 'varchar' && to.mods.length === 0;
    case 'numeric':
      if (to.name !== 'numeric') return false;
      if (to.mods.length === 0) return true;
      return from.mods.length > 0 && to.mods[0] >= from.mods[0] && (to.mods[1] ?? 0) === (from.mods[1] ?? 0);
    case 'varbit':
      return to.name === 'varbit' && widens();
    case 'cidr':
      return to.name === 'inet';
    default:
      return false;
  }
}

/** Target types that some common old type reaches without a rewrite; used when the old type is unknown. */
const MAYBE_FREE_TARGETS = new Set(['varchar', 'text', 'numeric', 'varbit', 'inet']);

export type TypeChangeVerdict =
  | { kind: 'free' }
  | { kind: 'rewrite'; reason: string }
  | { kind: 'unknown'; reason: string };

/** Decide whether `ALTER COLUMN ... TYPE to [USING ...]` rewrites the table. */
export function judgeTypeChange(from: ColumnType | undefined, to: ColumnType, hasUsing: boolean): TypeChangeVerdict {
  if (hasUsing) return { kind: 'rewrite', reason: `the USING expression is evaluated for every row, so every row and every index is rewritten` };
  if (from) {
    return rewriteFree(from, to)
      ? { kind: 'free' }
      : { kind: 'rewrite', reason: `${typeText(from)} → ${typeText(to)} is not binary-coercible, so every row and every index is rewritten` };
  }
  if (MAYBE_FREE_TARGETS.has(to.name) && !to.array) {
    return {
      kind: 'unknown',
      reason: `it rewrites every row and index, unless the current type (not visible in this file) is a narrower varchar, text, numeric, varbit or cidr that converts to ${typeText(to)} without a rewrite (see docs/migration-lint.md)`,
    };
  }
  return { kind: 'rewrite', reason: `no common type converts to ${typeText(to)} without a rewrite, so every row and every index is rewritten` };
}

function sameMods(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
