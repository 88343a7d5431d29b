import type { Command } from 'commander';
import { kindCtx } from '../../apply/instances.js';
import { NotFoundError, SymphonyError } from '../../errors.js';
import { registerBuiltinKinds } from '../../kinds/builtin.js';
import { getKind } from '../../kinds/registry.js';
import { maskSecrets, pickOutput, rawOutputs } from '../../outputs/index.js';
import type { ReleaseConfig } from '../../plan/types.js';
import { SecretVault } from '../../secrets/vault.js';
import { StateStore } from '../../state/store.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface OutputOptions extends GlobalOptions {
  reveal?: boolean;
  yes?: boolean;
}

/**
 * `symphony output <service>[.<name>]`: one value for scripts, read from the
 * recorded state (no agent needed). Secret parts are masked unless
 * `--reveal`, which a non-interactive terminal must confirm with `--yes`.
 */
export function registerOutput(program: Command): void {
  withCommon(program.command('output <what>').description('print one output of a service for scripts: <service> (its url or endpoints) or <service>.<name>'))
    .option('--reveal', 'print secret parts (a password) instead of ****')
    .option('-y, --yes', 'with --reveal on a non-interactive terminal: yes, print the secret')
    .action(
      action(async (what: string, o: OutputOptions) => {
        const dot = what.indexOf('.');
        const service = dot < 0 ? what : what.slice(0, dot);
        const name = dot < 0 ? undefined : what.slice(dot + 1);
        if (o.reveal && !o.yes && !process.stdout.isTTY) {
          throw new SymphonyError('refusing to reveal a secret on a non-interactive terminal', `confirm it: symphony output ${what} --reveal --yes`);
        }
        registerBuiltinKinds();
        const env = envOf(o);
        const store = new StateStore(stateDirOf(o));
        try {
          const rec = store.service(env, service);
          const rel = rec?.currentRelease ? store.release(rec.currentRelease) : null;
          if (!rec || !rel) {
            const known = store.services(env).map((s) => s.name);
            throw new NotFoundError(
              `no service ${service} in environment ${env}${known.length ? `; services: ${known.join(', ')}` : ''}`,
              known.length ? `symphony output ${known[0]}` : 'apply the stack first: symphony apply',
            );
          }
          const cfg = rel.config as ReleaseConfig;
          const picked = pickOutput(service, rawOutputs(getKind(cfg.kind), kindCtx(env, cfg), store.routes(env)), name);
          const value = o.reveal ? new SecretVault(store).substitute(env, picked.value) : maskSecrets(picked.value);
          print(o, value, { service, name: picked.name, value, masked: !o.reveal && value !== picked.value });
        } finally {
          store.close();
        }
      }),
    );
}
