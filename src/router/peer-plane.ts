import { existsSync } from 'node:fs';
import type { Logger } from '../util/log.js';
import type { DataPlane, PlaneLink, PlaneSnapshot, UpstreamReport } from './data-plane.js';
import { RemotePlane, type PlaneCall } from './remote-plane.js';
import { mergeSnapshots } from './stats.js';
import type { RouterConfig } from './types.js';

/** Time a follower has to close its data plane before it is killed. */
const CLOSE_GRACE_MS = 5000;
/** Wait before replacing a follower that died; doubled for each death within a minute, up to 5 s. */
const RESPAWN_MS = 50;

export interface PeerPlaneOptions {
  dir: string;
  /** Followers beside the leader (peers − 1). */
  followers: number;
  healthIntervalMs: number;
  /** Where followers write stdout/stderr (the router's out file), or ignore. */
  logFd: number | 'ignore';
  log: Logger;
}

/**
 * The leader's link to every router process: its own data plane, which owns the listening
 * sockets, and the followers, each given every socket (IPC handle passing) and every
 * change. A follower that dies is replaced and brought to the current ports and config
 * before it counts; a call answers once the leader and each live follower have applied it.
 */
export class PeerPlane implements PlaneLink {
  private readonly followers = new Set<RemotePlane>();
  private readonly routeOfPort = new Map<number, string>();
  private config: RouterConfig = { version: 0, routes: [] };
  /** Paused routes and when each pause ends (ms since the epoch): a follower that joins later is paused too. */
  private readonly paused = new Map<string, number>();
  private pauseVersion = 0;
  private closing = false;
  private deaths: number[] = [];
  /** Followers replaced since this leader started. */
  replaced = 0;

  constructor(private readonly local: DataPlane, private readonly opts: PeerPlaneOptions) {}

  /** Start the followers; the leader serves alone when one cannot start (it is retried). */
  async startFollowers(): Promise<void> {
    await Promise.all(Array.from({ length: this.opts.followers }, () => this.addFollower()));
  }

  pids(): number[] {
    return [...this.followers].map((f) => f.pid);
  }

  private async addFollower(): Promise<void> {
    if (this.closing || !existsSync(this.opts.dir)) return;
    let f: RemotePlane;
    try {
      f = await RemotePlane.start(this.opts.dir, this.opts.healthIntervalMs, this.opts.logFd);
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'router follower did not start');
      return this.respawnLater();
    }
    f.child.once('exit', (code, signal) => this.onExit(f, code, signal));
    try {
      // The config first, then the sockets: a follower accepting before it knows the routes
      // would answer 404 "no route" (a change meanwhile is sent again, a port opened
      // meanwhile adopted too).
      const adopted = new Set<number>();
      const missing = (): [number, string][] => [...this.routeOfPort].filter(([port]) => !adopted.has(port) && this.local.serverOf(port) !== undefined);
      let sent: RouterConfig | null = null;
      let sentPauses = -1;
      while (sent !== this.config || sentPauses !== this.pauseVersion || missing().length > 0) {
        if (sent !== this.config) {
          sent = this.config;
          await f.call({ op: 'install', args: [sent] });
        }
        // Pauses before sockets: a request the new follower accepts on a paused route waits like the others.
        if (sentPauses !== this.pauseVersion) {
          sentPauses = this.pauseVersion;
          await this.sendPauses(f);
        }
        for (const [port, routeId] of missing()) {
          const server = this.local.serverOf(port);
          if (server) await f.adopt(port, routeId, server);
          adopted.add(port);
        }
      }
    } catch (err) {
      this.opts.log.error({ pid: f.pid, err: (err as Error).message }, 'router follower could not be brought up to date');
      f.child.kill('SIGKILL');
      return;
    }
    if (this.closing) return void f.child.kill('SIGKILL');
    this.followers.add(f);
    this.opts.log.info({ pid: f.pid, version: this.config.version }, 'router follower ready');
  }

  /** Bring a joining follower's pauses to the leader's: paused routes with the time they have left, the others resumed. */
  private async sendPauses(f: RemotePlane): Promise<void> {
    const now = Date.now();
    for (const route of this.config.routes) {
      const until = this.paused.get(route.id);
      if (until !== undefined && until > now) await f.call({ op: 'pause', args: [route.id, until - now] });
      else await f.call({ op: 'resume', args: [route.id] });
    }
  }

  private onExit(f: RemotePlane, code: number | null, signal: string | null): void {
    const was = this.followers.delete(f);
    if (this.closing) return;
    this.opts.log.error({ pid: f.pid, code, signal }, 'router follower exited; starting a new one');
    if (was) this.replaced++;
    this.respawnLater();
  }

  private respawnLater(): void {
    if (this.closing) return;
    const now = Date.now();
    this.deaths = [...this.deaths.filter((t) => now - t < 60_000), now];
    const delay = Math.min(5000, RESPAWN_MS * 2 ** (this.deaths.length - 1));
    setTimeout(() => void this.addFollower(), delay).unref();
  }

  private async all(call: PlaneCall, own: () => Promise<unknown>): Promise<unknown[]> {
    const mine = await own();
    const theirs = await Promise.allSettled([...this.followers].map((f) => f.call(call)));
    for (const s of theirs) if (s.status === 'rejected') this.opts.log.warn({ op: call.op, err: String(s.reason) }, 'a router follower did not apply a call');
    return [mine, ...theirs.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))];
  }

  async open(port: number, routeId: string): Promise<void> {
    await this.local.open(port, routeId);
    if (this.routeOfPort.has(port)) return;
    this.routeOfPort.set(port, routeId);
    const server = this.local.serverOf(port);
    if (!server) return;
    await Promise.allSettled([...this.followers].map((f) => f.adopt(port, routeId, server)));
  }

  async install(config: RouterConfig): Promise<void> {
    this.config = config;
    const used = new Set(config.routes.map((r) => r.listen));
    for (const port of [...this.routeOfPort.keys()]) if (!used.has(port)) this.routeOfPort.delete(port);
    await this.all({ op: 'install', args: [config] }, () => this.local.install(config));
    for (const r of config.routes) if (!this.routeOfPort.has(r.listen) && this.local.serverOf(r.listen)) await this.open(r.listen, r.id);
  }

  async closeUnused(ports: number[]): Promise<void> {
    for (const port of [...this.routeOfPort.keys()]) if (!ports.includes(port)) this.routeOfPort.delete(port);
    await this.all({ op: 'closeUnused', args: [ports] }, () => this.local.closeUnused(ports));
  }

  async pause(routeId: string, timeoutMs: number): Promise<void> {
    this.paused.set(routeId, Date.now() + timeoutMs);
    this.pauseVersion++;
    await this.all({ op: 'pause', args: [routeId, timeoutMs] }, () => this.local.pause(routeId, timeoutMs));
  }

  async resume(routeId: string): Promise<number> {
    this.paused.delete(routeId);
    this.pauseVersion++;
    return sum(await this.all({ op: 'resume', args: [routeId] }, () => this.local.resume(routeId)));
  }

  async closeLongLived(release: string): Promise<number> {
    return sum(await this.all({ op: 'closeLongLived', args: [release] }, () => this.local.closeLongLived(release)));
  }

  /** Counters summed over the peers that answer; an upstream is healthy only if every peer finds it so. */
  async snapshot(): Promise<PlaneSnapshot> {
    const parts = (await this.all({ op: 'snapshot', args: [] }, () => this.local.snapshot())) as PlaneSnapshot[];
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
    return { counters: mergeSnapshots(parts.flatMap((p) => p.counters)), upstreams: [...upstreams.values()], paused: [...new Set(parts.flatMap((p) => p.paused))] };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.followers].map((f) => f.close(CLOSE_GRACE_MS)));
    await this.local.close();
  }
}

function sum(values: unknown[]): number {
  return values.reduce<number>((n, v) => n + (typeof v === 'number' ? v : 0), 0);
}
