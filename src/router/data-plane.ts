import type { Server as NetServer } from 'node:net';
import type { DataPlaneView } from './dispatch.js';
import { startActiveHealth } from './health.js';
import { Listeners } from './listeners.js';
import { compileTable, type LiveTable } from './live-table.js';
import { LongLivedSet } from './long-lived.js';
import { RoutePauses } from './pause.js';
import { TrafficStats, type CounterSnapshot } from './stats.js';
import type { RouterConfig } from './types.js';
import { UpstreamRegistry } from './upstreams.js';

/** Health of one upstream as one data plane sees it. */
export interface UpstreamReport {
  key: string;
  healthy: boolean;
  inFlight: number;
  lastError: string | null;
}

/** Everything a data plane counts, as plain data (it crosses process boundaries). */
export interface PlaneSnapshot {
  counters: CounterSnapshot[];
  upstreams: UpstreamReport[];
  paused: string[];
}

/**
 * What the control side drives: the data plane of this process, or those of every
 * router process (`PeerPlane`). Config arrives already validated and persisted.
 */
export interface PlaneLink {
  /** Listen on `port` unless already listening; rejects with a ListenError naming the route. */
  open(port: number, routeId: string): Promise<void>;
  /** Serve `config` from now on: one new immutable table; ports no route uses are closed. */
  install(config: RouterConfig): Promise<void>;
  closeUnused(ports: number[]): Promise<void>;
  pause(routeId: string, timeoutMs: number): Promise<void>;
  /** Returns how many held requests were let go. */
  resume(routeId: string): Promise<number>;
  /** Returns how many connections were closed. */
  closeLongLived(release: string): Promise<number>;
  snapshot(): Promise<PlaneSnapshot>;
  close(): Promise<void>;
}

export interface DataPlaneOptions {
  /** Time between active health checks of each upstream. */
  healthIntervalMs: number;
  /**
   * True (the leader): this plane opens and closes the listening sockets. False (a follower):
   * it accepts only on sockets handed to it (`adopt`) and never listens itself.
   */
  ownsPorts: boolean;
}

/**
 * The request path's state in one process: the live table, listeners, upstream pools
 * and health, pauses, long-lived connections and counters.
 */
export class DataPlane implements DataPlaneView, PlaneLink {
  table: LiveTable = { version: 0, ports: new Map(), upstreamKeys: new Set() };
  readonly pauses = new RoutePauses();
  readonly longLived = new LongLivedSet();
  readonly stats = new TrafficStats();
  readonly upstreams = new UpstreamRegistry();
  private readonly listeners: Listeners;
  private readonly stopHealth: () => void;
  private readonly sweeper: NodeJS.Timeout;
  private ownsPorts: boolean;

  constructor(opts: DataPlaneOptions) {
    this.ownsPorts = opts.ownsPorts;
    this.listeners = new Listeners(this);
    this.stopHealth = startActiveHealth(this.upstreams, opts.healthIntervalMs);
    this.sweeper = setInterval(() => this.upstreams.sweepIdle(), 1000);
    this.sweeper.unref();
  }

  async open(port: number, routeId: string): Promise<void> {
    if (this.ownsPorts) await this.listeners.ensure(port, routeId);
  }

  /** Ports this plane accepts on. */
  listeningPorts(): number[] {
    return this.listeners.ports();
  }

  serverOf(port: number): NetServer | undefined {
    return this.listeners.serverOf(port);
  }

  /** Accept on a listening socket the leader opened. */
  adopt(port: number, server: NetServer): void {
    this.listeners.adopt(port, server);
  }

  /** A follower that becomes the leader opens and closes ports from now on. */
  takeOwnership(): void {
    this.ownsPorts = true;
  }

  /**
   * Then, when it owns the ports, opens the config's ports not listened on yet (a port
   * that fails stays closed: restore logged it).
   */
  async install(config: RouterConfig): Promise<void> {
    this.table = compileTable(config, this.upstreams, this.stats);
    this.upstreams.setActive(this.table.upstreamKeys);
    this.listeners.closeUnused(new Set(this.table.ports.keys()));
    if (!this.ownsPorts) return;
    for (const route of config.routes) {
      if (!this.listeners.has(route.listen)) await this.listeners.ensure(route.listen, route.id).catch(() => undefined);
    }
  }

  async closeUnused(ports: number[]): Promise<void> {
    this.listeners.closeUnused(new Set(ports));
  }

  async pause(routeId: string, timeoutMs: number): Promise<void> {
    this.pauses.pause(routeId, timeoutMs);
  }

  async resume(routeId: string): Promise<number> {
    return this.pauses.resume(routeId);
  }

  async closeLongLived(release: string): Promise<number> {
    return this.longLived.closeRelease(release);
  }

  async snapshot(): Promise<PlaneSnapshot> {
    return {
      counters: this.stats.snapshot(),
      upstreams: this.upstreams.all().map((u) => ({ key: u.key, healthy: u.healthy, inFlight: u.inFlight, lastError: u.lastError })),
      paused: this.pauses.ids(),
    };
  }

  async close(): Promise<void> {
    this.stopHealth();
    clearInterval(this.sweeper);
    this.pauses.resumeAll();
    this.longLived.closeAll();
    await this.listeners.closeAll();
    this.upstreams.closeAll();
  }
}
