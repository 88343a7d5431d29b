import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { constraintsOf, startOpsDb, type OpsDb } from './helpers/migrate-ops.js';

let t: OpsDb;

beforeAll(async () => {
  t = await startOpsDb('opstab');
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.reset(`CREATE TABLE rooms (id int PRIMARY KEY, code text NOT NULL UNIQUE); INSERT INTO rooms VALUES (1, 'r1'), (2, 'r2')`);
});

const CREATE = `operations:
  - create_table:
      name: bookings
      columns:
        - { name: room_id, type: int, pk: true, references: { name: bookings_room_fk, table: rooms, column: id, on_delete: CASCADE, on_update: CASCADE, match_type: FULL } }
        - { name: day, type: date, pk: true }
        - { name: seq, type: int, generated: { identity: { user_specified_values: BY DEFAULT, sequence_options: START WITH 100 } } }
        - { name: nights, type: int, check: { name: nights_positive, constraint: nights > 0 } }
        - { name: price, type: int }
        - { name: total, type: int, generated: { expression: nights * price } }
        - { name: during, type: tstzrange, nullable: true }
        - { name: room_code, type: text, nullable: true }
        - { name: guest, type: text, nullable: true }
      constraints:
        - { name: bookings_seq_unique, type: unique, columns: [seq], nulls_not_distinct: true, deferrable: true, index_parameters: { include_columns: [price], storage_parameters: fillfactor=80 } }
        - { name: bookings_price_check, type: check, check: price >= 0, no_inherit: true }
        - { name: bookings_room_code_fk, type: foreign_key, columns: [room_code], references: { table: rooms, columns: [code], on_delete: SET NULL, on_delete_set_columns: [room_code], match_type: SIMPLE } }
        - { name: bookings_no_overlap, type: exclude, exclude: { index_method: gist, elements: during WITH &&, predicate: guest IS NOT NULL } }
`;

describe('create_table with a composite key, generated columns and every kind of table constraint', () => {
  it('the new version writes and Postgres enforces each constraint; the old version does not see it; complete keeps it', async () => {
    await t.start('0001_bookings', CREATE, async (old, neu) => {
      await expect(old.query('SELECT * FROM bookings')).rejects.toThrow(/does not exist/);
      await old.query(`INSERT INTO rooms VALUES (3, 'r3')`);
      await neu.query(`INSERT INTO bookings (room_id, day, nights, price, during, room_code, guest) VALUES (1, '2026-01-01', 2, 50, '[2026-01-01,2026-01-03)', 'r1', 'ann')`);
      await neu.query(`INSERT INTO bookings (room_id, day, nights, price) VALUES (3, '2026-01-01', 1, 10)`);
      expect((await neu.query(`SELECT room_id, seq, total FROM bookings ORDER BY seq`)).rows).toEqual([{ room_id: 1, seq: 100, total: 100 }, { room_id: 3, seq: 101, total: 10 }]);
      const bad = (sql: string) => expect(neu.query(`INSERT INTO bookings (room_id, day, nights, price, during, room_code, guest) VALUES ${sql}`)).rejects;
      await bad(`(1, '2026-01-01', 1, 1, NULL, NULL, NULL)`).toThrow(/bookings_pkey/);
      await bad(`(9, '2026-02-01', 1, 1, NULL, NULL, NULL)`).toThrow(/bookings_room_fk/);
      await bad(`(1, '2026-02-01', 0, 1, NULL, NULL, NULL)`).toThrow(/nights_positive/);
      await bad(`(1, '2026-02-01', 1, -1, NULL, NULL, NULL)`).toThrow(/bookings_price_check/);
      await bad(`(1, '2026-02-01', 1, 1, NULL, 'nope', NULL)`).toThrow(/bookings_room_code_fk/);
      await bad(`(2, '2026-02-01', 1, 1, '[2026-01-02,2026-01-04)', NULL, 'bob')`).toThrow(/bookings_no_overlap/);
      await neu.query(`INSERT INTO bookings (room_id, day, nights, price, during) VALUES (2, '2026-02-01', 1, 1, '[2026-01-02,2026-01-04)')`);
      await expect(neu.query(`INSERT INTO bookings (room_id, day, nights, price, seq) VALUES (2, '2026-03-01', 1, 1, 100)`)).rejects.toThrow(/bookings_seq_unique/);
      await expect(neu.query(`INSERT INTO bookings (room_id, day, nights, price, total) VALUES (2, '2026-03-01', 1, 1, 5)`)).rejects.toThrow(/non-DEFAULT value into column "total"/);
      await old.query(`UPDATE rooms SET id = 10 WHERE id = 1`);
      expect((await neu.query(`SELECT room_id FROM bookings WHERE guest = 'ann'`)).rows).toEqual([{ room_id: 10 }]);
    });
    await t.engine.complete();
    expect(await constraintsOf(t.admin, 'bookings')).toEqual([
      'bookings_no_overlap:x', 'bookings_pkey:p', 'bookings_price_check:c', 'bookings_room_code_fk:f', 'bookings_room_fk:f', 'bookings_seq_unique:u', 'nights_positive:c',
    ]);
    const pk = await t.q(`SELECT array_to_json(ARRAY(SELECT attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) ORDER BY a.attnum)) AS cols FROM pg_index i WHERE indrelid = 'bookings'::regclass AND indisprimary`);
    expect(pk).toEqual([{ cols: ['room_id', 'day'] }]);
    const defs = await t.q<{ d: string }>(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'bookings'::regclass AND conname IN ('bookings_room_fk', 'bookings_room_code_fk', 'bookings_seq_unique', 'bookings_price_check') ORDER BY conname`);
    expect(defs.map((x) => x.d)).toEqual([
      'CHECK ((price >= 0)) NO INHERIT',
      'FOREIGN KEY (room_code) REFERENCES rooms(code) ON DELETE SET NULL (room_code)',
      'FOREIGN KEY (room_id) REFERENCES rooms(id) MATCH FULL ON UPDATE CASCADE ON DELETE CASCADE',
      'UNIQUE NULLS NOT DISTINCT (seq) INCLUDE (price) DEFERRABLE',
    ]);
    expect(await t.q(`SELECT reloptions FROM pg_class WHERE relname = 'bookings_seq_unique'`)).toEqual([{ reloptions: ['fillfactor=80'] }]);
  });

  it('rollback keeps the table aside with its rows and frees its index names for the next start', async () => {
    await t.start('0001_bookings', CREATE, async (_old, neu) => {
      await neu.query(`INSERT INTO bookings (room_id, day, nights, price) VALUES (1, '2026-01-01', 2, 50)`);
    });
    const rb = await t.engine.rollback();
    expect(rb.movedAside).toEqual([{ kind: 'table', table: 'bookings', from: 'bookings', to: '_sym_rolled_back_0001_bookings_bookings' }]);
    expect(await t.q(`SELECT total FROM _sym_rolled_back_0001_bookings_bookings`)).toEqual([{ total: 100 }]);
    await t.start('0001_bookings', CREATE, async (_old, neu) => {
      await neu.query(`INSERT INTO bookings (room_id, day, nights, price) VALUES (2, '2026-01-01', 1, 1)`);
    });
    await t.engine.complete();
    expect(await t.q(`SELECT count(*)::int AS n FROM bookings`)).toEqual([{ n: 1 }]);
    expect(await constraintsOf(t.admin, 'bookings')).toEqual([
      'bookings_no_overlap:x', 'bookings_pkey:p', 'bookings_price_check:c', 'bookings_room_code_fk:f', 'bookings_room_fk:f', 'bookings_seq_unique:u', 'nights_positive:c',
    ]);
  });
});
