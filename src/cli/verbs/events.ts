import type { Command } from 'commander';
import type { EventRecord } from '../../state/types.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface EventsOptions extends GlobalOptions {
  kind?: string;
  number: string;
}

/** `symphony events`: what the agent recorded (restarts, crashes, boot restores, releases), oldest first. */
export function registerEvents(program: Command): void {
  withCommon(program.command('events').description('what happened in the environment: instance and router restarts, crashes, boot restores, releases'))
    .option('--kind <kind>', 'only events of this kind (e.g. router-restarted, boot-restored, instance-crashed)')
    .option('-n, --number <n>', 'the last n events', '50')
    .action(
      action(async (o: EventsOptions) => {
        const client = await ensureAgent(stateDirOf(o));
        const q = new URLSearchParams({ env: envOf(o), limit: o.number, ...(o.kind ? { kind: o.kind } : {}) });
        const { events } = await client.call<{ events: EventRecord[] }>('GET', `/v1/events?${q}`);
        await client.close();
        const human = events.length ? events.map((e) => `${e.at}  ${e.kind.padEnd(18)} ${e.service ?? '-'}  ${e.message}`).join('\n') : 'no events recorded';
        print(o, human, { events });
      }),
    );
}
