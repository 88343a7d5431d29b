import type { Command } from 'commander';
import { SymphonyError } from '../../errors.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { followToEnd } from '../progress.js';

interface ScaleAnswer {
  operation: string;
  from: number;
  to: number;
  clamped: boolean;
}

/**
 * `symphony scale <service> <n>`: a `scale` operation of the app's live
 * release (journaled, under the environment's lease), clamped to the
 * service's autoscale min/max when it has `autoscale:`.
 */
export function registerScale(program: Command): void {
  withCommon(program.command('scale <service> <replicas>').description('run an app with this many replicas (new ones join the route when healthy, removed ones are drained first); clamped to autoscale min/max')).action(
    action(async (service: string, replicas: string, o: GlobalOptions) => {
      const n = Number(replicas);
      if (!Number.isInteger(n) || n < 0) throw new SymphonyError(`replicas must be a whole number >= 0, got ${replicas}`, `for example: symphony scale ${service} 3`);
      const stateDir = stateDirOf(o);
      const client = await ensureAgent(stateDir);
      const res = await client.call<ScaleAnswer>('POST', '/v1/scale', { env: envOf(o), service, replicas: n });
      if (!o.json) process.stderr.write(`scaling ${service} ${res.from} → ${res.to}${res.clamped ? ` (asked ${n}; kept within its autoscale min/max)` : ''}\n`);
      return followToEnd(stateDir, client, res.operation, o, 'scale');
    }),
  );
}
