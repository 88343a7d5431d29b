import type { Command } from 'commander';
import { registerBuiltinKinds } from '../../kinds/builtin.js';
import { makeDestroyPlan } from '../../plan/destroy.js';
import { renderPlan } from '../../plan/render.js';
import { loadStack } from '../../spec/index.js';
import { StateStore } from '../../state/store.js';
import type { OperationRecord } from '../../state/types.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { follow } from '../progress.js';

interface DestroyOptions extends GlobalOptions {
  volumes?: boolean;
  yes?: boolean;
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
        const { operation } = await client.call<{ operation: OperationRecord }>('POST', '/v1/operations', { plan, requester: `${process.env.USER ?? 'user'} (symphony destroy)` });
        const view = await follow(stateDir, client, operation.id, o.json);
        await client.close();
        print(o, `operation ${operation.id} ${view.operation.status}${view.operation.error ? `: ${view.operation.error}` : ''}`, view);
        return view.operation.status === 'succeeded' ? 0 : 1;
      }),
    );
}
