import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvStatus } from '../../src/agent/status.js';
import { AgentClient } from '../../src/cli/agent-client.js';
import { symphony } from '../../test/helpers/cli.js';
import type { Pm2Cluster } from '../deploy-under-load/peers.js';

/** One kill -9 the bench makes under load, and how it knows the killed part was replaced. */
export interface Scenario {
  name: string;
  peer: 'symphony' | 'pm2';
  /** Port the load goes to during this scenario. */
  port: number;
  /** Kill -9 the part; returns what `replaced` needs to tell the new one from the old. */
  kill(): Promise<number>;
  /** True once a new process does the killed one's job (polled). */
  replaced(victim: number): Promise<boolean>;
  /** True when everything is back as before the kill (checked before the next scenario starts). */
  settled(): Promise<boolean>;
}

/** SIGKILL a process and its process group (an instance's shell and children, a postmaster and its backends). */
export function killHard(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // not a group leader, or already gone
    }
  }
}

/** The agent's status of the default environment, or null while no agent answers. */
export async function agentStatus(stateDir: string): Promise<EnvStatus | null> {
  const c = new AgentClient(join(stateDir, 'agent.sock'));
  try {
    return await c.call<EnvStatus>('GET', '/v1/status?env=default');
  } catch {
    return null;
  } finally {
    await c.close().catch(() => undefined);
  }
}

const service = (s: EnvStatus, name: string) => s.services.find((x) => x.name === name);
const liveOf = (s: EnvStatus, name: string) => (service(s, name)?.instances ?? []).filter((i) => i.role === 'live');
const allHealthy = (s: EnvStatus, name: string, n: number): boolean => {
  const live = liveOf(s, name);
  return live.length === n && live.every((i) => i.alive && i.health === 'healthy');
};

async function must(stateDir: string): Promise<EnvStatus> {
  const s = await agentStatus(stateDir);
  if (!s) throw new Error(`no agent answers in ${stateDir}`);
  return s;
}

/**
 * The Symphony scenarios on a stack with postgres `db` and `replicas` replicas of `api`
 * behind one route: (a) the router leader, (b) a router follower, (c) the agent, (d) one
 * app replica, (e) postgres.
 */
export function symphonyScenarios(dir: string, port: number, replicas: number): Scenario[] {
  const state = join(dir, '.symphony');
  const settled = async (): Promise<boolean> => {
    const s = await agentStatus(state);
    return s !== null && allHealthy(s, 'api', replicas) && allHealthy(s, 'db', 1) && s.router?.running === true && s.router.peers.length === 2;
  };
  const base = { peer: 'symphony' as const, port, settled };
  return [
    {
      ...base,
      name: 'router leader',
      kill: async () => {
        const pid = (await must(state)).router!.pid!;
        killHard(pid);
        return pid;
      },
      replaced: async (victim) => {
        const r = (await agentStatus(state))?.router;
        return r?.running === true && r.pid !== victim && r.peers.length === 2;
      },
    },
    {
      ...base,
      name: 'router follower',
      kill: async () => {
        const pid = (await must(state)).router!.peers[1];
        killHard(pid);
        return pid;
      },
      replaced: async (victim) => {
        const r = (await agentStatus(state))?.router;
        return r?.running === true && r.peers.length === 2 && !r.peers.includes(victim);
      },
    },
    {
      ...base,
      name: 'agent',
      kill: async () => {
        const pid = (await must(state)).agent!.pid;
        killHard(pid);
        return pid;
      },
      // Nothing restarts a killed agent but the next command (or the boot unit): run one.
      replaced: async (victim) => {
        const r = await symphony(['status', '--json'], { cwd: dir });
        if (r.code !== 0) return false;
        const pid = (JSON.parse(r.stdout) as EnvStatus).agent?.pid;
        return pid !== undefined && pid !== victim;
      },
    },
    {
      ...base,
      name: 'one app replica',
      kill: async () => {
        const pid = liveOf(await must(state), 'api')[0].pid!;
        killHard(pid);
        return pid;
      },
      replaced: async (victim) => {
        const s = await agentStatus(state);
        return s !== null && allHealthy(s, 'api', replicas) && !liveOf(s, 'api').some((i) => i.pid === victim);
      },
    },
    {
      ...base,
      name: 'postgres',
      kill: async () => {
        const pid = liveOf(await must(state), 'db')[0].pid!;
        killHard(pid);
        return pid;
      },
      replaced: async (victim) => {
        const s = await agentStatus(state);
        return s !== null && allHealthy(s, 'db', 1) && liveOf(s, 'db')[0].pid !== victim;
      },
    },
  ];
}

/** The peer: pm2 cluster mode respawning a worker killed -9. */
export function pm2Scenario(pm2: Pm2Cluster, port: number, instances: number): Scenario {
  return {
    name: 'one app worker',
    peer: 'pm2',
    port,
    kill: async () => {
      const pid = (await pm2.workerPids())[0];
      killHard(pid);
      return pid;
    },
    replaced: async (victim) => {
      const pids = await pm2.workerPids();
      return pids.length === instances && !pids.includes(victim);
    },
    settled: async () => (await pm2.workerPids()).length === instances,
  };
}

/** Poll `check` every `everyMs` until true; the time it took, or null after `timeoutMs`. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - start;
    await sleep(everyMs);
  }
  return null;
}
