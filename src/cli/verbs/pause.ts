import { join } from 'node:path';
import type { Command } from 'commander';
import { routerDirOf } from '../../agent/paths.js';
import { NotFoundError } from '../../errors.js';
import { routesOf } from '../../plan/planner.js';
import { RouterClient } from '../../router/client.js';
import { loadStack } from '../../spec/index.js';
import { parseDuration } from '../../util/duration.js';
import { action, envOf, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { Journal } from '../../state/journal.js';
import { StateStore } from '../../state/store.js';
import { ensureAgent } from '../agent-client.js';
import { followToEnd } from '../progress.js';

interface PauseOptions extends GlobalOptions {
  timeout: string;
}

/** Route ids of a service (or of one listen port) in the chosen environment. */
function routeIds(o: GlobalOptions, target: string): string[] {
  const stack = loadStack(requireStack(o), { env: o.env });
  const ids = routesOf(stack)
    .filter((r) => r.service === target || String(r.listen) === target)
    .map((r) => r.id);
  if (ids.length === 0) throw new NotFoundError(`no route to ${target} in environment ${stack.env}`, 'name a routed service or a listen port from the stack file');
  return ids;
}

/** Continue an operation paused by `apply --pause-after N` (N more members, or to the end). */
async function resumeOperation(o: GlobalOptions, id: string | undefined): Promise<number> {
  const stateDir = stateDirOf(o);
  const store = new StateStore(stateDir);
  const opId = id ?? new Journal(store).list(envOf(o), 50).find((x) => x.status === 'paused')?.id;
  store.close();
  if (!opId) throw new NotFoundError('no paused operation to resume', 'see operations with: symphony history');
  const client = await ensureAgent(stateDir);
  await client.call('POST', `/v1/operations/${opId}/resume`);
  return followToEnd(stateDir, client, opId, o);
}

export function registerPause(program: Command): void {
  withCommon(program.command('pause <service-or-port>').description('hold new requests on a route (they wait, not fail) until resume or the timeout'))
    .option('--timeout <duration>', 'after this, held requests go through anyway', '30s')
    .action(
      action(async (target: string, o: PauseOptions) => {
        const client = new RouterClient(join(routerDirOf(stateDirOf(o)), 'router.sock'));
        const ids = routeIds(o, target);
        const ms = parseDuration(o.timeout, 30_000);
        for (const id of ids) await client.pause(id, ms);
        print(o, `paused ${ids.join(', ')} for up to ${ms} ms; resume with: symphony resume ${target}`, { paused: ids, timeoutMs: ms });
      }),
    );
  withCommon(program.command('resume [service-port-or-operation]').description('let held requests through again (a route), or continue a paused operation (an op id, or none: the latest paused one)')).action(
    action(async (target: string | undefined, o: GlobalOptions) => {
      if (target === undefined || target.startsWith('op-')) return resumeOperation(o, target);
      const client = new RouterClient(join(routerDirOf(stateDirOf(o)), 'router.sock'));
      const ids = routeIds(o, target);
      for (const id of ids) await client.resume(id);
      print(o, `resumed ${ids.join(', ')}`, { resumed: ids });
    }),
  );
}
