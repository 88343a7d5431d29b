import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError, type SpecIssue } from '../src/errors.js';
import { registerBuiltinKinds } from '../src/kinds/builtin.js';
import { ClusterConfigError, clusterKind } from '../src/kinds/cluster/index.js';
import { makePlan } from '../src/plan/planner.js';
import type { PlanState, ReleaseConfig } from '../src/plan/types.js';
import { loadStack, parseStackText } from '../src/spec/index.js';

registerBuiltinKinds();
const SPEC = join(import.meta.dirname, 'fixtures', 'spec');
const BAD = join(SPEC, 'bad');

function issuesOf(file: string): SpecIssue[] {
  try {
    loadStack(join(BAD, file));
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).issues;
  }
  throw new Error(`${file} loaded without a SpecError`);
}

const CASES = [
  {
    file: 'cluster-even-members.yaml',
    line: 5,
    path: 'services.cache.cluster.members',
    message: 'must be an odd number from 1 to 9: quorum is a majority, so an even count tolerates no more failures than one member fewer (got 4)',
  },
  { file: 'cluster-zero-members.yaml', line: 6, path: 'services.cache.cluster.members', message: 'must be an odd number from 1 to 9' },
  {
    file: 'cluster-unknown-placeholder.yaml',
    line: 7,
    path: 'services.cache.cluster.command',
    message: 'must use known placeholders only: {datadir} is not a placeholder; known here: {name} {index} {data_dir} {client_port} {peer_port} {members}',
  },
  {
    file: 'cluster-undeclared-port.yaml',
    line: 8,
    path: 'services.cache.cluster.health.http',
    message: 'must use known placeholders only: port "monitor" of {monitor_port} is not declared in ports (declared: client, peer); add it to ports',
  },
  { file: 'cluster-missing-volume.yaml', line: 3, path: 'services.cache.volume', message: 'is required (a string)' },
  {
    file: 'cluster-member-value-in-cluster-check.yaml',
    line: 8,
    path: 'services.cache.cluster.cluster_health.exec',
    message: 'must use known placeholders only: {client_port} is a value of one member; a whole-cluster check can use {members} {names} {client_ports} {client_endpoints} {client_urls} {client_port_0}',
  },
];

describe('cluster services in the stack file', () => {
  it.each(CASES)('$file: line $line, $path', ({ file, line, path, message }) => {
    const issues = issuesOf(file);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: join(BAD, file), line, path });
    expect(issues[0].column).toBeGreaterThan(0);
    expect(issues[0].message).toContain(message);
  });

  it('the file as written: line numbers point into it', () => {
    const text = readFileSync(join(BAD, 'cluster-undeclared-port.yaml'), 'utf8').split('\n');
    expect(text[8 - 1]).toContain('{monitor_port}');
  });

  it('reports a bad reference inside the command like one in env', () => {
    const text = 'name: s\nservices:\n  cache:\n    cluster: { members: 1, ports: [client], command: "x --peer ${nope.url} {client_port}" }\n    volume: v\n';
    const err = (() => {
      try {
        parseStackText(text, '/tmp/stack.yaml');
      } catch (e) {
        return e as SpecError;
      }
      throw new Error('loaded');
    })();
    expect(err.issues.map((i) => [i.line, i.path, i.message])).toEqual([[4, 'services.cache.cluster.command', '${nope.url} references unknown service "nope"; services are: cache']]);
  });

  it('the kind refuses the same mistakes when used without the loader', () => {
    const ctx = { stack: 's', env: 'e', service: 'cache', stackDir: '/tmp', volumePath: '/v', ports: {} };
    expect(() => clusterKind.stablePorts({ ...ctx, spec: { cluster: { members: 2, ports: ['client'], command: 'x' } } })).toThrow(ClusterConfigError);
    expect(() => clusterKind.stablePorts({ ...ctx, spec: { cluster: { members: 3, ports: ['client'], command: 'x {peer_port}' } } })).toThrow(
      /service cache \(cluster\): cluster.command: must use known placeholders only: port "peer" of \{peer_port\} is not declared/,
    );
    const ok = { cluster: { members: 3, ports: ['client'], command: 'x {client_port}' } };
    expect(() => clusterKind.instances({ ...ctx, volumePath: null, spec: ok, ports: { 'client-0': 1, 'client-1': 2, 'client-2': 3 } })).toThrow(/no volume: every member needs its own data directory/);
  });

  it('plans a good cluster: stable ports per member, endpoints for dependants, a roll when the command changes', () => {
    const stack = loadStack(join(SPEC, 'good', 'cluster.yaml'));
    expect(stack.services.map((s) => [s.name, s.kind, s.deps])).toEqual([
      ['cache', 'cluster', []],
      ['api', 'app', ['cache']],
    ]);
    const empty: PlanState = { serial: 0, services: [], releases: [], instances: [], volumes: [], alive: [] };
    const first = makePlan({ stack, state: empty, stateDir: '/state', artifacts: { api: 'a1' }, secretDigests: {} });
    expect(first.steps.filter((s) => s.service === 'cache').map((s) => s.verb)).toEqual(['volume', 'release', 'prepare', 'start', 'health', 'switch']);
    const [id, cfg] = Object.entries(first.releases).find(([, c]) => c.service === 'cache') as [string, ReleaseConfig];
    expect(Object.keys(cfg.ports).sort()).toEqual(['client-0', 'client-1', 'client-2', 'monitor-0', 'monitor-1', 'monitor-2', 'peer-0', 'peer-1', 'peer-2']);
    expect(new Set(Object.values(cfg.ports)).size).toBe(9);
    const p = cfg.ports;
    const m1 = cfg.instances.find((d) => d.ordinal === 'm1')!;
    expect(m1).toMatchObject({ port: p['client-1'], volumePath: '/state/volumes/default/cache-data/member-1' });
    expect(m1.command).toBe(
      `nats-server -a 127.0.0.1 -p ${p['client-1']} -m ${p['monitor-1']} --cluster nats://127.0.0.1:${p['peer-1']} ` +
        `--routes nats://127.0.0.1:${p['peer-0']},nats://127.0.0.1:${p['peer-1']},nats://127.0.0.1:${p['peer-2']} -n cache-1`,
    );
    const api = Object.values(first.releases).find((c) => c.service === 'api')!;
    expect(api.instances[0].env.NATS_URLS).toBe([0, 1, 2].map((i) => `nats://127.0.0.1:${p[`client-${i}`]}`).join(','));

    const recorded: PlanState = {
      ...empty,
      serial: 1,
      services: [{ env: 'default', name: 'cache', kind: 'cluster', currentRelease: id, previousRelease: null, ports: cfg.ports, updatedAt: '' }],
      releases: [{ id, env: 'default', service: 'cache', configHash: id, config: cfg, status: 'live', createdAt: '', warmUntil: null }],
    };
    const changed = parseStackText(readFileSync(join(SPEC, 'good', 'cluster.yaml'), 'utf8').replace('-n {name}', '-n {name} -D'), join(SPEC, 'good', 'cluster.yaml'));
    const second = makePlan({ stack: changed, state: recorded, stateDir: '/state', artifacts: { api: 'a1' }, secretDigests: {}, target: ['cache'] });
    expect(second.steps.map((s) => s.name)).toEqual(['cache:release', 'cache:prepare', 'cache:roll', 'cache:switch']);
    const next = Object.values(second.releases)[0];
    expect(next.ports).toEqual(cfg.ports);
    expect(second.changes[0].reasons).toEqual(['command of m0 changed', 'command of m1 changed', 'command of m2 changed']);
  });
});
