import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdKind, memberEndpoints } from '../src/kinds/etcd/index.js';
import { etcdCall, probeMember } from '../src/kinds/etcd/gateway.js';
import { LocalEtcd } from '../src/kinds/etcd/local-cluster.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import { ClusterUnhealthyError, MemberReplaceError, MemberVolumeMissingError, rollCluster } from '../src/strategies/cluster-rolling/index.js';
import type { ClusterMember, RollEvent } from '../src/strategies/cluster-rolling/index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

/** Puts keys continuously, retrying each on the next member; records every acknowledged write. */
function startWriter(urls: string[]) {
  const acked = new Map<string, string>();
  let failedAttempts = 0;
  let lostWrites = 0;
  let stop = false;
  const done = (async () => {
    for (let i = 0, u = 0; !stop; i++) {
      const key = `w/${String(i).padStart(6, '0')}`;
      const value = `v${i}`;
      let ok = false;
      for (let attempt = 0; attempt < 20 && !ok; attempt++) {
        try {
          await etcdCall(`${urls[u++ % urls.length]}/v3/kv/put`, { key: b64(key), value: b64(value) }, 2_000);
          ok = true;
        } catch {
          failedAttempts++;
          await sleep(50);
        }
      }
      if (ok) acked.set(key, value);
      else lostWrites++;
    }
  })();
  return { acked, stats: () => ({ failedAttempts, lostWrites }), stop: async () => ((stop = true), await done) };
}

/**
 * Samples every member's /health every 100 ms; records the count of healthy members.
 * A probe may take 2 s: on a loaded 2-core machine a slow answer is not a lost quorum.
 */
function startPoller(urls: string[]) {
  const samples: number[] = [];
  const bad: string[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const results = await Promise.all(urls.map((u) => probeMember(u, 2_000)));
      samples.push(results.filter((r) => r.ok).length);
      if (results.filter((r) => r.ok).length < 2) bad.push(`${new Date().toISOString()} ${results.map((r) => r.detail).join(' | ')}`);
      await sleep(100);
    }
  })();
  return { samples, bad, stop: async () => ((stop = true), await done) };
}

/** Raft timings for a machine shared with other tests (etcd's advice for slow hosts): starved heartbeats must not cause elections. */
const BASE = { 'heartbeat-interval': '200', 'election-timeout': '2000', 'snapshot-count': '10000' };

describe('cluster-rolling on a real 3-member etcd', () => {
  let root: string;
  let local: LocalEtcd;
  let driver: ProcessDriver;
  let urls: string[];
  const roll = (members: ClusterMember[], extra: Partial<Parameters<typeof rollCluster>[0]> = {}) =>
    rollCluster({ members, driver, probe: local.cluster, graceMs: 5_000, memberTimeoutMs: 20_000, ...extra });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sym-cluster-roll-'));
    driver = new ProcessDriver({ scope: join(root, 'state') });
    local = await LocalEtcd.create({ driver, root, settings: BASE });
    urls = Object.values(memberEndpoints(local.ctx));
  });

  afterAll(async () => {
    await local?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses to start when a member is down, says which, and touches nothing', async () => {
    const victim = local.current.get('m2')!;
    await driver.stop(victim.handle, { graceMs: 5_000 });
    const pids = [...local.current.values()].map((c) => c.handle.pid);
    const err = await roll(local.rollTo('r2', { ...BASE, 'snapshot-count': '5000' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterUnhealthyError);
    expect((err as Error).message).toMatch(/refusing to roll kv: the cluster is not healthy at start \(member m2 unreachable/);
    expect(driver.isAlive(local.current.get('m0')!.handle) && driver.isAlive(local.current.get('m1')!.handle)).toBe(true);
    expect([...local.current.values()].map((c) => c.handle.pid)).toEqual(pids);
    local.current.set('m2', { spec: victim.spec, handle: await driver.start(victim.spec) });
    await local.waitHealthy(20_000);
  });

  it('refuses a member whose data directory is missing, before stopping anything', async () => {
    const members = local.rollTo('r2', { ...BASE, 'snapshot-count': '5000' });
    members[1] = { ...members[1], volumePath: join(root, 'volume', 'member-gone') };
    const err = await roll(members).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberVolumeMissingError);
    expect((err as Error).message).toContain(`member m1: its data directory ${join(root, 'volume', 'member-gone')} does not exist`);
    for (const c of local.current.values()) expect(driver.isAlive(c.handle)).toBe(true);
  });

  it('a new version that cannot start stops at the first member, puts it back, and says what happened', async () => {
    const before = await local.cluster.status();
    const firstFollower = before.members.find((m) => !m.isLeader)!.ordinal;
    const others = [...local.current.entries()].filter(([o]) => o !== firstFollower).map(([, c]) => c.handle);
    const err = await roll(local.rollTo('r-bad', { ...BASE, 'no-such-flag': '1' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemberReplaceError);
    const f = (err as MemberReplaceError).failure;
    expect(f.ordinal).toBe(firstFollower);
    expect(f.restored).toBe(true);
    expect(f.replaced).toEqual([]);
    expect((err as Error).message).toMatch(new RegExp(`member ${firstFollower} did not rejoin on the new version: its process exited`));
    expect((err as MemberReplaceError).hint).toContain(f.logFile);
    expect(readFileSync(f.logFile, 'utf8')).toContain('no-such-flag');
    for (const h of others) expect(driver.isAlive(h)).toBe(true);
    expect(driver.isAlive(f.restoredHandle!)).toBe(true);
    local.current.set(firstFollower, { spec: local.current.get(firstFollower)!.spec, handle: f.restoredHandle! });
    const after = await local.cluster.status();
    expect(after.healthy).toBe(true);
    expect(after.members.map((m) => m.memberId)).toEqual(before.members.map((m) => m.memberId));
  });

  it('replaces every member under a write load: no acknowledged write lost, quorum kept, same volumes, leader last', async () => {
    const dataDirs = etcdKind.instances(local.ctx).map((d) => d.volumePath!);
    const inodes = dataDirs.map((d) => statSync(d).ino);
    const start = await local.cluster.status();
    const writer = startWriter(urls);
    const poller = startPoller(urls);
    const events: RollEvent[] = [];
    while (writer.acked.size < 20) await sleep(20);
    const snapshotPath = join(root, 'backups', 'pre-r2.db');
    const r2 = { ...BASE, 'snapshot-count': '5000', 'heartbeat-interval': '250' };
    let result: Awaited<ReturnType<typeof rollCluster>>;
    try {
      result = await roll(local.rollTo('r2', r2), { snapshotPath, onEvent: (e) => events.push(e) });
      await sleep(300);
    } finally {
      await poller.stop();
      await writer.stop();
    }
    for (const r of result.replaced) local.current.set(r.ordinal, { spec: local.rollTo('r2', r2).find((m) => m.ordinal === r.ordinal)!.newSpec, handle: r.handle });

    expect(result.paused).toBe(false);
    const replacedOrder = events.filter((e) => e.type === 'replaced').map((e) => (e as { ordinal: string }).ordinal);
    expect(replacedOrder).toHaveLength(3);
    expect(replacedOrder[2]).toBe(start.leader);
    expect(events.slice(-5).map((e) => `${e.type} ${'ordinal' in e ? e.ordinal : 'from' in e ? e.from : ''}`)).toEqual(
      ['move-leader', 'stop', 'start', 'rejoined', 'replaced'].map((t) => `${t} ${start.leader}`),
    );
    const moveIdx = events.findIndex((e) => e.type === 'move-leader');
    const leaderStopIdx = events.findIndex((e) => e.type === 'stop' && e.ordinal === start.leader);
    expect(moveIdx).toBeGreaterThan(-1);
    expect(moveIdx).toBeLessThan(leaderStopIdx);
    expect(events[0]).toMatchObject({ type: 'snapshot', path: snapshotPath });
    expect(existsSync(snapshotPath)).toBe(true);

    for (const r of result.replaced) {
      expect(r.handle.id).toBe(`kv-r2-${r.ordinal}`);
      expect(readFileSync(`/proc/${r.handle.pid}/cmdline`, 'utf8').split('\0')).toContain('--heartbeat-interval=250');
    }
    const end = await local.cluster.status();
    expect(end.healthy).toBe(true);
    expect(end.members.map((m) => m.memberId)).toEqual(start.members.map((m) => m.memberId));
    expect(dataDirs.map((d) => statSync(d).ino)).toEqual(inodes);

    // The poller ran through the roll: a sample before it and at least one per member
    // replaced (how many more depends on the machine's speed, not on the product).
    expect(poller.samples.length).toBeGreaterThanOrEqual(1 + result.replaced.length);
    expect(poller.bad, JSON.stringify(events)).toEqual([]);
    expect(Math.min(...poller.samples)).toBeGreaterThanOrEqual(2);
    expect(writer.stats().lostWrites).toBe(0);
    expect(writer.acked.size).toBeGreaterThan(10);
    const range = await etcdCall<{ kvs?: Array<{ key: string; value: string }> }>(`${urls[0]}/v3/kv/range`, { key: b64('w/'), range_end: b64('w0') }, 5_000);
    const stored = new Map((range.kvs ?? []).map((kv) => [unb64(kv.key), unb64(kv.value)]));
    const missing = [...writer.acked].filter(([k, v]) => stored.get(k) !== v);
    expect(missing).toEqual([]);
  });

  it('pauses after N members and resumes with the rest', async () => {
    const settings = { ...BASE, 'snapshot-count': '4000' };
    const first = await roll(local.rollTo('r3', settings), { pauseAfter: 1 });
    expect(first.paused).toBe(true);
    expect(first.replaced).toHaveLength(1);
    const specs = new Map(local.rollTo('r3', settings).map((m) => [m.ordinal, m.newSpec]));
    for (const r of first.replaced) local.current.set(r.ordinal, { spec: specs.get(r.ordinal)!, handle: r.handle });
    const rest = local.rollTo('r3', settings).filter((m) => !first.replaced.some((r) => r.ordinal === m.ordinal));
    expect(rest).toHaveLength(2);
    const second = await roll(rest);
    expect(second.paused).toBe(false);
    expect(second.replaced.map((r) => r.ordinal).sort()).toEqual(rest.map((m) => m.ordinal).sort());
    for (const r of second.replaced) local.current.set(r.ordinal, { spec: specs.get(r.ordinal)!, handle: r.handle });
    expect((await local.cluster.status()).healthy).toBe(true);
    const running = (await driver.list()).map((o) => o.id).sort();
    expect(running).toEqual(['kv-r3-m0', 'kv-r3-m1', 'kv-r3-m2']);
  });
});
