import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { initScript, systemdUnit, unitName } from '../../agent/boot-unit.js';
import { socketPathOf } from '../../agent/paths.js';
import { stopRouterOf } from '../../agent/router-watch.js';
import { AgentClient } from '../agent-client.js';
import { action, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface StopOptions extends GlobalOptions {
  router?: boolean;
}

interface InstallOptions extends GlobalOptions {
  root?: string;
  systemd?: boolean;
  init?: boolean;
  enable: boolean;
}

/** The agent's pid, or null when no agent answers on the state dir's socket (none is started). */
async function runningAgent(stateDir: string): Promise<{ client: AgentClient; pid: number } | null> {
  const client = new AgentClient(socketPathOf(stateDir));
  try {
    const { pid } = await client.call<{ pid: number }>('GET', '/v1/ping');
    return { client, pid };
  } catch {
    await client.close();
    return null;
  }
}

/**
 * `symphony agent stop` and `symphony agent install`, beside the foreground `symphony agent`.
 * The parent command has the common options too, so each reads them with its parent's.
 */
export function registerAgentAdmin(agent: Command): void {
  withCommon(agent.command('stop').description('stop the agent of the state dir (instances keep running; the next command starts an agent again)'))
    .option('--router', 'also stop the router (its routes stop answering until the agent starts it again)')
    .action(
      action(async (_o: StopOptions, cmd: Command) => {
        const o = cmd.optsWithGlobals<StopOptions>();
        const stateDir = stateDirOf(o);
        const found = await runningAgent(stateDir);
        let router = false;
        if (found) {
          ({ router } = await found.client.call<{ router: boolean }>('POST', '/v1/shutdown', { stopRouter: o.router === true }));
          await found.client.close();
        } else if (o.router) router = await stopRouterOf(stateDir);
        const human = [found ? `stopped the agent (pid ${found.pid}) of ${stateDir}` : `no agent runs for ${stateDir}`, ...(o.router ? [router ? 'stopped the router' : 'no router was running'] : [])].join('\n');
        print(o, human, { agent: found ? { pid: found.pid, stopped: true } : null, router });
      }),
    );

  withCommon(agent.command('install').description('write a boot unit (systemd, else an init script) that starts the agent at boot, which brings the stack back'))
    .option('--root <dir>', 'write under this root instead of / (and do not enable)')
    .option('--systemd', 'write a systemd unit even when systemd is not running')
    .option('--init', 'write an /etc/init.d script even when systemd runs')
    .option('--no-enable', 'write the unit only')
    .action(
      action(async (_o: InstallOptions, cmd: Command) => {
        const o = cmd.optsWithGlobals<InstallOptions>();
        const stateDir = stateDirOf(o);
        const root = resolve(o.root ?? '/');
        const useSystemd = o.systemd === true || (o.init !== true && existsSync('/run/systemd/system'));
        const name = unitName(stateDir);
        const input = { stateDir, node: process.execPath, cli: resolve(process.argv[1]), path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
        const file = useSystemd ? join(root, 'etc/systemd/system', `${name}.service`) : join(root, 'etc/init.d', name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, useSystemd ? systemdUnit(input) : initScript(input));
        if (!useSystemd) chmodSync(file, 0o755);
        const enable = o.enable && root === '/';
        const enabled = enable ? enableUnit(useSystemd, name) : null;
        const how = useSystemd ? `systemctl start ${name}` : `${file} start`;
        const human = [`wrote ${file}`, enabled ?? (enable ? '' : `not enabled (${root === '/' ? '--no-enable' : `--root ${root}`})`), `the agent starts at boot and brings the stack back; now: ${how}`].filter(Boolean).join('\n');
        print(o, human, { unit: name, file, kind: useSystemd ? 'systemd' : 'init', enabled: enabled !== null });
      }),
    );
}

/** Enable the unit with the machine's own tool; what it did, or null when no tool is there. */
function enableUnit(systemd: boolean, name: string): string | null {
  try {
    if (systemd) {
      execFileSync('systemctl', ['daemon-reload'], { stdio: 'ignore' });
      execFileSync('systemctl', ['enable', `${name}.service`], { stdio: 'ignore' });
      return `enabled with systemctl enable ${name}.service`;
    }
    execFileSync('update-rc.d', [name, 'defaults'], { stdio: 'ignore' });
    return `enabled with update-rc.d ${name} defaults`;
  } catch {
    return null;
  }
}
