import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterActionError } from '../src/kinds/cluster/actions.js';
import { clusterKind, genericCluster } from '../src/kinds/cluster/index.js';
import type { KindContext } from '../src/kinds/types.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import type { InstanceSpec } from '../src/runtime/types.js';
import { rollCluster, type ClusterMember, type ClusterStatus, type RollEvent } from '../src/strategies/cluster-rolling/index.js';
import { memberSpecs, rollMembers, waitClusterHealthy, startTestCluster, stopTestCluster, type CurrentMembers, type TestCluster } from './fixtures/cluster-members.js';
import { ROOT } from './helpers/cli.js';

// The generic cluster kind with the stack file's own `handover` and
// `snapshot` commands, on a real 3-member etcd run as a generic cluster: the
// roll writes the snapshot first, replaces the followers, hands leadership
// over, then replaces the old leader as a follower. A snapshot command that
// writes nothing stops the roll before any member goes down.
const FIX = join(ROOT, 'test/fixtures/etcd-generic');
const etcdCommand = (heartbeat: number): string =>
  'etcd --name {name} --data-dir {data_dir} --listen-client-urls http://127.0.0.1:{client_port} --advertise-client-urls http://127.0.0.1:{client_port}' +
  ' --listen-peer-urls http://127.0.0.1:{peer_port} --initial-advertise-peer-urls http://127.0.0.1:{peer_port}' +
  ' --initial-cluster kv-0=http://127.0.0.1:{peer_port_0},kv-1=http://127.0.0.1:{peer_port_1},kv-2=http://127.0.0.1:{peer_port_2}' +
  ` --initial-cluster-state new --initial-cluster-token generic-kv --heartbeat-interval ${heartbeat} --election-timeout 1000`;

const section = (command: string, snapshot = `ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:{client_port_0} snapshot save {snapshot_path}`) => ({
  members: 3,
  ports: ['client', 'peer'],
  command,
  health: { http: 'http://127.0.0.1:{client_port}/health' },
  leader: { exec: `node ${FIX}/leader.mjs {client_port}`, timeout: '8s' },
  handover: { exec: `node ${FIX}/move.mjs {client_port} {leader_client_port}`, timeout: '10s' },
  snapshot: { exec: snapshot, timeout: '10s' },
});

const kv = async (port: number, path: string, body: Record<string, string>): Promise<Record<string, unknown>> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.ok).toBe(true);
  return (await res.json()) as Record<string, unknown>;
};
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('generic cluster kind: handover and snapshot commands on a real etcd', () => {
  let root: string;
  let driver: ProcessDriver;
  let ctx: KindContext;
  let current: CurrentMembers;
  let started: TestCluster | undefined;

  const withSection = (s: ReturnType<typeof section>): KindContext => ({ ...ctx, spec: { ...ctx.spec, cluster: s } });
  const specs = (c: KindContext, release: string): InstanceSpec[] => memberSpecs(c, release, root);
  const rollTo = (release: string, s: ReturnType<typeof section>): ClusterMember[] => rollMembers(withSection(s), release, current, root);
  const port = (ordinal: string): number => ctx.ports[`client-${ordinal.slice(1)}`];
  const waitHealthy = (c: KindContext): Promise<ClusterStatus> => waitClusterHealthy(c, 30_000);

  beforeAll(async () => {
    started = await startTestCluster('kv', section(etcdCommand(100)));
    ({ root, driver, ctx, current } = started);
    const s = await waitHealthy(ctx);
    expect(s.healthy, s.reason).toBe(true);
  });

  afterAll(async () => {
    await stopTestCluster(started);
  });

  it('a snapshot command that writes nothing stops the roll before any member goes down', async () => {
    const path = join(root, 'volume', 'pre-bad.snapshot.db');
    const bad = section(etcdCommand(150), 'true {snapshot_path}');
    const err = await rollCluster({ members: rollTo('r-bad', bad), driver, probe: genericCluster(withSection(bad)), graceMs: 5_000, memberTimeoutMs: 20_000, snapshotPath: path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterActionError);
    expect((err as Error).message).toBe(`kv: the snapshot command exited 0 but wrote no file at ${path}`);
    for (const { handle } of current.values()) expect(driver.isAlive(handle)).toBe(true);
    expect((await driver.list()).filter((o) => o.service === 'kv').map((o) => o.id).sort()).toEqual(['kv-r1-m0', 'kv-r1-m1', 'kv-r1-m2']);
  });

  it('rolls with a snapshot first and a handover before the old leader is replaced; keys and volumes kept', async () => {
    for (let i = 0; i < 50; i++) await kv(port('m0'), '/v3/kv/put', { key: b64(`k${i}`), value: b64(`v${i}`) });
    const before = await genericCluster(ctx).status();
    const oldLeader = before.leader!;
    const dirs = clusterKind.instances(ctx).map((d) => d.volumePath!);
    const inodes = dirs.map((d) => statSync(d).ino);
    const snapshotPath = join(root, 'volume', 'pre-r2.snapshot.db');
    const next = section(etcdCommand(150));
    const events: RollEvent[] = [];
    const result = await rollCluster({ members: rollTo('r2', next), driver, probe: genericCluster(withSection(next)), graceMs: 5_000, memberTimeoutMs: 30_000, snapshotPath, onEvent: (e) => events.push(e) });
    for (const r of result.replaced) current.set(r.ordinal, { spec: specs(withSection(next), 'r2').find((s) => s.id.endsWith(r.ordinal))!, handle: r.handle });

    expect(events[0]).toMatchObject({ type: 'snapshot', path: snapshotPath });
    expect(existsSync(snapshotPath)).toBe(true);
    expect(statSync(snapshotPath).size).toBeGreaterThan(0);
    const moves = events.filter((e) => e.type === 'move-leader') as Array<{ from: string; to: string }>;
    expect(moves).toHaveLength(1);
    expect(moves[0].from).toBe(oldLeader);
    const order = events.filter((e) => e.type === 'replaced').map((e) => (e as { ordinal: string }).ordinal);
    expect(order).toHaveLength(3);
    expect(order[2]).toBe(oldLeader);
    // The handover happened before the old leader was stopped, and after both followers were replaced.
    const at = (type: string, ordinal?: string): number => events.findIndex((e) => e.type === type && (ordinal === undefined || (e as { ordinal?: string }).ordinal === ordinal));
    expect(at('move-leader')).toBeLessThan(at('stop', oldLeader));
    expect(at('move-leader')).toBeGreaterThan(at('replaced', order[1]));

    const end = await waitHealthy(withSection(next));
    expect(end.healthy, end.reason).toBe(true);
    expect(dirs.map((d) => statSync(d).ino)).toEqual(inodes);
    for (const o of ['m0', 'm1', 'm2']) {
      const got = await kv(port(o), '/v3/kv/range', { key: b64('k'), range_end: b64('l') });
      expect(Number(got.count), o).toBe(50);
      expect(readFileSync(`/proc/${current.get(o)!.handle.pid}/cmdline`, 'utf8').replace(/\0/g, ' ')).toContain('--heartbeat-interval 150');
    }
    expect((await driver.list()).filter((o) => o.service === 'kv').map((o) => o.id).sort()).toEqual(['kv-r2-m0', 'kv-r2-m1', 'kv-r2-m2']);
  });
});
