import { chmodSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { parseFailpoints, type ExecDeps } from '../apply/context.js';
import { NotFoundError, SymphonyError } from '../errors.js';
import { registerBuiltinKinds } from '../kinds/builtin.js';
import { getRuntimeDriver } from '../runtime/registry.js';
import { SecretVault } from '../secrets/vault.js';
import { Journal } from '../state/journal.js';
import { StateStore } from '../state/store.js';
import { createLogger } from '../util/log.js';
import { guestContext, type AgentGuest } from './guest.js';
import { jsonApi } from './http.js';
import { socketPathOf } from './paths.js';
import { Operations, type SubmitRequest } from './operations.js';
import { recover } from './recover.js';
import { drift, envStatus } from './status.js';
import { Supervisor } from './supervisor.js';
import { routerTraffic } from './traffic.js';
import { pipelineGuest } from '../pipeline/guest.js';
import { backupGuest } from '../backup/guest.js';

/** Capabilities hosted by the agent, each in its own folder (see ./guest.ts). */
const GUESTS: Array<() => AgentGuest> = [pipelineGuest, backupGuest];

export { socketPathOf };

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

export interface RunningAgent {
  socketPath: string;
  close(): Promise<void>;
}

/**
 * The agent daemon of one state dir: control API on a 0600 unix socket,
 * supervisor, operation runner. Killing it leaves instances running; the next
 * agent re-adopts them and finishes what the journal says is unfinished.
 */
export async function startAgent(stateDirArg: string, opts: { onShutdown?: () => void } = {}): Promise<RunningAgent> {
  registerBuiltinKinds();
  const stateDir = resolve(stateDirArg);
  const socketPath = socketPathOf(stateDir);
  const store = new StateStore(stateDir);
  if (existsSync(socketPath)) {
    if (await socketAnswers(socketPath)) throw new SymphonyError(`an agent already serves ${stateDir}`, `stop it first, or use it: symphony status --state-dir ${stateDir}`);
    unlinkSync(socketPath);
  }
  const log = createLogger('agent', join(stateDir, 'agent.log'));
  const deps: ExecDeps = {
    stateDir,
    store,
    journal: new Journal(store),
    vault: new SecretVault(store),
    driver: getRuntimeDriver('process', { scope: stateDir }),
    traffic: routerTraffic(stateDir),
    log,
    failpoints: parseFailpoints(process.env.SYMPHONY_FAILPOINTS),
    progress: (op, line) => log.info({ operation: op }, line),
  };
  const ops = new Operations(deps);
  const supervisor = new Supervisor(deps);
  const guests = GUESTS.map((make) => make());
  const guestCtx = guestContext(deps, ops);
  const api = jsonApi([
    { method: 'GET', pattern: /^\/v1\/ping$/, handler: async () => ({ pid: process.pid, stateDir }) },
    { method: 'POST', pattern: /^\/v1\/operations$/, handler: async (_m, _r, body) => ({ operation: ops.submit(body as SubmitRequest) }) },
    {
      method: 'GET',
      pattern: /^\/v1\/operations\/([\w-]+)$/,
      handler: async (m) => {
        const op = deps.journal.get(m[1]);
        if (!op) throw new NotFoundError(`no operation ${m[1]}`, 'list operations with: symphony status');
        return { operation: { ...op, plan: undefined }, steps: deps.journal.steps(op.id), running: ops.isRunning(op.id) };
      },
    },
    { method: 'POST', pattern: /^\/v1\/operations\/([\w-]+)\/resume$/, handler: async (m) => ({ operation: ops.resumePaused(m[1]) }) },
    { method: 'GET', pattern: /^\/v1\/status$/, handler: async (_m, _r, _b, url) => envStatus(deps, url.searchParams.get('env') ?? 'default') },
    { method: 'GET', pattern: /^\/v1\/drift$/, handler: async (_m, _r, _b, url) => ({ drift: await drift(deps, url.searchParams.get('env') ?? 'default') }) },
    { method: 'POST', pattern: /^\/v1\/unlock$/, handler: async (_m, _r, body) => ({ released: ops.unlock((body as { id: string }).id) }) },
    { method: 'POST', pattern: /^\/v1\/shutdown$/, handler: async () => (setImmediate(() => void close().then(opts.onShutdown)), { stopping: true }) },
    ...guests.flatMap((g) => g.routes ?? []),
  ]);
  const server: Server = createServer((req, res) => void api(req, res));
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    const old = process.umask(0o177);
    server.listen(socketPath, () => {
      process.umask(old);
      res();
    });
  });
  chmodSync(socketPath, 0o600);
  writeFileSync(join(stateDir, 'agent.pid'), String(process.pid));
  const summary = await recover(deps, ops);
  log.info(summary, 'agent started');
  supervisor.start();
  for (const g of guests) await g.start?.(guestCtx.ctx);
  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    supervisor.stop();
    guestCtx.stopJobs();
    for (const g of guests) await g.stop?.();
    await new Promise<void>((res) => {
      server.close(() => res());
      server.closeAllConnections();
    });
    await ops.idle();
    store.close();
  }
  return { socketPath, close };
}
