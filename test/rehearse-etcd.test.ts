import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../src/kinds/etcd/index.js';
import { readRehearsals, type RehearsalReport } from '../src/rehearse/index.js';
import { StateStore } from '../src/state/store.js';
import { run } from '../src/util/exec.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';
import { expectRehearsalGone, targetPids as targetPidsOf } from './helpers/rehearsal.js';

// A real stack: a 3-member etcd and an app given `${kv.endpoints}`, applied,
// keys written. A change that rolls every member is rehearsed: the copy's
// cluster holds the target's keys under its own member ids and ports, the
// smoke checks pass, the target keeps its members, keys, processes and peer
// connections, and nothing of the copy is left. Then a change whose members
// cannot start is rehearsed: it fails, and again nothing is left.
let dir: string;
let state: string;
let port: number;
let endpoints: string;
let target: { ids: string[]; peerPorts: number[]; ports: Record<string, number> };

const etcdctl = (eps: string, ...args: string[]) =>
  run('etcdctl', [`--endpoints=${eps}`, '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 15_000 });

const stack = (settings: string, smoke = ''): string => `name: rk
services:
  kv:
    etcd: { version: "3.4", members: 3, settings: { ${settings} } }
    volume: kv-data
  api:
    run: node server.mjs
    dir: ./api
    env: { UPSTREAM_URL: "\${kv.endpoints}" }
    health: { http: /healthz, start_timeout: 4s }
    deploy: { drain: 0s, grace: 1s, warm: 0s }
routes:
  - { listen: ${port}, to: api }
${smoke}`;

/** Smoke checks that only a copy with the target's data and a cluster of its own can pass. */
const smoke = (): string => `smoke:
  - { name: keys copied, exec: "ETCDCTL_API=3 etcdctl --endpoints=\${kv.endpoints} get k7 --print-value-only", contains: value-7 }
  - { name: copy is writable, exec: "ETCDCTL_API=3 etcdctl --endpoints=\${kv.endpoints} put copy-only x", contains: OK }
  - name: own cluster
    exec: "ETCDCTL_API=3 etcdctl --endpoints=\${kv.endpoints} member list > m.txt; test $(wc -l < m.txt) -eq 3 && ! grep -Ei '${[...target.ids, ...target.peerPorts.map((p) => `:${p}([^0-9]|$)`)].join('|')}' m.txt"
  - { name: app uses the copy, exec: 'test "$(curl -s \${api.url}/upstream)" = "\${kv.endpoints}"' }
`;

/** `member list` in etcdctl's simple format: hex id, status, name, peer URLs, client URLs (ids exceed JSON's safe integers). */
interface Member { id: string; name: string; peer: string; client: string }
const memberList = async (): Promise<Member[]> => {
  const r = await etcdctl(endpoints, 'member', 'list');
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((line) => {
    const [id, , name, peer, client] = line.split(', ');
    return { id, name, peer, client };
  }).sort((a, b) => a.name.localeCompare(b.name));
};
const keys = async (): Promise<string> => (await etcdctl(endpoints, 'get', '', '--prefix')).stdout;

const targetPids = (): Promise<string[]> => targetPidsOf(state);

/** Size of each target member's log now: what a member logs after this offset happened during the rehearsal. */
const logOffsets = async (): Promise<Map<string, number>> => {
  const ids = (await targetPids()).map((x) => x.split(':')[0]).filter((id) => id.startsWith('kv-'));
  return new Map(ids.map((id) => [join(state, 'logs', `${id}.log`), statSync(join(state, 'logs', `${id}.log`)).size]));
};

/** Peer-connection events a target member logged since `offsets`: none unless something dialled or dropped its peers. */
const peerEvents = (offsets: Map<string, number>): string[] => {
  const out: string[] = [];
  for (const [file, from] of offsets) {
    const text = readFileSync(file).subarray(from).toString('utf8');
    for (const line of text.split('\n')) if (/remote peer|peer became|cluster ID mismatch|rejected stream/i.test(line)) out.push(line.slice(0, 240));
  }
  return out;
};

/** The target is as it was: same member ids and addresses, same keys, same processes, healthy, no peer churn. */
async function expectTargetUntouched(before: { members: Member[]; keys: string; pids: string[]; logs: Map<string, number> }): Promise<void> {
  expect(await memberList()).toEqual(before.members);
  expect(await keys()).toBe(before.keys);
  expect(await targetPids()).toEqual(before.pids);
  const status = await new EtcdCluster(Object.fromEntries(endpoints.split(',').map((u, i) => [`m${i}`, u]))).status();
  expect(status.reason).toBe('');
  expect(status.healthy).toBe(true);
  expect(status.members.map((m) => m.memberId).sort()).toEqual(target.ids.map((id) => BigInt(`0x${id}`).toString()).sort());
  expect(peerEvents(before.logs)).toEqual([]);
}

const snapshotTarget = async () => ({ members: await memberList(), keys: await keys(), pids: await targetPids(), logs: await logOffsets() });

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ ...appFiles('api') });
  state = join(dir, '.symphony');
  writeFileSync(join(dir, 'symphony.yaml'), stack('heartbeat-interval: 100'));
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const store = new StateStore(state);
  const ports = store.services('default').find((s) => s.name === 'kv')!.ports;
  store.close();
  endpoints = [0, 1, 2].map((i) => `http://127.0.0.1:${ports[`client-${i}`]}`).join(',');
  for (let i = 0; i < 20; i++) expect((await etcdctl(endpoints, 'put', `k${i}`, `value-${i}`)).code).toBe(0);
  const members = await memberList();
  target = { ids: members.map((m) => m.id), peerPorts: [0, 1, 2].map((i) => ports[`peer-${i}`]), ports };
}, 90_000);

afterAll(async () => {
  await cleanup(state);
  rmSync(dir, { recursive: true, force: true });
});

describe('rehearsal of a stack with a 3-member etcd', () => {
  it('a change that rolls the cluster passes on a copy with its own cluster; the target is untouched', async () => {
    const before = await snapshotTarget();
    writeFileSync(join(dir, 'symphony.yaml'), stack('heartbeat-interval: 120', smoke()));
    const r = await symphony(['rehearse', '--json'], { cwd: dir });
    const report = json<RehearsalReport>(r);
    expect(report.error).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(report.stages.map((s) => [s.name, s.ok])).toEqual([
      ['copy state and volumes', true], ['start the copy agent', true], ['restore current releases', true], ['apply the plan', true], ['smoke checks', true],
    ]);
    expect(report.volumes.map((v) => [v.service, v.method])).toEqual([['kv', 'etcd-snapshot']]);
    expect(report.smoke.map((s) => [s.name, s.passed, s.detail])).toEqual([
      ['keys copied', true, 'exit 0'], ['copy is writable', true, 'exit 0'], ['own cluster', true, 'exit 0'], ['app uses the copy', true, 'exit 0'],
    ]);
    for (const p of Object.values(target.ports)) expect(report.ports[p], `target port ${p} mapped`).toBeGreaterThan(0);
    await expectRehearsalGone(report);
    await expectTargetUntouched(before);
    expect((await etcdctl(endpoints, 'get', 'copy-only')).stdout).toBe('');
  }, 120_000);

  it('a change whose members cannot start fails at the plan, leaves nothing, and the target is untouched', async () => {
    const before = await snapshotTarget();
    // etcd refuses an election timeout shorter than 5 heartbeats and exits at start.
    writeFileSync(join(dir, 'symphony.yaml'), stack('heartbeat-interval: 100, election-timeout: 200', smoke()));
    const r = await symphony(['rehearse', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const report = json<RehearsalReport>(r);
    expect(report.passed).toBe(false);
    expect(report.stages.map((s) => [s.name, s.ok])).toEqual([
      ['copy state and volumes', true], ['start the copy agent', true], ['restore current releases', true], ['apply the plan', false],
    ]);
    expect(report.error?.message).toMatch(/failed at apply the plan: operation \S+ (undone|failed)/);
    expect(report.smoke).toEqual([]);
    await expectRehearsalGone(report);
    await expectTargetUntouched(before);
    expect(readRehearsals(state).map((x) => x.passed)).toEqual([true, false]);
  }, 120_000);
});
