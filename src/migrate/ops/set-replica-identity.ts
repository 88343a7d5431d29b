import { z } from 'zod';
import type { ReplicaIdentity } from '../layout.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, tableOf, type OpContext } from './common.js';

const IdentityType = z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['default', 'full', 'nothing', 'index']));

export const SetReplicaIdentitySpec = z.strictObject({
  table: Ident,
  identity: z.strictObject({ type: IdentityType, index: z.string().optional() }).superRefine((i, ctx) => {
    if (i.type === 'index' && !i.index) ctx.addIssue({ code: 'custom', path: ['index'], message: 'replica identity `index` needs the index name in `index`' });
  }),
});

export type SetReplicaIdentity = z.infer<typeof SetReplicaIdentitySpec>;

function clause(i: ReplicaIdentity): string {
  return i.type === 'index' ? `USING INDEX ${ident(i.index as string)}` : i.type.toUpperCase();
}

/**
 * As in pgroll, set on the table at start, so both versions see it; rollback (and
 * an undone start) put back the identity the table had.
 */
export function planSetReplicaIdentity(b: PlanBuilder, op: SetReplicaIdentity, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const table = qualified(b.base, t.physical);
  const previous = t.replicaIdentity ?? { type: 'default' };
  const next: ReplicaIdentity = op.identity.type === 'index' ? { type: 'index', index: op.identity.index } : { type: op.identity.type };
  b.startTx.push(`ALTER TABLE ${table} REPLICA IDENTITY ${clause(next)}`);
  if (b.before.tables.some((x) => x.physical === t.physical)) {
    const restore = `ALTER TABLE ${table} REPLICA IDENTITY ${clause(previous)}`;
    b.rollbackTx.push(restore);
    b.abortTx.push(restore);
  }
  t.replicaIdentity = next;
}
