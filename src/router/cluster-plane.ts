import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../util/log.js';
import type { PlaneLink, PlaneSnapshot, UpstreamReport } from './data-plane.js';
import { RouterRequestError } from './errors.js';
import { mergeSnapshots } from './stats.js';
import type { RouterConfig } from './types.js';

/** One call of the control side into a worker's data plane (the `PlaneLink` methods). */
export type PlaneCall =
  | { op: 'open'; args: [port: number, routeId: string] }
  | { op: 'install'; args: [config: RouterConfig] }
  | { op: 'closeUnused'; args: [ports: number[]] }
  | { op: 'pause'; args: [routeId: string, timeoutMs: number] }
  | { op: 'resume'; args: [routeId: string] }
  | { op: 'closeLongLived'; args: [release: string] }
  | { op: 'snapshot'; args: [] }
  | { op: 'close'; args: [] };

/** Messages on the IPC channel between the primary and a worker. */
export type PlaneMessage =
  | ({ kind: 'call'; id: number } & PlaneCall)
  | { kind: 'answer'; id: number; result?: unknown; error?: { code: string; error: string; hint?: string } }
  | { kind: 'ready' };

/** Time a worker has to finish its data plane's close before it is killed. */
const CLOSE_GRACE_MS = 5000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * The data planes of N worker processes (node:cluster; the listening sockets are shared,
 * the primary hands out connections round-robin). Every call goes to every worker and
 * resolves when all have answered; counters are merged. A worker that dies is replaced
 * and given the current ports and config before it takes connections.
 */
export class ClusterPlane implements PlaneLink {
  private readonly workers = new Set<Worker>();
  private readonly pending = new Map<number, { worker: Worker; call: Pending }>();
  private nextId = 1;
  private config: RouterConfig = { version: 0, routes: [] };
  private closing = false;

  private constructor(private readonly log: Logger, private readonly env: NodeJS.ProcessEnv) {}

  /** Fork `count` workers and wait until each is ready. */
  static async start(count: number, healthIntervalMs: number, log: Logger): Promise<ClusterPlane> {
    const workerFile = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
    cluster.setupPrimary({ exec: fileURLToPath(workerFile), execArgv: workerFile.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [], silent: false });
    const plane = new ClusterPlane(log, { SYMPHONY_ROUTER_HEALTH_MS: String(healthIntervalMs) });
    for (const worker of await Promise.all(Array.from({ length: count }, () => plane.fork()))) plane.workers.add(worker);
    return plane;
  }

  /** A new worker, ready for calls; it takes part in broadcasts once added to `workers`. */
  private fork(): Promise<Worker> {
    const worker = cluster.fork(this.env);
    worker.on('message', (msg: PlaneMessage) => this.onMessage(msg));
    worker.once('exit', (code, signal) => this.onExit(worker, code, signal));
    return new Promise((resolve, reject) => {
      const onReady = (msg: PlaneMessage): void => {
        if (msg.kind !== 'ready') return;
        worker.off('message', onReady);
        resolve(worker);
      };
      worker.on('message', onReady);
      worker.once('exit', () => reject(new RouterRequestError('router_worker', `router worker ${worker.process.pid} exited before it was ready`)));
    });
  }

  private onMessage(msg: PlaneMessage): void {
    if (msg.kind !== 'answer') return;
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    this.pending.delete(msg.id);
    if (msg.error) entry.call.reject(new RouterRequestError(msg.error.code, msg.error.error, msg.error.hint));
    else entry.call.resolve(msg.result);
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.workers.delete(worker);
    for (const [id, entry] of this.pending) {
      if (entry.worker !== worker) continue;
      this.pending.delete(id);
      entry.call.reject(new RouterRequestError('router_worker', `router worker ${worker.process.pid} exited (${signal ?? code}) during a call`));
    }
    if (this.closing) return;
    this.log.error({ pid: worker.process.pid, code, signal }, 'router worker exited; starting a new one');
    void this.replace().catch((err: Error) => this.log.error({ err: err.message }, 'router worker could not be replaced'));
  }

  /** Fork a worker and bring it to the current config before it joins the broadcasts. */
  private async replace(): Promise<void> {
    const worker = await this.fork();
    let sent: RouterConfig | null = null;
    while (sent !== this.config) {
      sent = this.config;
      await this.call(worker, { op: 'install', args: [sent] });
    }
    if (this.closing) return void worker.process.kill('SIGKILL');
    this.workers.add(worker);
    this.log.info({ pid: worker.process.pid, version: sent.version }, 'router worker replaced');
  }

  private call(worker: Worker, call: PlaneCall): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker, call: { resolve, reject } });
      worker.send({ kind: 'call', id, ...call } satisfies PlaneMessage);
    });
  }

  private all(call: PlaneCall): Promise<unknown[]> {
    return Promise.all([...this.workers].map((w) => this.call(w, call)));
  }

  async open(port: number, routeId: string): Promise<void> {
    await this.all({ op: 'open', args: [port, routeId] });
  }

  async install(config: RouterConfig): Promise<void> {
    this.config = config;
    await this.all({ op: 'install', args: [config] });
  }

  async closeUnused(ports: number[]): Promise<void> {
    await this.all({ op: 'closeUnused', args: [ports] });
  }

  async pause(routeId: string, timeoutMs: number): Promise<void> {
    await this.all({ op: 'pause', args: [routeId, timeoutMs] });
  }

  async resume(routeId: string): Promise<number> {
    return sum(await this.all({ op: 'resume', args: [routeId] }));
  }

  async closeLongLived(release: string): Promise<number> {
    return sum(await this.all({ op: 'closeLongLived', args: [release] }));
  }

  /** Counters summed over the workers that answer; an upstream is healthy only if every worker finds it so. */
  async snapshot(): Promise<PlaneSnapshot> {
    const settled = await Promise.allSettled([...this.workers].map((w) => this.call(w, { op: 'snapshot', args: [] })));
    const parts = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value as PlaneSnapshot] : []));
    const upstreams = new Map<string, UpstreamReport>();
    for (const p of parts) {
      for (const u of p.upstreams) {
        const seen = upstreams.get(u.key);
        if (!seen) upstreams.set(u.key, { ...u });
        else {
          seen.healthy &&= u.healthy;
          seen.inFlight += u.inFlight;
          seen.lastError ??= u.lastError;
        }
      }
    }
    return {
      counters: mergeSnapshots(parts.flatMap((p) => p.counters)),
      upstreams: [...upstreams.values()],
      paused: [...new Set(parts.flatMap((p) => p.paused))],
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    const exits = [...this.workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          const kill = setTimeout(() => w.process.kill('SIGKILL'), CLOSE_GRACE_MS);
          w.once('exit', () => (clearTimeout(kill), resolve()));
        }),
    );
    await this.all({ op: 'close', args: [] }).catch(() => undefined);
    await Promise.all(exits);
  }
}

function sum(values: unknown[]): number {
  return values.reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
}
