import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { SymphonyError } from '../errors.js';
import { socketPathOf } from '../agent/agent.js';

/** An error the agent returned, with its code and hint intact. */
export class AgentError extends SymphonyError {
  constructor(readonly body: { code: string; error: string; hint?: string } & Record<string, unknown>) {
    super(body.error, body.hint);
    (this as { code: string }).code = body.code;
  }
  override toJSON(): Record<string, unknown> {
    return this.body;
  }
}

/** Typed calls to the agent's control API over its unix socket. */
export class AgentClient {
  private readonly client: Client;
  constructor(readonly socketPath: string) {
    this.client = new Client('http://agent', { socketPath, bodyTimeout: 0, headersTimeout: 30_000 });
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.client.request({ method, path, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const json = (await res.body.json()) as T & { code?: string; error?: string };
    if (res.statusCode >= 400) throw new AgentError(json as { code: string; error: string });
    return json;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

const CLI_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));

/** Connect to the state dir's agent, starting it (detached) when none answers. */
export async function ensureAgent(stateDir: string): Promise<AgentClient> {
  const socket = socketPathOf(stateDir);
  const tryPing = async (): Promise<AgentClient | null> => {
    const c = new AgentClient(socket);
    try {
      await c.call('GET', '/v1/ping');
      return c;
    } catch {
      await c.close().catch(() => undefined);
      return null;
    }
  };
  const existing = await tryPing();
  if (existing) return existing;
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
  const out = openSync(join(stateDir, 'agent.out'), 'a');
  const child = spawn(process.execPath, [...process.execArgv, CLI_MAIN, 'agent', '--state-dir', stateDir], { detached: true, stdio: ['ignore', out, out], env: process.env });
  child.unref();
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    const c = await tryPing();
    if (c) return c;
  }
  throw new SymphonyError(`the agent for ${stateDir} did not start`, `look at ${join(stateDir, 'agent.out')} and ${join(stateDir, 'agent.log')}`);
}
