import { z } from 'zod';

const Ident = z.string().min(1).max(63).regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'an identifier: letters, digits, _ and $, starting with a letter or _');
const Sql = z.string().min(1);

export const CheckSpec = z.strictObject({ name: Ident, constraint: Sql, no_inherit: z.boolean().optional() });
export const ReferencesSpec = z.strictObject({
  name: Ident,
  table: Ident,
  column: Ident,
  on_delete: z.enum(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION']).optional(),
});

/** A column as in pgroll: NOT NULL unless `nullable: true`. */
export const ColumnSpec = z.strictObject({
  name: Ident,
  type: Sql,
  nullable: z.boolean().optional(),
  unique: z.boolean().optional(),
  pk: z.boolean().optional(),
  default: z.string().nullable().optional(),
  check: CheckSpec.optional(),
  references: ReferencesSpec.optional(),
  comment: z.string().nullable().optional(),
});

export const OperationSpecs = {
  create_table: z.strictObject({ name: Ident, columns: z.array(ColumnSpec).min(1), comment: z.string().optional() }),
  drop_table: z.strictObject({ name: Ident }),
  rename_table: z.strictObject({ from: Ident, to: Ident }),
  add_column: z.strictObject({ table: Ident, column: ColumnSpec, up: Sql.optional() }),
  drop_column: z.strictObject({ table: Ident, column: Ident, down: Sql.optional() }),
  rename_column: z.strictObject({ table: Ident, column: Ident, name: Ident }),
  alter_column: z.strictObject({
    table: Ident,
    column: Ident,
    name: Ident.optional(),
    type: Sql.optional(),
    nullable: z.boolean().optional(),
    default: z.string().nullable().optional(),
    check: CheckSpec.optional(),
    unique: z.strictObject({ name: Ident }).optional(),
    references: ReferencesSpec.optional(),
    comment: z.string().nullable().optional(),
    up: Sql.optional(),
    down: Sql.optional(),
  }),
  create_index: z.strictObject({
    name: Ident,
    table: Ident,
    columns: z.array(Ident).min(1),
    unique: z.boolean().optional(),
    method: z.enum(['btree', 'hash', 'gist', 'spgist', 'gin', 'brin']).optional(),
    predicate: Sql.optional(),
  }),
  drop_index: z.strictObject({ name: Ident }),
  sql: z.strictObject({ up: Sql, down: Sql.optional(), onComplete: z.boolean().optional() }),
} as const;

export type OperationKind = keyof typeof OperationSpecs;
export const OPERATION_KINDS = Object.keys(OperationSpecs) as OperationKind[];

export type Column = z.infer<typeof ColumnSpec>;
export type References = z.infer<typeof ReferencesSpec>;
export type Check = z.infer<typeof CheckSpec>;
export type CreateTable = z.infer<(typeof OperationSpecs)['create_table']>;
export type DropTable = z.infer<(typeof OperationSpecs)['drop_table']>;
export type RenameTable = z.infer<(typeof OperationSpecs)['rename_table']>;
export type AddColumn = z.infer<(typeof OperationSpecs)['add_column']>;
export type DropColumn = z.infer<(typeof OperationSpecs)['drop_column']>;
export type RenameColumn = z.infer<(typeof OperationSpecs)['rename_column']>;
export type AlterColumn = z.infer<(typeof OperationSpecs)['alter_column']>;
export type CreateIndex = z.infer<(typeof OperationSpecs)['create_index']>;
export type DropIndex = z.infer<(typeof OperationSpecs)['drop_index']>;
export type RawSql = z.infer<(typeof OperationSpecs)['sql']>;

/** One declarative operation: exactly one key naming its kind (pgroll's shape). */
export type Operation =
  | { create_table: CreateTable }
  | { drop_table: DropTable }
  | { rename_table: RenameTable }
  | { add_column: AddColumn }
  | { drop_column: DropColumn }
  | { rename_column: RenameColumn }
  | { alter_column: AlterColumn }
  | { create_index: CreateIndex }
  | { drop_index: DropIndex }
  | { sql: RawSql };

/** One migration file: one schema version. `name` is the file's base name. */
export interface Migration {
  name: string;
  file: string;
  operations: Operation[];
}

export function kindOf(op: Operation): OperationKind {
  return Object.keys(op)[0] as OperationKind;
}
