import { cloneLayout, type Layout, type TableLayout } from './layout.js';
import { BACKFILL_FLAG, BOOKKEEPING_SCHEMA, fitIdent, ident, literal, qualified, shortHash } from './names.js';
import { bodyOf, kindOf, type Migration } from './operations.js';
import type { OpContext } from './ops/common.js';
import { OPERATIONS } from './ops/index.js';
import { variableDecls, type BackfillStep, type MigrationPlan, type PlanBuilder } from './plan-types.js';

export type { BackfillFill, BackfillStep, MigrationPlan, MovedAside } from './plan-types.js';

/**
 * A table whose trigger fills exactly one column on the old side is backfilled
 * directly (the batch UPDATE computes the value, the trigger steps aside): about
 * half the work per row. Several fills stay with the trigger, which applies each
 * under its own condition.
 */
function backfillSteps(b: PlanBuilder): BackfillStep[] {
  return b.backfill.map((table) => {
    const fills = b.triggers.find((f) => f.table === table)?.fills ?? [];
    return { table, direct: fills.length === 1 ? fills[0] : null };
  });
}

/** `CREATE SCHEMA` + one security_invoker view per table of `layout`. */
export function viewStatements(schema: string, layout: Layout): string[] {
  const out = [`CREATE SCHEMA ${ident(schema)}`];
  for (const t of layout.tables) {
    const cols = t.columns.map((c) => (c.physical === c.name ? ident(c.name) : `${ident(c.physical)} AS ${ident(c.name)}`));
    out.push(`CREATE VIEW ${qualified(schema, t.name)} WITH (security_invoker = true) AS SELECT ${cols.join(', ')} FROM ${qualified(layout.schema, t.physical)}`);
  }
  return out;
}

function triggerNames(hash: string, table: string): { fn: string; trigger: string } {
  return { fn: `${BOOKKEEPING_SCHEMA}.${ident(fitIdent(`trg_${hash}_${table}`))}`, trigger: ident(`_sym_${hash}`) };
}

function triggerStatements(b: PlanBuilder): void {
  for (const f of b.triggers) {
    const oldTable = b.before.tables.find((t) => t.physical === f.table) as TableLayout;
    const newTable = b.after.tables.find((t) => t.physical === f.table);
    const { fn, trigger } = triggerNames(b.hash, f.table);
    const branch = (decls: string, body: string[]) => (body.length ? `DECLARE ${decls} BEGIN ${body.join(' ')} END;` : 'NULL;');
    const body = [
      `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $sym$`,
      '#variable_conflict use_variable',
      'BEGIN',
      `IF ${BOOKKEEPING_SCHEMA}.in_version(${literal(b.schema)}) THEN`,
      branch(variableDecls(newTable?.columns ?? []), f.newSide),
      'ELSE',
      branch(variableDecls(oldTable.columns), f.oldSide),
      'END IF;',
      'RETURN NEW;',
      'END $sym$',
    ].join('\n');
    const table = qualified(b.base, f.table);
    // A direct backfill batch computes the fill in its own UPDATE (see BackfillStep): WHEN skips
    // the function call for its rows without entering PL/pgSQL.
    const when = `current_setting(${literal(BACKFILL_FLAG)}, true) IS DISTINCT FROM ${literal(b.hash)}`;
    b.startTx.push(body, `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${fn}()`);
    const drop = [`DROP TRIGGER IF EXISTS ${trigger} ON ${table}`, `DROP FUNCTION IF EXISTS ${fn}()`];
    b.completeTx.unshift(...drop);
    b.rollbackTx.unshift(...drop);
    b.abortTx.unshift(...drop);
  }
}

/**
 * Plan one migration from the layout of the version before it. Pure: the same
 * inputs give the same statements, so complete and rollback re-plan from the
 * bookkeeping row instead of storing SQL. `asideTaken` (rollback only) lists the
 * names in use, so a second rollback of the same version keeps its data under new names.
 */
export function planMigration(before: Layout, m: Migration, schema: string, asideTaken: ReadonlySet<string> = new Set()): MigrationPlan {
  const b: PlanBuilder = {
    version: m.name, schema, base: before.schema, hash: shortHash(m.name), before, after: cloneLayout(before),
    rereadAfterStart: false, startTx: [], startConcurrent: [], startAfterBackfill: [], views: [], backfill: [], backfillSteps: [], validate: [],
    completeTx: [], completeConcurrent: [], rollbackTx: [], rollbackConcurrent: [], abortTx: [], abortConcurrent: [],
    movedAside: [], triggers: [], completeLast: [], viewDefaults: [], touched: new Set(), seq: 0, asideTaken,
  };
  m.operations.forEach((op, i) => {
    const kind = kindOf(op);
    const line = m.lines?.[i];
    const ctx: OpContext = { where: `${m.file}${line ? `:${line}` : ''}: operations.${i} (${kind})`, alone: m.operations.length === 1 };
    (OPERATIONS[kind].plan as (b: PlanBuilder, body: unknown, ctx: OpContext) => void)(b, bodyOf(op), ctx);
  });
  triggerStatements(b);
  b.backfillSteps = backfillSteps(b);
  b.views = viewStatements(schema, b.after);
  for (const d of b.viewDefaults) {
    const t = b.after.tables.find((x) => x.physical === d.table) as TableLayout;
    b.views.push(`ALTER VIEW ${qualified(schema, t.name)} ALTER COLUMN ${ident(d.column)} ${d.default === null ? 'DROP DEFAULT' : `SET DEFAULT ${d.default}`}`);
  }
  const dropSchema = `DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`;
  b.rollbackTx.unshift(dropSchema);
  b.abortTx.unshift(dropSchema);
  b.completeTx.push(...b.completeLast);
  const { triggers: _t, completeLast: _c, viewDefaults: _v, touched: _x, seq: _s, asideTaken: _a, ...plan } = b;
  return plan;
}
