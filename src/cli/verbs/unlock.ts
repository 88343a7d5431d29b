import type { Command } from 'commander';
import type { LeaseInfo } from '../../errors.js';
import { ensureAgent } from '../agent-client.js';
import { action, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

export function registerUnlock(program: Command): void {
  withCommon(program.command('unlock <id>').description('remove a lock whose holder is gone (the id is in the lock error and in status)')).action(
    action(async (id: string, o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const { released } = await client.call<{ released: LeaseInfo }>('POST', '/v1/unlock', { id });
      await client.close();
      print(o, `released lock ${released.id} held by ${released.holder}`, { released });
    }),
  );
}
