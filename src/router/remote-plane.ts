import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PlaneSnapshot } from './data-plane.js';
import { RouterRequestError } from './errors.js';
import type { RouterConfig } from './types.js';

/** One call of the leader into a follower's data plane (the `PlaneLink` methods). */
export type PlaneCall =
  | { op: 'install'; args: [config: RouterConfig] }
  | { op: 'closeUnused'; args: [ports: number[]] }
  | { op: 'pause'; args: [routeId: string, timeoutMs: number] }
  | { op: 'resume'; args: [routeId: string] }
  | { op: 'closeLongLived'; args: [release: string] }
  | { op: 'snapshot'; args: [] }
  | { op: 'close'; args: [] };

/** Messages on the IPC channel between the leader and a follower. */
export type PlaneMessage =
  | ({ kind: 'call'; id: number } & PlaneCall)
  /** Sent with a listening socket as the IPC handle: accept on it too. */
  | { kind: 'adopt'; id: number; port: number; routeId: string }
  | { kind: 'answer'; id: number; result?: unknown; error?: { code: string; error: string; hint?: string } }
  | { kind: 'ready' };

const FOLLOWER_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './follower.ts' : './follower.js', import.meta.url));

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** A follower router process, driven over IPC by the leader that started it. */
export class RemotePlane {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (msg: PlaneMessage) => {
      if (msg.kind !== 'answer') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new RouterRequestError(msg.error.code, msg.error.error, msg.error.hint));
      else p.resolve(msg.result);
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new RouterRequestError('router_peer', `router follower ${child.pid} exited (${signal ?? code}) during a call`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * Start a follower for router dir `dir` and wait until it is ready. It runs in its own
   * session (a signal to the leader's process group does not reach it) and outlives the leader.
   */
  static async start(dir: string, healthIntervalMs: number, logFd: number | 'ignore'): Promise<RemotePlane> {
    const ts = FOLLOWER_MAIN.endsWith('.ts');
    const child = fork(FOLLOWER_MAIN, [dir], {
      detached: true,
      execArgv: ts ? ['--import', 'tsx'] : process.execArgv.filter((a) => !a.startsWith('--inspect')),
      env: { ...process.env, SYMPHONY_ROUTER_HEALTH_MS: String(healthIntervalMs) },
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    child.unref();
    const plane = new RemotePlane(child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: PlaneMessage): void => {
        if (msg.kind !== 'ready') return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new RouterRequestError('router_peer', `router follower ${child.pid} exited (${signal ?? code}) before it was ready`)));
    });
    return plane;
  }

  /** Give the follower a listening socket of this process: from now on it accepts on it too. */
  adopt(port: number, routeId: string, server: Server): Promise<void> {
    return this.send({ kind: 'adopt', id: this.nextId++, port, routeId }, server).then(() => undefined);
  }

  call(call: PlaneCall): Promise<unknown> {
    return this.send({ kind: 'call', id: this.nextId++, ...call });
  }

  snapshot(): Promise<PlaneSnapshot> {
    return this.call({ op: 'snapshot', args: [] }) as Promise<PlaneSnapshot>;
  }

  private send(msg: Extract<PlaneMessage, { id: number }>, handle?: Server): Promise<unknown> {
    if (this.exited || !this.child.connected) return Promise.reject(new RouterRequestError('router_peer', `router follower ${this.pid} is gone`));
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.child.send(msg, handle, (err) => {
        if (!err) return;
        this.pending.delete(msg.id);
        reject(new RouterRequestError('router_peer', `router follower ${this.pid} did not take a message: ${err.message}`));
      });
    });
  }

  /** Ask the follower to close (it exits once its data plane closed); kill it after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.call({ op: 'close', args: [] }).catch(() => undefined);
    await exited;
    clearTimeout(kill);
  }
}
