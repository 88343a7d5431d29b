import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { EnvStatus } from '../../src/agent/status.js';
import { AgentClient } from '../../src/cli/agent-client.js';
import { processesUnder, type RehearsalReport } from '../../src/rehearse/index.js';
import { getRuntimeDriver } from '../../src/runtime/registry.js';
import { pidAlive } from '../../src/util/pid.js';
import { isPortFree } from '../../src/util/ports.js';

/** `<instance id>:<pid>` of every instance of the target environment, from its agent: unchanged means untouched. */
export async function targetPids(state: string, env = 'default'): Promise<string[]> {
  const c = new AgentClient(join(state, 'agent.sock'));
  try {
    const s = await c.call<EnvStatus>('GET', `/v1/status?env=${env}`);
    return s.services.flatMap((x) => x.instances.map((i) => `${i.id}:${i.pid}`)).sort();
  } finally {
    await c.close();
  }
}

/** Nothing of the copy is left: directory, stamped processes, the agent/router/instance pids seen, listeners, and the report says so. */
export async function expectRehearsalGone(r: RehearsalReport): Promise<void> {
  expect(existsSync(r.copyDir)).toBe(false);
  expect(processesUnder(r.copyDir)).toEqual([]);
  expect(await getRuntimeDriver('process', { scope: r.copyDir }).list()).toEqual([]);
  expect(r.processes.map((p) => p.what)).toEqual(expect.arrayContaining(['agent', 'router']));
  for (const p of r.processes) expect(pidAlive(p.pid), `${p.what} pid ${p.pid}`).toBe(false);
  for (const p of Object.values(r.ports)) expect(await isPortFree(p), `copy port ${p}`).toBe(true);
  expect(r.leftovers).toEqual({ processes: [], ports: [], dir: null });
}
