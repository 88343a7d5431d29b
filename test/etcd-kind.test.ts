import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdKind } from '../src/kinds/etcd/index.js';
import { LocalEtcd } from '../src/kinds/etcd/local-cluster.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import { run } from '../src/util/exec.js';

const etcdctl = (endpoints: string, ...args: string[]) =>
  run('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 15_000 });

describe('etcd kind on a real 3-member cluster', () => {
  let root: string;
  let local: LocalEtcd;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sym-etcd-kind-'));
    local = await LocalEtcd.create({ driver: new ProcessDriver({ scope: join(root, 'state') }), root });
  });

  afterAll(async () => {
    await local?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('bootstraps from the drafts: every member healthy, one leader they all agree on', async () => {
    const s = await local.cluster.status();
    expect(s.healthy).toBe(true);
    expect(s.healthyCount).toBe(3);
    expect(s.members.filter((m) => m.isLeader)).toHaveLength(1);
    expect(new Set(s.members.map((m) => m.memberId)).size).toBe(3);
    expect(new Set(s.members.map((m) => m.leaderId))).toEqual(new Set([s.members.find((m) => m.isLeader)!.memberId]));
    for (const d of etcdKind.instances(local.ctx)) {
      expect(existsSync(join(d.volumePath!, 'member'))).toBe(true);
      expect(await etcdKind.probe!(local.ctx, d, {})).toEqual({ ok: true, detail: 'healthy' });
    }
  });

  it('serves etcdctl through the endpoints attribute', async () => {
    const { endpoints } = etcdKind.attributes(local.ctx);
    expect((await etcdctl(endpoints, 'put', 'greeting', 'hello')).code).toBe(0);
    const got = await etcdctl(endpoints, 'get', 'greeting', '--print-value-only');
    expect(got.stdout.trim()).toBe('hello');
    const health = await etcdctl(endpoints, 'endpoint', 'health');
    expect(health.code).toBe(0);
    expect(health.stdout.match(/is healthy/g) ?? health.stderr.match(/is healthy/g)).toHaveLength(3);
  });

  it('a member restarted with the same command line rejoins as the same member (initial-cluster-state new is ignored)', async () => {
    const before = await local.cluster.status();
    const follower = before.members.find((m) => !m.isLeader)!;
    const draft = etcdKind.instances(local.ctx).find((d) => d.ordinal === follower.ordinal)!;
    const inode = statSync(draft.volumePath!).ino;
    const now = local.current.get(follower.ordinal)!;
    await local.driver.stop(now.handle, { graceMs: 5_000 });

    const down = await local.cluster.status();
    expect(down.healthy).toBe(false);
    expect(down.healthyCount).toBe(2);
    expect(down.reason).toContain(`member ${follower.ordinal} unreachable`);
    expect((await etcdKind.probe!(local.ctx, draft, {})).ok).toBe(false);
    expect((await etcdctl(etcdKind.attributes(local.ctx).endpoints, 'put', 'while-down', 'yes')).code).toBe(0);

    const handle = await local.driver.start(now.spec);
    local.current.set(follower.ordinal, { spec: now.spec, handle });
    const after = await local.waitHealthy(20_000);
    expect(after.members.find((m) => m.ordinal === follower.ordinal)!.memberId).toBe(follower.memberId);
    expect(statSync(draft.volumePath!).ino).toBe(inode);
    let caught = false;
    for (let i = 0; i < 50 && !caught; i++) caught = await local.cluster.caughtUp(follower.ordinal);
    expect(caught).toBe(true);
    const url = `http://127.0.0.1:${draft.port}`;
    const got = await etcdctl(url, 'get', 'while-down', '--print-value-only', '--consistency=s');
    expect(got.stdout.trim()).toBe('yes');
  });

  it('hands leadership to a chosen member', async () => {
    const before = await local.cluster.status();
    const target = before.members.find((m) => !m.isLeader)!.ordinal;
    await local.cluster.moveLeader(target);
    const after = await local.cluster.status();
    expect(after.healthy).toBe(true);
    expect(after.leader).toBe(target);
    await local.cluster.moveLeader(target);
    expect((await local.cluster.status()).leader).toBe(target);
  });

  it('streams a snapshot that etcdctl can read and restore', async () => {
    const file = join(root, 'backups', 'kv.db');
    await local.cluster.snapshot(file);
    const status = await run('etcdctl', ['snapshot', 'status', file, '--write-out=json'], { env: { ...process.env, ETCDCTL_API: '3' } });
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { revision: number; totalKey: number };
    expect(parsed.revision).toBeGreaterThanOrEqual(2);
    expect(parsed.totalKey).toBeGreaterThanOrEqual(2);
    const restored = await run('etcdctl', ['snapshot', 'restore', file, `--data-dir=${join(root, 'restored')}`], { env: { ...process.env, ETCDCTL_API: '3' } });
    expect(restored.stderr).not.toMatch(/hash mismatch/);
    expect(restored.code).toBe(0);
    expect(existsSync(join(root, 'restored', 'member', 'snap', 'db'))).toBe(true);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it('says which member is unknown', async () => {
    await expect(local.cluster.caughtUp('m9')).rejects.toThrow(/no member m9 \(members: m0, m1, m2\)/);
  });
});
