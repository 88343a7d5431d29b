import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { SymphonyError } from '../errors.js';
import { AGENT_NODE_FLAGS, socketPathOf } from '../agent/paths.js';
import { makeStateDir } from '../state/dir.js';

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

/** Typed calls to the agent's control API over its unix socket (node:http: cheap to load in the CLI). */
export class AgentClient {
  private readonly agent: Agent;
  constructor(readonly socketPath: string) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 4 });
  }

  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        { socketPath: this.socketPath, agent: this.agent, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('error', reject);
          res.on('end', () => {
            let json: T & { code?: string; error?: string };
            try {
              json = JSON.parse(Buffer.concat(parts).toString('utf8')) as T & { code?: string; error?: string };
            } catch {
              return reject(new SymphonyError(`the agent answered ${method} ${path} with status ${res.statusCode} and no JSON`));
            }
            if ((res.statusCode ?? 500) >= 400) return reject(new AgentError(json as { code: string; error: string }));
            resolve(json);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

const AGENT_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../agent/main.ts' : '../agent/main.js', import.meta.url));

export { AGENT_NODE_FLAGS };

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
  makeStateDir(stateDir);
  const out = openSync(join(stateDir, 'agent.out'), 'a', 0o600);
  const child = spawn(process.execPath, [...process.execArgv, ...AGENT_NODE_FLAGS, AGENT_MAIN, stateDir], { detached: true, stdio: ['ignore', out, out], env: process.env });
  child.unref();
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    const c = await tryPing();
    if (c) return c;
  }
  throw new SymphonyError(`the agent for ${stateDir} did not start`, `look at ${join(stateDir, 'agent.out')} and ${join(stateDir, 'agent.log')}`);
}
