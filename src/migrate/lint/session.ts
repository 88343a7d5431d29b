import type { Node, VariableSetStmt, A_Const, AlterTableStmt } from 'libpg-query';
import type { ColumnType, NotNullCheck, SessionView } from './types.js';
import { columnConstraints, columnType, names, notNullColumn, tableName } from './ast.js';
import { accessExclusiveTargets } from './rules/locks.js';

/**
 * Follows a migration file statement by statement, the way one Postgres session
 * would run it: transaction blocks, the lock_timeout in effect (SET, SET LOCAL,
 * RESET, set_config, undone by ROLLBACK, ended by COMMIT), tables created here,
 * and CHECK (col IS NOT NULL) constraints added and validated here.
 */
export class SessionTracker implements SessionView {
  inTransaction: boolean;
  readonly createdTables = new Set<string>();
  readonly notNullChecks: NotNullCheck[] = [];
  readonly createdIndexes = new Set<string>();
  readonly columnTypes = new Map<string, ColumnType>();
  unboundedLockReported = false;
  private sessionTimeout = false;
  private localTimeout: boolean | undefined;
  private timeoutAtBegin = false;

  constructor(assumeInTransaction: boolean, assumeLockTimeout: boolean) {
    this.inTransaction = assumeInTransaction;
    this.sessionTimeout = assumeLockTimeout;
    this.timeoutAtBegin = assumeLockTimeout;
  }

  get lockTimeoutSet(): boolean {
    return this.localTimeout ?? this.sessionTimeout;
  }

  /** True for a table or index created earlier in this file. */
  readonly isNew = (relation: string): boolean => this.createdTables.has(relation) || this.createdIndexes.has(relation);

  /** Apply one statement's effects, after the rules have looked at it. */
  advance(stmt: Node): void {
    if (!this.lockTimeoutSet && accessExclusiveTargets(stmt, this.isNew).length > 0) this.unboundedLockReported = true;
    this.apply(stmt);
    if (this.lockTimeoutSet) this.unboundedLockReported = false;
  }

  private apply(stmt: Node): void {
    if ('IndexStmt' in stmt && stmt.IndexStmt.idxname) {
      const schema = stmt.IndexStmt.relation?.schemaname;
      this.createdIndexes.add(schema ? `${schema}.${stmt.IndexStmt.idxname}` : stmt.IndexStmt.idxname);
    } else if ('TransactionStmt' in stmt) this.transaction(stmt.TransactionStmt.kind);
    else if ('VariableSetStmt' in stmt) this.variable(stmt.VariableSetStmt);
    else if ('SelectStmt' in stmt) this.setConfigCalls(stmt);
    else if ('CreateStmt' in stmt) {
      const table = tableName(stmt.CreateStmt.relation);
      this.createdTables.add(table);
      for (const elt of stmt.CreateStmt.tableElts ?? []) {
        if ('ColumnDef' in elt && elt.ColumnDef.colname) {
          this.columnTypes.set(`${table}.${elt.ColumnDef.colname}`, columnType(elt.ColumnDef.typeName));
        }
      }
    } else if ('CreateTableAsStmt' in stmt) this.createdTables.add(tableName(stmt.CreateTableAsStmt.into?.rel));
    else if ('AlterTableStmt' in stmt) this.alterTable(stmt.AlterTableStmt);
  }

  private transaction(kind: string | undefined): void {
    if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') {
      this.inTransaction = true;
      this.timeoutAtBegin = this.sessionTimeout;
    } else if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_PREPARE') {
      this.inTransaction = false;
      this.localTimeout = undefined;
    } else if (kind === 'TRANS_STMT_ROLLBACK') {
      this.inTransaction = false;
      this.localTimeout = undefined;
      this.sessionTimeout = this.timeoutAtBegin;
    }
  }

  private variable(set: VariableSetStmt): void {
    if (set.kind === 'VAR_RESET_ALL' || (set.kind === 'VAR_RESET' && set.name === 'lock_timeout')) {
      this.sessionTimeout = false;
      this.localTimeout = undefined;
      return;
    }
    if (set.name !== 'lock_timeout') return;
    const on = set.kind === 'VAR_SET_VALUE' && !isZero(set.args?.[0]);
    this.setTimeout(on, set.is_local === true);
  }

  private setTimeout(on: boolean, local: boolean): void {
    if (local) {
      if (this.inTransaction) this.localTimeout = on;
      return;
    }
    this.sessionTimeout = on;
    this.localTimeout = undefined;
  }

  /** `SELECT set_config('lock_timeout', '2s', is_local)` is SET spelled as a function. */
  private setConfigCalls(stmt: Node): void {
    if (!('SelectStmt' in stmt)) return;
    for (const target of stmt.SelectStmt.targetList ?? []) {
      const val = 'ResTarget' in target ? target.ResTarget.val : undefined;
      if (!val || !('FuncCall' in val)) continue;
      const fn = names(val.FuncCall.funcname);
      const args = val.FuncCall.args ?? [];
      if (fn[fn.length - 1] !== 'set_config' || args.length !== 3) continue;
      const [name, value, local] = args.map((a) => ('A_Const' in a ? a.A_Const : undefined));
      if (name?.sval?.sval !== 'lock_timeout' || !value) continue;
      this.setTimeout(!isZero({ A_Const: value }), local?.boolval?.boolval === true);
    }
  }

  private alterTable(alter: AlterTableStmt): void {
    const table = tableName(alter.relation);
    for (const c of alter.cmds ?? []) {
      if (!('AlterTableCmd' in c)) continue;
      const cmd = c.AlterTableCmd;
      const def = cmd.def;
      if (cmd.subtype === 'AT_AddColumn' && def && 'ColumnDef' in def && def.ColumnDef.colname) {
        this.columnTypes.set(`${table}.${def.ColumnDef.colname}`, columnType(def.ColumnDef.typeName));
        for (const con of columnConstraints(def.ColumnDef)) {
          if (con.contype === 'CONSTR_CHECK' && notNullColumn(con.raw_expr) === def.ColumnDef.colname) {
            this.notNullChecks.push({ table, column: def.ColumnDef.colname, name: con.conname, validated: !con.skip_validation });
          }
        }
      } else if (cmd.subtype === 'AT_AlterColumnType' && cmd.name && def && 'ColumnDef' in def) {
        this.columnTypes.set(`${table}.${cmd.name}`, columnType(def.ColumnDef.typeName));
      } else if (cmd.subtype === 'AT_AddConstraint' && def && 'Constraint' in def && def.Constraint.contype === 'CONSTR_CHECK') {
        const column = notNullColumn(def.Constraint.raw_expr);
        if (column) {
          this.notNullChecks.push({ table, column, name: def.Constraint.conname, validated: !def.Constraint.skip_validation });
        }
      } else if (cmd.subtype === 'AT_ValidateConstraint') {
        for (const check of this.notNullChecks) if (check.table === table && check.name === cmd.name) check.validated = true;
      }
    }
  }
}

/** A lock_timeout value of 0 (any unit) disables the timeout. */
function isZero(arg: Node | undefined): boolean {
  if (!arg || !('A_Const' in arg)) return false;
  const c: A_Const = arg.A_Const;
  if (c.ival !== undefined) return (c.ival.ival ?? 0) === 0;
  if (c.sval !== undefined) return /^\s*0+(\.0*)?\s*[a-z]*\s*$/i.test(c.sval.sval ?? '');
  if (c.fval !== undefined) return Number(c.fval.fval ?? '0') === 0;
  return false;
}
