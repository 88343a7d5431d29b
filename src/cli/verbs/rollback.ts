import { resolve } from 'node:path';
import type { Command } from 'commander';
import { dirDigest } from '../../apply/artifact.js';
import { keptArtifacts } from '../../apply/snapshot.js';
import { handleOf } from '../../apply/instances.js';
import { NotFoundError } from '../../errors.js';
import { registerBuiltinKinds } from '../../kinds/builtin.js';
import { routesOf } from '../../plan/planner.js';
import { renderPlan } from '../../plan/render.js';
import { makeRollbackPlan } from '../../plan/rollback.js';
import type { ReleaseConfig } from '../../plan/types.js';
import { getRuntimeDriver } from '../../runtime/registry.js';
import { loadStack } from '../../spec/index.js';
import { StateStore } from '../../state/store.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { followToEnd, submit } from '../progress.js';

interface RollbackOptions extends GlobalOptions {
  to?: string;
}

export function registerRollback(program: Command): void {
  withCommon(program.command('rollback <service>').description('switch a service back to its previous release (instant while it is warm), with the same health gates as a deploy'))
    .option('--to <release>', 'roll back to this release (see symphony history)')
    .action(
      action(async (service: string, o: RollbackOptions) => {
        registerBuiltinKinds();
        const stateDir = stateDirOf(o);
        const env = envOf(o);
        const stack = loadStack(requireStack(o), { env: o.env });
        const store = new StateStore(stateDir);
        let plan;
        try {
          const rec = store.service(env, service);
          if (!rec) throw new NotFoundError(`no service ${service} recorded in environment ${env}`, 'see what exists with: symphony status');
          const driver = getRuntimeDriver('process', { scope: stateDir });
          const running: Record<string, number> = {};
          for (const i of store.instances(env, { service, live: true })) {
            const h = handleOf(i);
            if (h && driver.isAlive(h)) running[i.release] = (running[i.release] ?? 0) + 1;
          }
          const releases = store.releases(env, service);
          const cur = releases.find((r) => r.id === rec.currentRelease)?.config as ReleaseConfig | undefined;
          const node = stack.services.find((s) => s.name === service);
          const currentArtifact = node?.kind === 'app' ? dirDigest(resolve(stack.dir, (node.spec as { dir?: string }).dir ?? '.')) : undefined;
          plan = makeRollbackPlan({
            stack: stack.name,
            env,
            stackFile: stack.file,
            serial: store.serial(),
            service: rec,
            releases,
            to: o.to,
            routes: routesOf(stack),
            running,
            replicas: running[rec.currentRelease ?? ''] ?? (cur?.instances.length || 1),
            currentArtifact,
            keptArtifacts: keptArtifacts(stateDir),
          });
        } finally {
          store.close();
        }
        if (!o.json) process.stderr.write(renderPlan(plan) + '\n');
        const client = await ensureAgent(stateDir);
        return followToEnd(stateDir, client, await submit(client, { plan, verb: 'rollback' }), o, 'rollback');
      }),
    );
}
