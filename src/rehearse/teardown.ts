import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { routerDirOf, socketPathOf } from '../agent/paths.js';
import { AgentClient } from '../cli/agent-client.js';
import { RouterClient } from '../router/client.js';
import { getRuntimeDriver } from '../runtime/registry.js';
import { pidAlive } from '../util/pid.js';
import { isPortFree } from '../util/ports.js';

/** What of a copy was still there after teardown (all empty when it is gone). */
export interface Leftovers {
  processes: Array<{ pid: number; command: string }>;
  ports: number[];
  dir: string | null;
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (let t = 0; t < ms && pidAlive(pid); t += 50) await sleep(50);
  return !pidAlive(pid);
}

async function stopPid(pid: number | null, graceMs: number): Promise<void> {
  if (pid === null || !pidAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  if (!(await waitGone(pid, graceMs))) {
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, 2000);
  }
}

/** Processes whose command line names a path inside `dir`: the copy's agent, router, postgres, etcd… */
export function processesUnder(dir: string): Array<{ pid: number; command: string }> {
  const out: Array<{ pid: number; command: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue;
    }
    if (cmd.includes(dir + '/') || cmd.endsWith(dir) || cmd.includes(dir + ' ')) out.push({ pid: Number(name), command: cmd.slice(0, 200) });
  }
  return out;
}

/** Pids of a copy's daemons and instances, taken before teardown so a caller can check they are gone. */
export async function copyProcesses(copyDir: string): Promise<Array<{ pid: number; what: string }>> {
  const agent = new AgentClient(socketPathOf(copyDir));
  const agentPid = await agent.call<{ pid: number }>('GET', '/v1/ping').then((p) => p.pid, () => null);
  await agent.close();
  const router = new RouterClient(join(routerDirOf(copyDir), 'router.sock'));
  const routerPid = await Promise.race([router.ping().then((p) => p.pid, () => null), sleep(3000).then(() => null)]);
  const instances = await getRuntimeDriver('process', { scope: copyDir }).list();
  return [
    ...(agentPid !== null ? [{ pid: agentPid, what: 'agent' }] : []),
    ...(routerPid !== null ? [{ pid: routerPid, what: 'router' }] : []),
    ...instances.map((o) => ({ pid: o.pid, what: o.id })),
  ];
}

/**
 * Remove a rehearsal copy completely: its agent first (so nothing restarts
 * instances), then every instance stamped with its scope, its router, any
 * process still naming its directory, then the directory and the copy's
 * directories `outside` it (its Symphony-owned root). Returns what is
 * left, which is nothing unless something refused to die.
 */
export async function tearDown(copyDir: string, ports: number[], outside: string[] = []): Promise<Leftovers> {
  const agent = new AgentClient(socketPathOf(copyDir));
  const agentPid = await agent.call<{ pid: number }>('GET', '/v1/ping').then((p) => p.pid, () => null);
  if (agentPid !== null) {
    await agent.call('POST', '/v1/shutdown').catch(() => undefined);
    if (!(await waitGone(agentPid, 15_000))) await stopPid(agentPid, 2000);
  }
  await agent.close();

  const driver = getRuntimeDriver('process', { scope: copyDir });
  for (const o of await driver.list()) await driver.stop(o, { graceMs: 5000 });

  const router = new RouterClient(join(routerDirOf(copyDir), 'router.sock'));
  const routerPid = await Promise.race([router.ping().then((p) => p.pid, () => null), sleep(3000).then(() => null)]);
  await stopPid(routerPid, 5000);

  for (const dir of [copyDir, ...outside]) for (const p of processesUnder(dir)) await stopPid(p.pid, 3000);
  for (const o of await driver.list()) await driver.stop(o, { graceMs: 1000 });

  for (const dir of outside) rmSync(dir, { recursive: true, force: true });
  rmSync(copyDir, { recursive: true, force: true });
  try {
    rmdirSync(dirname(copyDir));
  } catch {
    /* other rehearsals, or not empty */
  }
  const busy: number[] = [];
  for (const p of ports) if (!(await isPortFree(p))) busy.push(p);
  const left = [...[copyDir, ...outside].flatMap(processesUnder), ...(await driver.list()).map((o) => ({ pid: o.pid, command: o.id }))];
  const dirLeft = [copyDir, ...outside].find((d) => existsSync(d)) ?? null;
  return { processes: left, ports: busy, dir: dirLeft };
}
