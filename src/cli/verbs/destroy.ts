import type { Command } from 'commander';
import { registerBuiltinKinds } from '../../kinds/builtin.js';
import { makeDestroyPlan } from '../../plan/destroy.js';
import { renderPlan } from '../../plan/render.js';
import { loadStack } from '../../spec/index.js';
import { StateStore } from '../../state/store.js';
import { socketPathOf } from '../../agent/paths.js';
import { AgentClient, ensureAgent } from '../agent-client.js';
import { action, envOf, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { followToEnd, submit } from '../progress.js';

interface DestroyOptions extends GlobalOptions {
  volumes?: boolean;
  yes?: boolean;
}

/** Nothing left in any environment: stop the state dir's agent and router (nothing is left behind). */
async function stopDaemonsIfEmpty(stateDir: string, o: DestroyOptions): Promise<void> {
  const client = new AgentClient(socketPathOf(stateDir));
  try {
    const r = await client.call<{ stopping: boolean }>('POST', '/v1/shutdown', { ifEmpty: true, stopRouter: true });
    if (r.stopping && !o.json) process.stderr.write('no service left: stopped the agent and the router of this state dir\n');
  } finally {
    await client.close();
  }
}

export function registerDestroy(program: Command): void {
  withCommon(program.command('destroy').description('stop and forget every service of the environment; volumes are kept unless --volumes'))
    .option('--volumes', 'also delete the volumes (data is lost)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(async (o: DestroyOptions) => {
        registerBuiltinKinds();
        const stateDir = stateDirOf(o);
        const stack = loadStack(requireStack(o), { env: o.env });
        const store = new StateStore(stateDir);
        const plan = makeDestroyPlan(stack.name, envOf(o), stack.file, { serial: store.serial(), services: store.services(envOf(o)) }, stack.services.map((s) => s.name), o.volumes === true);
        store.close();
        if (!o.json) process.stderr.write(renderPlan(plan) + '\n');
        if (plan.steps.length === 0) return 0;
        if (!o.yes) {
          process.stderr.write('destroy needs --yes\n');
          return 1;
        }
        const client = await ensureAgent(stateDir);
        const code = await followToEnd(stateDir, client, await submit(client, { plan, verb: 'destroy' }), o);
        if (code === 0) await stopDaemonsIfEmpty(stateDir, o);
        return code;
      }),
    );
}
