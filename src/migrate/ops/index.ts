import type { z } from 'zod';
import type { PlanBuilder } from '../plan-types.js';
import { AddColumnSpec, planAddColumn } from './add-column.js';
import { AlterColumnSpec, planAlterColumn } from './alter-column.js';
import type { OpContext } from './common.js';
import { CreateConstraintSpec, planCreateConstraint } from './create-constraint.js';
import { CreateIndexSpec, planCreateIndex } from './create-index.js';
import { CreateTableSpec, planCreateTable } from './create-table.js';
import { DropColumnSpec, planDropColumn } from './drop-column.js';
import { DropConstraintSpec, planDropConstraint } from './drop-constraint.js';
import { DropIndexSpec, planDropIndex } from './drop-index.js';
import { DropMultiColumnConstraintSpec, planDropMultiColumnConstraint } from './drop-multicolumn-constraint.js';
import { DropTableSpec, planDropTable } from './drop-table.js';
import { RawSqlSpec, planSql } from './raw-sql.js';
import { RenameColumnSpec, planRenameColumn } from './rename-column.js';
import { RenameConstraintSpec, planRenameConstraint } from './rename-constraint.js';
import { RenameTableSpec, planRenameTable } from './rename-table.js';
import { SetReplicaIdentitySpec, planSetReplicaIdentity } from './set-replica-identity.js';

/** One operation kind: the schema of its body and its planner. Adding an operation is adding a file and a line here. */
export interface OperationDef<S extends z.ZodType> {
  schema: S;
  plan(b: PlanBuilder, op: z.output<S>, ctx: OpContext): void;
}

function op<S extends z.ZodType>(schema: S, plan: (b: PlanBuilder, op: z.output<S>, ctx: OpContext) => void): OperationDef<S> {
  return { schema, plan };
}

/** Every operation of pgroll's format, by the key that names it in a migration file. */
export const OPERATIONS = {
  create_table: op(CreateTableSpec, planCreateTable),
  drop_table: op(DropTableSpec, planDropTable),
  rename_table: op(RenameTableSpec, planRenameTable),
  add_column: op(AddColumnSpec, planAddColumn),
  drop_column: op(DropColumnSpec, planDropColumn),
  rename_column: op(RenameColumnSpec, planRenameColumn),
  alter_column: op(AlterColumnSpec, planAlterColumn),
  create_index: op(CreateIndexSpec, planCreateIndex),
  drop_index: op(DropIndexSpec, planDropIndex),
  create_constraint: op(CreateConstraintSpec, planCreateConstraint),
  drop_constraint: op(DropConstraintSpec, planDropConstraint),
  drop_multicolumn_constraint: op(DropMultiColumnConstraintSpec, planDropMultiColumnConstraint),
  rename_constraint: op(RenameConstraintSpec, planRenameConstraint),
  set_replica_identity: op(SetReplicaIdentitySpec, planSetReplicaIdentity),
  sql: op(RawSqlSpec, planSql),
} as const;
