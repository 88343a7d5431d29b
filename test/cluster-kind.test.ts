import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKind, genericCluster } from '../src/kinds/cluster/index.js';
import type { KindContext } from '../src/kinds/types.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import type { InstanceSpec } from '../src/runtime/types.js';
import { ClusterUnhealthyError, MemberReplaceError, rollCluster, type ClusterMember, type ClusterStatus, type RollEvent } from '../src/strategies/cluster-rolling/index.js';
import { run } from '../src/util/exec.js';
import { memberSpecs, rollMembers, waitClusterHealthy, startTestCluster, stopTestCluster, type CurrentMembers, type TestCluster } from './fixtures/cluster-members.js';

/** Redis with replicas: member 0 is the primary, the others replicate it; data in AOF files under {data_dir}. */
const redisCommand = (hz: number, extra = ''): string =>
  `redis-server --bind 127.0.0.1 --port {client_port} --dir {data_dir} --appendonly yes --save '' --hz ${hz} --repl-diskless-sync-delay 0${extra}` +
  ' $( [ {index} -eq 0 ] || echo --replicaof 127.0.0.1 {client_port_0} )';

const info = "redis-cli -p {client_port} info replication | tr -d '\\r'";

const redisCluster = (command: string) => ({
  members: 3,
  scheme: 'redis',
  ports: ['client'],
  command,
  health: { exec: 'redis-cli -p {client_port} ping | grep -qx PONG' },
  cluster_health: { exec: 'redis-cli -p {client_port_0} info replication | grep -c state=online | grep -qx 2' },
  leader: { exec: `${info} | awk -F: '$1 == "role" && $2 == "master" { print "{index}" } $1 == "master_port" { print $2 }'` },
  caught_up: { exec: `${info} | grep -Eqx 'role:master|master_link_status:up'` },
});

const cli = (port: number, ...args: string[]) => run('redis-cli', ['-p', String(port), ...args], { timeoutMs: 10_000 });

describe('cluster kind on a real Redis primary with two replicas', () => {
  let root: string;
  let driver: ProcessDriver;
  let ctx: KindContext;
  let current: CurrentMembers;
  let started: TestCluster | undefined;

  const withCommand = (command: string): KindContext => ({ ...ctx, spec: { ...ctx.spec, cluster: redisCluster(command) } });
  const specs = (c: KindContext, release: string): InstanceSpec[] => memberSpecs(c, release, root);
  const rollTo = (release: string, command: string): ClusterMember[] => rollMembers(withCommand(command), release, current, root);
  const port = (ordinal: string): number => ctx.ports[`client-${ordinal.slice(1)}`];
  const waitHealthy = (timeoutMs = 20_000): Promise<ClusterStatus> => waitClusterHealthy(ctx, timeoutMs);

  beforeAll(async () => {
    started = await startTestCluster('cache', redisCluster(redisCommand(10)));
    ({ root, driver, ctx, current } = started);
  });

  afterAll(async () => {
    await stopTestCluster(started);
  });

  it('bootstraps through the ProcessDriver: every member healthy, the primary is the leader all members name', async () => {
    const s = await waitHealthy();
    expect(s.reason).toBe('');
    expect(s.healthy).toBe(true);
    expect(s.leader).toBe('m0');
    expect(s.members.map((m) => [m.ordinal, m.healthy, m.leaderId])).toEqual([
      ['m0', true, 'm0'],
      ['m1', true, 'm0'],
      ['m2', true, 'm0'],
    ]);
    for (const d of clusterKind.instances(ctx)) {
      expect(statSync(join(d.volumePath!, 'appendonlydir')).isDirectory()).toBe(true);
      expect((await clusterKind.probe!(ctx, d, {})).ok).toBe(true);
    }
    expect(clusterKind.attributes(ctx).endpoints).toBe(['m0', 'm1', 'm2'].map((o) => `redis://127.0.0.1:${port(o)}`).join(','));
    expect((await cli(port('m0'), 'set', 'before-roll', 'kept')).stdout.trim()).toBe('OK');
    let caught = false;
    for (let i = 0; i < 100 && !caught; i++) caught = (await genericCluster(ctx).caughtUp('m2')) || (await sleep(100), false);
    expect(caught).toBe(true);
  });

  it('says which member is down and refuses to roll without touching anything', async () => {
    const m2 = current.get('m2')!;
    await driver.stop(m2.handle, { graceMs: 5_000 });
    const s = await genericCluster(ctx).status();
    expect(s.healthy).toBe(false);
    expect(s.reason).toMatch(/^member m2 unreachable \(exec .*exit code 1.*\); cluster check failed: exec/);
    const err = await rollCluster({ members: rollTo('r2', redisCommand(20)), driver, probe: genericCluster(ctx), graceMs: 5_000, memberTimeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterUnhealthyError);
    expect((err as Error).message).toContain('refusing to roll cache: the cluster is not healthy at start (member m2 unreachable');
    expect(driver.isAlive(current.get('m0')!.handle) && driver.isAlive(current.get('m1')!.handle)).toBe(true);
    current.set('m2', { spec: m2.spec, handle: await driver.start(m2.spec) });
    expect((await waitHealthy()).healthy).toBe(true);
  });

  it('a command that cannot start fails at the first member, which is put back on its old command', async () => {
    const others = ['m0', 'm2'].map((o) => current.get(o)!.handle);
    const err = await rollCluster({ members: rollTo('r-bad', redisCommand(20, ' --no-such-directive 1')), driver, probe: genericCluster(ctx), graceMs: 5_000, memberTimeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberReplaceError);
    const f = (err as MemberReplaceError).failure;
    expect(f).toMatchObject({ ordinal: 'm1', restored: true, replaced: [] });
    expect((err as Error).message).toMatch(/^member m1 did not rejoin on the new version: its process exited/);
    expect(readFileSync(f.logFile, 'utf8')).toContain('no-such-directive');
    for (const h of others) expect(driver.isAlive(h)).toBe(true);
    current.set('m1', { spec: current.get('m1')!.spec, handle: f.restoredHandle! });
    expect((await genericCluster(ctx).status()).healthy).toBe(true);
    expect((await cli(port('m1'), 'config', 'get', 'hz')).stdout.split('\n')[1]).toBe('10');
  });

  it('rolls a changed setting: every member replaced on its own data dir, followers first, the primary last', async () => {
    const dirs = clusterKind.instances(ctx).map((d) => d.volumePath!);
    const inodes = dirs.map((d) => statSync(d).ino);
    const load = await run('redis-cli', ['-p', String(port('m0'))], { input: Array.from({ length: 200 }, (_, i) => `SET k${i} v${i}\n`).join(''), timeoutMs: 10_000 });
    expect(load.stdout.match(/^OK$/gm)).toHaveLength(200);
    const events: RollEvent[] = [];
    const result = await rollCluster({ members: rollTo('r2', redisCommand(20)), driver, probe: genericCluster(ctx), graceMs: 5_000, memberTimeoutMs: 30_000, onEvent: (e) => events.push(e) });
    const next = new Map(rollTo('r2', redisCommand(20)).map((m) => [m.ordinal, m.newSpec]));
    for (const r of result.replaced) current.set(r.ordinal, { spec: next.get(r.ordinal)!, handle: r.handle });

    expect(result.paused).toBe(false);
    expect(events.filter((e) => e.type === 'replaced').map((e) => (e as { ordinal: string }).ordinal)).toEqual(['m1', 'm2', 'm0']);
    expect(events.some((e) => e.type === 'move-leader' || e.type === 'snapshot' || e.type === 'restore')).toBe(false);
    expect(dirs.map((d) => statSync(d).ino)).toEqual(inodes);
    const end = await genericCluster(ctx).status();
    expect(end.healthy).toBe(true);
    expect(end.leader).toBe('m0');
    for (const o of ['m0', 'm1', 'm2']) {
      expect(current.get(o)!.handle.id).toBe(`cache-r2-${o}`);
      expect((await cli(port(o), 'config', 'get', 'hz')).stdout.split('\n')[1]).toBe('20');
      expect((await cli(port(o), 'get', 'before-roll')).stdout.trim()).toBe('kept');
      expect((await cli(port(o), 'get', 'k199')).stdout.trim()).toBe('v199');
      expect(Number((await cli(port(o), 'dbsize')).stdout.trim())).toBe(201);
    }
    expect((await driver.list()).filter((o) => o.service === 'cache').map((o) => o.id).sort()).toEqual(['cache-r2-m0', 'cache-r2-m1', 'cache-r2-m2']);
  });
});
