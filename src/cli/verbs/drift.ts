import type { Command } from 'commander';
import type { DriftItem } from '../../agent/status.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

export function registerDrift(program: Command): void {
  withCommon(program.command('drift').description('read-only: what differs between recorded and observed state (exit 2 when something does)')).action(
    action(async (o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const { drift } = await client.call<{ drift: DriftItem[] }>('GET', `/v1/drift?env=${encodeURIComponent(envOf(o))}`);
      await client.close();
      const human = drift.length
        ? drift.map((d) => `${d.service ?? '-'} ${d.instance ?? ''}: recorded ${d.recorded}; observed ${d.observed}`).join('\n') + '\nnext: symphony apply repairs it (symphony plan shows how)'
        : 'no drift: what runs matches the recorded state';
      print(o, human, { drift });
      return drift.length ? 2 : 0;
    }),
  );
}
