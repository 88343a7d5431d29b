import { describe, expect, it } from 'vitest';
import { MigrationFileError } from '../errors.js';
import type { Layout } from '../layout.js';
import { parseMigration } from '../load.js';
import { planMigration } from '../plan.js';

const layout: Layout = {
  schema: 'public',
  tables: [
    {
      name: 'users', physical: 'users', primaryKey: ['id'],
      columns: [
        { name: 'id', physical: 'id', type: 'integer', nullable: false, default: null },
        { name: 'email', physical: 'email', type: 'text', nullable: true, default: null },
        { name: 'age', physical: 'age', type: 'integer', nullable: true, default: null },
      ],
      constraints: [{ name: 'users_pkey', type: 'primary_key', columns: ['id'] }, { name: 'age_check', type: 'check', columns: ['age'] }],
    },
    {
      name: 'orders', physical: 'orders', primaryKey: [],
      columns: [{ name: 'user_email', physical: 'user_email', type: 'text', nullable: true, default: null }],
      constraints: [{ name: 'orders_email_fk', type: 'foreign_key', columns: ['user_email'], definition: 'FOREIGN KEY (user_email) REFERENCES users(email)' }],
    },
  ],
};

function plan(yaml: string) {
  return planMigration(layout, parseMigration(yaml, '0009_x.yaml'), 'public_0009_x');
}

function issues(yaml: string) {
  try {
    parseMigration(yaml, 'm.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(MigrationFileError);
    return (err as MigrationFileError).issues.map((i) => `${i.line}:${i.path}: ${i.message}`);
  }
  throw new Error('expected MigrationFileError');
}

describe('pgroll operations: plans', () => {
  it('several pk columns make one composite primary key; table constraints follow the columns', () => {
    const p = plan(`operations:
  - create_table:
      name: memberships
      columns: [{ name: user_id, type: int, pk: true }, { name: team, type: text, pk: true }, { name: since, type: date, default: now() }]
      constraints: [{ name: m_user_fk, type: foreign_key, columns: [user_id], references: { table: users, columns: [id], match_type: FULL, on_delete: CASCADE } }]
`);
    expect(p.startTx[0]).toBe('CREATE TABLE "public"."memberships" ("user_id" int, "team" text, "since" date NOT NULL DEFAULT now(), PRIMARY KEY ("user_id", "team"), CONSTRAINT "m_user_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") MATCH FULL ON DELETE CASCADE)');
  });

  it('create_index takes columns as a map with per-column settings, in file order, over physical names', () => {
    const p = plan(`operations:
  - rename_column: { table: users, from: email, to: mail }
  - create_index: { name: users_mail, table: users, method: btree, storage_parameters: fillfactor=90, predicate: mail IS NOT NULL, columns: { mail: { collate: C, sort: DESC, nulls: FIRST, opclass: { name: text_pattern_ops } }, id: null } }
`);
    expect(p.startConcurrent).toEqual(['CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_mail" ON "public"."users" USING btree ("email" COLLATE "C" text_pattern_ops DESC NULLS FIRST, "id") WITH (fillfactor=90) WHERE "email" IS NOT NULL']);
  });

  it('an add_column default that is given as up keeps the backfill path; a constant one is added directly', () => {
    expect(plan(`operations:\n  - add_column: { table: users, column: { name: k, type: text, default: "'x'" } }\n`).startTx[0]).toBe(`ALTER TABLE "public"."users" ADD COLUMN "k" text DEFAULT 'x'`);
  });

  it('version_schema names the version schema', () => {
    expect(parseMigration('version_schema: v7\noperations:\n  - drop_index: { name: i }\n', 'long_name.yaml').versionSchema).toBe('v7');
  });
});

describe('pgroll operations: refusals name the file, line and a reason', () => {
  it('at load time', () => {
    expect(issues(`operations:\n  - create_table:\n      name: t\n      columns: [{ name: a, type: int, pk: true }]\n      constraints: [{ name: t_pk, type: primary_key, columns: [a] }]\n`)).toEqual([
      expect.stringMatching(/^5:operations\.0\.create_table\.constraints: the primary key is set both by `pk: true`/),
    ]);
    expect(issues(`operations:\n  - add_column: { table: users, column: { name: g, type: int, generated: { expression: age * 2 } } }\n`)).toEqual([
      expect.stringMatching(/^2:operations\.0\.add_column\.column\.generated: adding a generated column .* rewrites every row/),
    ]);
    expect(issues(`operations:\n  - rename_column: { table: users, from: email }\n`)).toEqual([expect.stringMatching(/rename_column needs `from` .* and `to`/)]);
    expect(issues(`operations:\n  - create_constraint: { table: users, name: c, type: check, columns: [age], check: age > 0, up: { email: email } }\n`)).toEqual([
      expect.stringMatching(/operations\.0\.create_constraint\.up\.email: email is not one of the constraint's columns/),
    ]);
    expect(issues(`operations:\n  - set_replica_identity: { table: users, identity: { type: INDEX } }\n`)).toEqual([expect.stringMatching(/needs the index name/)]);
    expect(issues(`operations:\n  - create_table: { name: t, columns: [{ name: a, type: int, default: "1", generated: { identity: {} } }] }\n`)).toEqual([expect.stringMatching(/cannot also have a `default`/)]);
  });

  it('at plan time, with the line of the operation', () => {
    expect(() => plan(`operations:\n  - drop_index: { name: i }\n  - drop_multicolumn_constraint: { table: users, name: users_pkey, down: { id: id } }\n`)).toThrow(/^0009_x\.yaml:3: operations\.1 \(drop_multicolumn_constraint\): users_pkey is a primary key constraint; only check, foreign key and unique/);
    expect(() => plan(`operations:\n  - create_constraint: { table: users, name: age_u, type: unique, columns: [age] }\n`)).toThrow(/users\.age is also covered by check constraint age_check, which a copy of the column cannot carry/);
    expect(() => plan(`operations:\n  - create_constraint: { table: users, name: pk2, type: primary_key, columns: [email] }\n`)).toThrow(/already has a primary key \(id\)/);
    expect(() => plan(`operations:\n  - create_constraint: { table: orders, name: fk, type: foreign_key, columns: [user_email], references: { table: users, columns: [id], match_type: PARTIAL } }\n`)).toThrow(/MATCH PARTIAL is not implemented by Postgres/);
    expect(() => plan(`operations:\n  - alter_column: { table: users, column: email, type: varchar(100), up: email, down: email }\n`)).toThrow(/users\.email is referenced by foreign key orders_email_fk of table orders; .* complete could not drop the old one/);
    expect(() => plan(`operations:\n  - rename_constraint: { table: users, from: nope, to: x }\n`)).toThrow(/table users has no constraint nope/);
    expect(() => plan(`operations:\n  - drop_constraint: { table: users, name: age_check, column: email, down: age }\n`)).toThrow(/is on column age, not email/);
  });
});
