import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterMember, ClusterStatus } from '../../strategies/cluster-rolling/types.js';
import type { InstanceHandle, InstanceSpec, RuntimeDriver } from '../../runtime/types.js';
import { distinctFreePorts } from '../../util/ports.js';
import type { KindContext } from '../types.js';
import { EtcdCluster } from './cluster.js';
import { EtcdRequestError } from './gateway.js';
import { etcdKind, memberEndpoints } from './index.js';

export interface LocalEtcdOptions {
  driver: RuntimeDriver;
  /** Directory that holds the volume root (`<root>/volume`) and logs (`<root>/logs`). */
  root: string;
  members?: number;
  settings?: Record<string, string>;
  service?: string;
  /** How long to wait for the first healthy status (default 30 s). */
  timeoutMs?: number;
}

/** Distinct free ports for the given names (the kernel's choice, never two the same). */
export async function allocatePorts(names: string[]): Promise<Record<string, number>> {
  const ports = await distinctFreePorts(names.length);
  return Object.fromEntries(names.map((n, i) => [n, ports[i]]));
}

/**
 * A cluster of the etcd kind on this machine, started from the kind's drafts
 * through a RuntimeDriver: what `apply` does for one service, for tests,
 * benchmarks and rehearsals. Tracks which instance each member runs.
 */
export class LocalEtcd {
  readonly cluster: EtcdCluster;
  readonly current = new Map<string, { spec: InstanceSpec; handle: InstanceHandle }>();
  readonly logDir: string;

  private constructor(readonly ctx: KindContext, readonly driver: RuntimeDriver, root: string) {
    this.cluster = new EtcdCluster(memberEndpoints(ctx));
    this.logDir = join(root, 'logs');
  }

  static async create(opts: LocalEtcdOptions): Promise<LocalEtcd> {
    const service = opts.service ?? 'kv';
    const spec = { etcd: { version: '3.4', members: opts.members ?? 3, settings: opts.settings } };
    const base = { stack: 'local', env: 'test', service, spec, stackDir: opts.root, volumePath: join(opts.root, 'volume') };
    const ctx: KindContext = { ...base, ports: await allocatePorts(etcdKind.stablePorts(base)) };
    mkdirSync(opts.root, { recursive: true });
    await etcdKind.prepare!(ctx, {}, opts.driver);
    const local = new LocalEtcd(ctx, opts.driver, opts.root);
    const specs = local.specs('r1', opts.settings ?? {});
    const handles = await Promise.all(specs.map((s) => opts.driver.start(s)));
    specs.forEach((s, i) => local.current.set(s.id.split('-').pop()!, { spec: s, handle: handles[i] }));
    await local.waitHealthy(opts.timeoutMs ?? 30_000);
    return local;
  }

  /** The instance specs of a release whose etcd settings are `settings`. */
  specs(release: string, settings: Record<string, string>): InstanceSpec[] {
    const ctx = { ...this.ctx, spec: { etcd: { ...(this.ctx.spec.etcd as object), settings } } };
    return etcdKind.instances(ctx).map((d) => ({
      id: `${ctx.service}-${release}-${d.ordinal}`,
      service: ctx.service,
      release,
      command: d.command,
      cwd: d.cwd,
      env: d.env,
      port: d.port,
      logDir: this.logDir,
    }));
  }

  /** Input of rollCluster: every member from what it runs now to `release` with `settings`. */
  rollTo(release: string, settings: Record<string, string>): ClusterMember[] {
    const dataDirs = new Map(etcdKind.instances(this.ctx).map((d) => [d.ordinal, d.volumePath]));
    return this.specs(release, settings).map((newSpec) => {
      const ordinal = newSpec.id.split('-').pop()!;
      const now = this.current.get(ordinal)!;
      return { ordinal, old: now.handle, oldSpec: now.spec, newSpec, volumePath: dataDirs.get(ordinal) };
    });
  }

  async waitHealthy(timeoutMs: number): Promise<ClusterStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.cluster.status();
      if (s.healthy) return s;
      if (Date.now() > deadline) throw new EtcdRequestError(Object.values(memberEndpoints(this.ctx)).join(','), `cluster not healthy after ${timeoutMs} ms: ${s.reason}`);
      await sleep(100);
    }
  }

  /** Stop every instance of this cluster the driver can see. */
  async destroy(): Promise<void> {
    const mine = (await this.driver.list()).filter((o) => o.service === this.ctx.service);
    await Promise.all(mine.map((o) => this.driver.stop(o, { graceMs: 3_000 })));
  }
}
