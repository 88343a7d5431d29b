import { chmodSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirIdentity } from '../util/dir-identity.js';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { parseFailpoints, type ExecDeps } from '../apply/context.js';
import { NotFoundError, SymphonyError } from '../errors.js';
import { registerBuiltinKinds } from '../kinds/builtin.js';
import { RuntimeSet } from '../runtime/set.js';
import { SecretVault } from '../secrets/vault.js';
import { Journal } from '../state/journal.js';
import { StateStore } from '../state/store.js';
import { createLogger } from '../util/log.js';
import { guestContext, type AgentGuest } from './guest.js';
import { jsonApi } from './http.js';
import { socketPathOf } from './paths.js';
import { Operations, type SubmitRequest } from './operations.js';
import { bootRestore } from './boot.js';
import { recover, resumeUnfinished } from './recover.js';
import { RouterWatch } from './router-watch.js';
import { drift, envStatus } from './status.js';
import { Supervisor } from './supervisor.js';
import { routerTraffic } from './traffic.js';
import { pipelineGuest } from '../pipeline/guest.js';
import { backupGuest } from '../backup/guest.js';
import { autoscaleGuest } from '../autoscale/guest.js';
import { observeGuest } from '../observe/guest.js';

/** Capabilities hosted by the agent, each in its own folder (see ./guest.ts). */
const GUESTS: Array<() => AgentGuest> = [pipelineGuest, backupGuest, autoscaleGuest, observeGuest];

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
  const runtime = new RuntimeSet({ scope: stateDir, onEngineStart: (line) => log.info({ engine: line }, line) });
  const deps: ExecDeps = {
    stateDir,
    store,
    journal: new Journal(store),
    vault: new SecretVault(store),
    driver: runtime,
    traffic: routerTraffic(stateDir),
    log,
    failpoints: parseFailpoints(process.env.SYMPHONY_FAILPOINTS),
    progress: (op, line) => log.info({ operation: op }, line),
  };
  const ops = new Operations(deps);
  const supervisor = new Supervisor(deps);
  const routerWatch = new RouterWatch(deps, () => ops.busy());
  let dirWatch: NodeJS.Timeout | undefined;
  const startedAt = new Date().toISOString();
  const agentInfo = () => ({ pid: process.pid, startedAt, uptimeS: Math.round((Date.now() - Date.parse(startedAt)) / 1000) });
  const guests = GUESTS.map((make) => make());
  const guestCtx = guestContext(deps, ops);
  let recoveryDone: () => void = () => undefined;
  const recovered = new Promise<void>((r) => (recoveryDone = r));
  let startedGuests: () => void = () => undefined;
  const guestsStarted = new Promise<void>((r) => (startedGuests = r));
  const api = jsonApi([
    { method: 'GET', pattern: /^\/v1\/ping$/, handler: async () => ({ pid: process.pid, stateDir }) },
    // The socket answers before recovery ends; an operation waits for it (recovery would take its new instances for dead ones).
    { method: 'POST', pattern: /^\/v1\/operations$/, handler: async (_m, _r, body) => (await recovered, { operation: ops.submit(body as SubmitRequest) }) },
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
    { method: 'GET', pattern: /^\/v1\/status$/, handler: async (_m, _r, _b, url) => ({ ...envStatus(deps, url.searchParams.get('env') ?? 'default'), agent: agentInfo(), router: routerWatch.status() }) },
    {
      method: 'GET',
      pattern: /^\/v1\/drift$/,
      handler: async (_m, _r, _b, url) => {
        const env = url.searchParams.get('env') ?? 'default';
        await routerWatch.tick();
        return { drift: [...(await drift(deps, env)), ...routerWatch.driftItems(env)] };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/events$/,
      handler: async (_m, _r, _b, url) => {
        const limit = Math.min(10_000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
        const kind = url.searchParams.get('kind');
        const events = store.events(url.searchParams.get('env') ?? 'default', kind ? 10_000 : limit);
        return { events: (kind ? events.filter((e) => e.kind === kind).slice(0, limit) : events).reverse() };
      },
    },
    { method: 'POST', pattern: /^\/v1\/unlock$/, handler: async (_m, _r, body) => ({ released: ops.unlock((body as { id: string }).id) }) },
    { method: 'POST', pattern: /^\/v1\/shutdown$/, handler: async (_m, _r, body) => shutdown((body ?? {}) as ShutdownRequest) },
    // A guest's routes answer once the guests started (after the boot restore), not before.
    ...guests.flatMap((g) => g.routes ?? []).map((r) => ({ ...r, handler: async (...a: Parameters<typeof r.handler>) => (await guestsStarted, r.handler(...a)) })),
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
  // Machine restart order: adopt what survived, bring dead instances back in boot order,
  // then the router (its watch), then unfinished operations.
  const summary = await recover(deps);
  const boot = summary.dead > 0 ? await bootRestore(deps) : { restored: 0, failed: 0 };
  await routerWatch.tick();
  const resumed = resumeUnfinished(deps, ops);
  recoveryDone();
  log.info({ ...summary, ...boot, resumed }, 'agent started');
  supervisor.start();
  routerWatch.start();
  // An agent whose state dir was deleted (destroyed by hand) has nothing left to serve.
  const served = dirIdentity(stateDir);
  dirWatch = setInterval(() => {
    if (dirIdentity(stateDir) === served) return;
    log.warn({ stateDir }, 'state dir is gone; the agent stops');
    void close().then(opts.onShutdown);
  }, 2000);
  for (const g of guests) await g.start?.(guestCtx.ctx);
  startedGuests();
  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    clearInterval(dirWatch);
    supervisor.stop();
    await routerWatch.stop();
    guestCtx.stopJobs();
    for (const g of guests) await g.stop?.();
    await new Promise<void>((res) => {
      server.close(() => res());
      server.closeAllConnections();
    });
    await ops.idle();
    runtime.close();
    store.close();
  }
  /** Stop the agent (and its router with `stopRouter`); with `ifEmpty`, only when no service is recorded in any environment. */
  async function shutdown(req: ShutdownRequest): Promise<{ stopping: boolean; router: boolean; reason?: string }> {
    if (req.ifEmpty) {
      const left = store.db.prepare(`SELECT COUNT(*) FROM services`).pluck().get() as number;
      if (left > 0) return { stopping: false, router: false, reason: `${left} service(s) still recorded` };
    }
    await routerWatch.stop();
    const router = req.stopRouter === true ? await routerWatch.stopRouter() : false;
    setImmediate(() => void close().then(opts.onShutdown));
    return { stopping: true, router };
  }
  return { socketPath, close };
}

interface ShutdownRequest {
  ifEmpty?: boolean;
  stopRouter?: boolean;
}
