/**
 * The logical shape of one schema version: which tables and columns its views
 * show, under which names, over which physical table and column.
 */
export interface ColumnLayout {
  name: string;
  physical: string;
  type: string;
  nullable: boolean;
  default: string | null;
}

/** A named constraint of a table, over physical column names. */
export interface ConstraintLayout {
  name: string;
  type: 'check' | 'foreign_key' | 'unique' | 'primary_key' | 'exclude';
  columns: string[];
  /** `pg_get_constraintdef`, so a copy of its columns can carry it (absent for constraints made in the same migration). */
  definition?: string;
}

/** An index that backs no constraint. */
export interface IndexLayout {
  name: string;
  columns: string[];
  /** `pg_get_indexdef`. */
  definition: string;
}

/** `ALTER TABLE … REPLICA IDENTITY`: default, full, nothing, or an index. */
export interface ReplicaIdentity {
  type: 'default' | 'full' | 'nothing' | 'index';
  index?: string;
}

export interface TableLayout {
  name: string;
  physical: string;
  columns: ColumnLayout[];
  /** Physical primary key columns; empty when the table has none (backfill then walks ctid). */
  primaryKey: string[];
  /** Named constraints (absent in layouts recorded before constraints were read). */
  constraints?: ConstraintLayout[];
  indexes?: IndexLayout[];
  replicaIdentity?: ReplicaIdentity;
}

export interface Layout {
  /** Schema of the physical tables. */
  schema: string;
  tables: TableLayout[];
}

export function findTable(layout: Layout, name: string): TableLayout | undefined {
  return layout.tables.find((t) => t.name === name);
}

export function findColumn(table: TableLayout, name: string): ColumnLayout | undefined {
  return table.columns.find((c) => c.name === name);
}

export function cloneLayout(layout: Layout): Layout {
  return {
    schema: layout.schema,
    tables: layout.tables.map((t) => ({
      ...t,
      primaryKey: [...t.primaryKey],
      columns: t.columns.map((c) => ({ ...c })),
      constraints: (t.constraints ?? []).map((k) => ({ ...k, columns: [...k.columns] })),
      indexes: (t.indexes ?? []).map((x) => ({ ...x, columns: [...x.columns] })),
    })),
  };
}
