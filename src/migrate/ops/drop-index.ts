import { z } from 'zod';
import { qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, type OpContext } from './common.js';

export const DropIndexSpec = z.strictObject({ name: Ident });

export type DropIndex = z.infer<typeof DropIndexSpec>;

/** Kept while the old version runs; dropped concurrently at complete. */
export function planDropIndex(b: PlanBuilder, op: DropIndex, _ctx: OpContext): void {
  b.completeConcurrent.push(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, op.name)}`);
}
