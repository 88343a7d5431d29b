import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AgentClient } from '../../src/cli/agent-client.js';
import { RuntimeSet } from '../../src/runtime/set.js';
import { pidAlive } from '../../src/util/pid.js';
import { run, type RunResult } from '../../src/util/exec.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin/symphony.js');
export const APP = join(ROOT, 'test/fixtures/stack-app/server.mjs');

/** Run the built CLI as a real process. */
export function symphony(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...(opts.env ?? {}) }, timeoutMs: 120_000 });
}

/** A temp dir holding a stack file and the files it names. */
export function stackDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'symphony-test-'));
  // mkdtemp makes 0700; a postgres service runs as the postgres account and must traverse to its volume.
  chmodSync(dir, 0o711);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export const appFiles = (dir: string, version = 'v1'): Record<string, string> => ({
  [`${dir}/server.mjs`]: `process.env.APP_VERSION ??= ${JSON.stringify(version)};\nawait import(${JSON.stringify(APP)});\n`,
});

/** Stop the agent of a state dir (gracefully) and wait until its process is gone. */
export async function stopAgent(stateDir: string): Promise<void> {
  const c = new AgentClient(join(stateDir, 'agent.sock'));
  try {
    const { pid } = await c.call<{ pid: number }>('GET', '/v1/ping');
    await c.call('POST', '/v1/shutdown');
    for (let i = 0; i < 200 && pidAlive(pid); i++) await sleep(50);
  } catch {
    /* no agent */
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** Leave nothing behind: every instance of the state dir, its agent and its router. */
export async function cleanup(stateDir: string): Promise<void> {
  await stopAgent(stateDir);
  // Processes and containers alike (the engine is never started just to look).
  const driver = new RuntimeSet({ scope: stateDir });
  for (const o of await driver.list()) await driver.stop(o, { graceMs: 2000 });
  driver.close();
  // The container relay of the state dir (src/runtime/container/relay.ts), when one was started.
  try {
    process.kill(Number(readFileSync(join(stateDir, 'container', 'relay.pid'), 'utf8')), 'SIGTERM');
  } catch {
    /* none */
  }
  try {
    const router = await Promise.race([routerPid(stateDir), sleep(2000).then(() => null)]);
    if (router) process.kill(router, 'SIGTERM');
  } catch {
    /* none */
  }
}

async function routerPid(stateDir: string): Promise<number | null> {
  const { RouterClient } = await import('../../src/router/client.js');
  const c = new RouterClient(join(stateDir, 'router', 'router.sock'));
  return c.ping().then((p) => p.pid, () => null);
}

/** Parse the JSON a `--json` command printed. */
export function json<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}
