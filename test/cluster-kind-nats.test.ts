import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKind, genericCluster } from '../src/kinds/cluster/index.js';
import type { KindContext } from '../src/kinds/types.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import type { InstanceSpec } from '../src/runtime/types.js';
import { rollCluster, type ClusterMember, type ClusterStatus, type RollEvent } from '../src/strategies/cluster-rolling/index.js';
import { memberSpecs, waitClusterHealthy, startTestCluster, stopTestCluster, type CurrentMembers, type TestCluster } from './fixtures/cluster-members.js';

/** A leaderless cluster: three NATS servers (JetStream off) routed to each other; the system one on 4222 is not touched. */
const natsCommand = (extra = ''): string =>
  'nats-server -a 127.0.0.1 -p {client_port} -m {monitor_port} --cluster nats://127.0.0.1:{peer_port} --routes {peer_urls} --cluster_name cache -n {name}' + extra;

const natsCluster = (command: string) => ({
  members: 3,
  scheme: 'nats',
  ports: ['client', 'peer', 'monitor'],
  command,
  health: { http: 'http://127.0.0.1:{monitor_port}/healthz' },
  cluster_health: { exec: `for p in $(echo {monitor_ports} | tr , ' '); do curl -sf http://127.0.0.1:$p/routez | grep -q '"num_routes": 2,' || exit 1; done` },
});

describe('cluster kind on a real leaderless NATS cluster', () => {
  let root: string;
  let driver: ProcessDriver;
  let ctx: KindContext;
  let current: CurrentMembers;
  let started: TestCluster | undefined;

  const specs = (c: KindContext, release: string): InstanceSpec[] => memberSpecs(c, release, root);
  const waitHealthy = (timeoutMs = 20_000): Promise<ClusterStatus> => waitClusterHealthy(ctx, timeoutMs);

  beforeAll(async () => {
    started = await startTestCluster('cache', natsCluster(natsCommand()));
    ({ root, driver, ctx, current } = started);
  });

  afterAll(async () => {
    await stopTestCluster(started);
  });

  it('bootstraps routed: every member healthy, and without a leader check the last member stands in as leader', async () => {
    const s = await waitHealthy();
    expect(s.reason).toBe('');
    expect(s.healthy).toBe(true);
    expect(s.leader).toBe('m2');
    expect(s.members.every((m) => m.healthy && m.leaderId === 'm2')).toBe(true);
    expect(clusterKind.attributes(ctx).endpoints).toBe([0, 1, 2].map((i) => `nats://127.0.0.1:${ctx.ports[`client-${i}`]}`).join(','));
  });

  it('a stopped member fails the whole-cluster check of its peers too', async () => {
    const m0 = current.get('m0')!;
    await driver.stop(m0.handle, { graceMs: 5_000 });
    const s = await genericCluster(ctx).status();
    expect(s.healthy).toBe(false);
    expect(s.reason).toMatch(/^member m0 unreachable \(GET http:\/\/127\.0\.0\.1:\d+\/healthz: connection refused \(ECONNREFUSED\)\); cluster check failed: exec "for p in/);
    current.set('m0', { spec: m0.spec, handle: await driver.start(m0.spec) });
    expect((await waitHealthy()).healthy).toBe(true);
  });

  it('rolls a changed setting in ordinal order, each member on its own data dir and ports', async () => {
    const c2 = { ...ctx, spec: { ...ctx.spec, cluster: natsCluster(natsCommand(' --connect_retries 5')) } };
    const dirs = clusterKind.instances(ctx).map((d) => d.volumePath!);
    const inodes = dirs.map((d) => statSync(d).ino);
    const members: ClusterMember[] = specs(c2, 'r2').map((newSpec, i) => {
      const ordinal = `m${i}`;
      return { ordinal, old: current.get(ordinal)!.handle, oldSpec: current.get(ordinal)!.spec, newSpec, volumePath: dirs[i] };
    });
    const events: RollEvent[] = [];
    const result = await rollCluster({ members, driver, probe: genericCluster(c2), graceMs: 5_000, memberTimeoutMs: 20_000, onEvent: (e) => events.push(e) });
    expect(result.paused).toBe(false);
    expect(events.filter((e) => e.type === 'replaced').map((e) => (e as { ordinal: string }).ordinal)).toEqual(['m0', 'm1', 'm2']);
    expect(dirs.map((d) => statSync(d).ino)).toEqual(inodes);
    for (const r of result.replaced) {
      expect(readFileSync(`/proc/${r.handle.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--connect_retries', '5', '-p', String(ctx.ports[`client-${r.ordinal.slice(1)}`])]));
      current.set(r.ordinal, { spec: members.find((m) => m.ordinal === r.ordinal)!.newSpec, handle: r.handle });
    }
    expect((await genericCluster(c2).status()).healthy).toBe(true);
  });
});
