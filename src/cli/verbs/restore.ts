import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { BackupListing } from '../../backup/actions.js';
import { makeRestorePlan } from '../../backup/restore-plan.js';
import type { RestoreTarget } from '../../backup/types.js';
import { NotFoundError, SymphonyError } from '../../errors.js';
import { registerBuiltinKinds } from '../../kinds/builtin.js';
import { renderPlan } from '../../plan/render.js';
import type { ReleaseConfig } from '../../plan/types.js';
import { loadStack } from '../../spec/index.js';
import { StateStore } from '../../state/store.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { followToEnd, submit } from '../progress.js';

interface RestoreOptions extends GlobalOptions {
  to?: string;
  backup?: string;
  yes?: boolean;
  into?: string;
}

function targetOf(o: RestoreOptions): RestoreTarget {
  if ((o.to === undefined) === (o.backup === undefined)) throw new SymphonyError('give exactly one of --to <ISO time> and --backup <id>', 'see what can be restored: symphony backup list <service>');
  return o.to !== undefined ? { time: o.to } : { backup: o.backup as string };
}

async function confirm(o: RestoreOptions, service: string): Promise<boolean> {
  if (o.yes) return true;
  if (!process.stdin.isTTY) throw new SymphonyError('refusing to restore without confirmation on a non-interactive terminal', `review the plan above, then run: symphony restore ${service} ${o.to ? `--to ${o.to}` : `--backup ${o.backup}`} --yes`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`Restore ${service}? Its server stops until the restore is done. [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** `symphony restore <service> --to <time> | --backup <id>`: a journaled operation; the current volume is kept aside. */
export function registerRestore(program: Command): void {
  withCommon(program.command('restore <service>').description('restore a service with backups to a moment or a backup; its current volume is kept aside, never deleted'))
    .option('--to <time>', 'ISO time to restore to (any second since the oldest kept backup)')
    .option('--backup <id>', 'restore this backup, to the moment it ended')
    .option('--into <name>', 'restore beside the live service for inspection (not built yet)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(async (service: string, o: RestoreOptions) => {
        if (o.into) throw new SymphonyError('restore --into is not built yet', `restore in place (the current volume is kept aside), or verify a backup on a throwaway server: symphony backup verify ${service}`);
        registerBuiltinKinds();
        const target = targetOf(o);
        const stateDir = stateDirOf(o);
        const env = envOf(o);
        const stack = loadStack(requireStack(o), { env: o.env });
        const client = await ensureAgent(stateDir);
        const listing = await client.call<BackupListing>('GET', `/v1/backups?env=${encodeURIComponent(env)}&service=${encodeURIComponent(service)}`);
        const store = new StateStore(stateDir);
        let plan;
        try {
          const rec = store.service(env, service);
          if (!rec?.currentRelease) throw new NotFoundError(`no service ${service} recorded in environment ${env}`, 'see what exists with: symphony status');
          const config = store.release(rec.currentRelease)?.config as ReleaseConfig;
          plan = makeRestorePlan({ stack: stack.name, env, stackFile: stack.file, serial: store.serial(), service, release: rec.currentRelease, config, target, backups: listing.backups, now: new Date() });
        } finally {
          store.close();
        }
        const aside = plan.steps.find((s) => s.restore)?.restore;
        if (!o.json) process.stderr.write(`${renderPlan(plan)}\nthe current volume will be kept as ${aside?.aside} (${aside?.asidePath})\n`);
        if (!(await confirm(o, service))) {
          await client.close();
          process.stderr.write('nothing changed\n');
          return 1;
        }
        const code = await followToEnd(stateDir, client, await submit(client, { plan, verb: 'restore' }), o, 'restore');
        if (!o.json && code === 0) process.stdout.write(`kept aside: volume ${aside?.aside} at ${aside?.asidePath}\n`);
        return code;
      }),
    );
}
