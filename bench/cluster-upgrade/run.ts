import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { memberEndpoints } from '../../src/kinds/etcd/index.js';
import { LocalEtcd } from '../../src/kinds/etcd/local-cluster.js';
import { ProcessDriver } from '../../src/runtime/process/index.js';
import { rollCluster } from '../../src/strategies/cluster-rolling/index.js';
import { machineInfo, note } from '../lib/report.js';
import { latenciesBetween, startWriteLoad, type WriteLoad } from './load.js';
import { report, type Round } from './report.js';

/**
 * Cluster-upgrade bench (issue 5): a 3-member etcd under a steady write load.
 * Each round, on a fresh cluster, runs side by side (order alternating):
 *  - roll: rollCluster to a new release (snapshot, followers, move-leader, leader);
 *  - floor: the same replacement done by hand, each member stopped, started and
 *    polled every 20 ms until it has caught up, nothing else: the physical floor.
 * Reports durations, their ratio, client write errors after retry, and write
 * p99 before vs during each pass.
 * Run: node --import tsx bench/cluster-upgrade/run.ts   Knobs: CLUSTER_BENCH_ROUNDS (3).
 */
export const COMMAND = 'node --import tsx bench/cluster-upgrade/run.ts';
const ROUNDS = Number(process.env.CLUSTER_BENCH_ROUNDS ?? 3);
const BEFORE_MS = 3_000;
const GRACE_MS = 5_000;

type Pass = { ms: number; overheadMs?: Record<string, number>; members: Record<string, number>; from: number; to: number; errors: number; retries: number };

async function floorPass(local: LocalEtcd, release: string, settings: Record<string, string>, load: WriteLoad): Promise<Pass> {
  const from = performance.now();
  const [errors0, retries0] = [load.errors(), load.retries()];
  const members: Record<string, number> = {};
  const leader = (await local.cluster.status()).leader;
  const order = local.rollTo(release, settings).sort((a, b) => Number(a.ordinal === leader) - Number(b.ordinal === leader));
  for (const m of order) {
    const t0 = performance.now();
    await local.driver.stop(m.old, { graceMs: GRACE_MS });
    const handle = await local.driver.start(m.newSpec);
    while (!(await local.cluster.caughtUp(m.ordinal))) {
      if (performance.now() - t0 > 60_000) throw new Error(`floor pass: member ${m.ordinal} did not catch up within 60 s`);
      await sleep(20);
    }
    members[m.ordinal] = performance.now() - t0;
    local.current.set(m.ordinal, { spec: m.newSpec, handle });
  }
  const to = performance.now();
  await local.waitHealthy(30_000);
  return { ms: Object.values(members).reduce((a, b) => a + b, 0), members, from, to, errors: load.errors() - errors0, retries: load.retries() - retries0 };
}

async function rollPass(local: LocalEtcd, root: string, release: string, settings: Record<string, string>, load: WriteLoad): Promise<Pass> {
  const [errors0, retries0] = [load.errors(), load.retries()];
  const members = local.rollTo(release, settings);
  const stops = new Map<string, number>();
  const took: Record<string, number> = {};
  const overheadMs: Record<string, number> = {};
  const from = performance.now();
  let last = from;
  const res = await rollCluster({
    members,
    driver: local.driver,
    probe: local.cluster,
    graceMs: GRACE_MS,
    memberTimeoutMs: 60_000,
    snapshotPath: join(root, 'volume', `pre-${release}.snapshot.db`),
    onEvent: (e) => {
      if (e.type === 'snapshot' || e.type === 'move-leader') overheadMs[e.type] = performance.now() - last;
      last = performance.now();
      if (e.type === 'stop') stops.set(e.ordinal, performance.now());
      if (e.type === 'replaced') took[e.ordinal] = performance.now() - stops.get(e.ordinal)!;
    },
  });
  const to = performance.now();
  for (const r of res.replaced) local.current.set(r.ordinal, { spec: members.find((m) => m.ordinal === r.ordinal)!.newSpec, handle: r.handle });
  return { ms: to - from, members: took, overheadMs, from, to, errors: load.errors() - errors0, retries: load.retries() - retries0 };
}

async function round(n: number): Promise<Round> {
  const root = mkdtempSync(join(tmpdir(), 'sym-bench-cluster-'));
  const driver = new ProcessDriver({ scope: join(root, 'state') });
  let local: LocalEtcd | null = null;
  let load: WriteLoad | null = null;
  try {
    local = await LocalEtcd.create({ driver, root, settings: { 'snapshot-count': '10000' } });
    load = startWriteLoad({ urls: Object.values(memberEndpoints(local.ctx)) });
    const t0 = performance.now();
    await sleep(BEFORE_MS);
    const before = latenciesBetween(load.samples, t0, performance.now());
    const rollFirst = n % 2 === 0;
    const passes: Record<string, Pass> = {};
    for (const which of rollFirst ? ['roll', 'floor'] : ['floor', 'roll']) {
      const release = `r${Object.keys(passes).length + 2}`;
      const settings = { 'snapshot-count': String(9000 - Object.keys(passes).length * 1000) };
      note(`round ${n + 1}: ${which} pass to ${release}`);
      passes[which] = which === 'roll' ? await rollPass(local, root, release, settings, load) : await floorPass(local, release, settings, load);
      await sleep(1_000);
    }
    await load.stop();
    const { roll, floor } = passes;
    return {
      order: rollFirst ? 'roll,floor' : 'floor,roll',
      rollMs: roll.ms,
      floorMs: floor.ms,
      rollMembersMs: roll.members,
      floorMembersMs: floor.members,
      snapshotMs: roll.overheadMs?.snapshot ?? null,
      moveLeaderMs: roll.overheadMs?.['move-leader'] ?? null,
      writeErrors: { roll: roll.errors, floor: floor.errors, total: load.errors() },
      retries: { roll: roll.retries, floor: floor.retries },
      writes: load.samples.length,
      before,
      duringRoll: latenciesBetween(load.samples, roll.from, roll.to),
      duringFloor: latenciesBetween(load.samples, floor.from, floor.to),
    };
  } finally {
    await load?.stop();
    await local?.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

const machine = machineInfo();
const rounds: Round[] = [];
for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i));
report(rounds, machine, COMMAND);
