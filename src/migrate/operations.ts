import type { z } from 'zod';
import { OPERATIONS } from './ops/index.js';

export type { Column, References, Check } from './ops/column.js';
export type { AddColumn } from './ops/add-column.js';
export type { AlterColumn } from './ops/alter-column.js';
export type { CreateConstraint } from './ops/create-constraint.js';
export type { CreateIndex } from './ops/create-index.js';
export type { CreateTable } from './ops/create-table.js';
export type { DropColumn } from './ops/drop-column.js';
export type { DropConstraint } from './ops/drop-constraint.js';
export type { DropIndex } from './ops/drop-index.js';
export type { DropMultiColumnConstraint } from './ops/drop-multicolumn-constraint.js';
export type { DropTable } from './ops/drop-table.js';
export type { RawSql } from './ops/raw-sql.js';
export type { RenameColumn } from './ops/rename-column.js';
export type { RenameConstraint } from './ops/rename-constraint.js';
export type { RenameTable } from './ops/rename-table.js';
export type { SetReplicaIdentity } from './ops/set-replica-identity.js';

export type OperationKind = keyof typeof OPERATIONS;
export const OPERATION_KINDS = Object.keys(OPERATIONS) as OperationKind[];

/** The schema of each operation's body, by kind. */
export const OperationSpecs = Object.fromEntries(OPERATION_KINDS.map((k) => [k, OPERATIONS[k].schema])) as { [K in OperationKind]: (typeof OPERATIONS)[K]['schema'] };

/** One declarative operation: exactly one key naming its kind (pgroll's shape), its body as parsed. */
export type Operation = { [K in OperationKind]: { [P in K]: z.output<(typeof OPERATIONS)[K]['schema']> } }[OperationKind];

/** One migration file: one schema version. `name` is the file's base name. */
export interface Migration {
  name: string;
  file: string;
  operations: Operation[];
  /** pgroll's `version_schema`: the version's schema is `<prefix>_<versionSchema>` instead of `<prefix>_<name>`. */
  versionSchema?: string;
  /** Line of each operation in its file (absent for migrations re-read from the bookkeeping). */
  lines?: number[];
}

export function kindOf(op: Operation): OperationKind {
  return Object.keys(op)[0] as OperationKind;
}

/** The body of an operation, whatever its kind. */
export function bodyOf(op: Operation): unknown {
  return (op as Record<string, unknown>)[kindOf(op)];
}

/**
 * Operations re-read from the bookkeeping, parsed again so they have the shape
 * the planners expect (a record written by an earlier release may use an older spelling).
 */
export function normalizeOperations(ops: Operation[]): Operation[] {
  return ops.map((op) => {
    const kind = kindOf(op);
    const parsed = (OPERATIONS[kind].schema as z.ZodType).safeParse(bodyOf(op));
    return parsed.success ? ({ [kind]: parsed.data } as Operation) : op;
  });
}
