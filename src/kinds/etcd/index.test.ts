import { describe, expect, it } from 'vitest';
import type { KindContext } from '../types.js';
import { clusterToken, etcdKind, memberEndpoints } from './index.js';
import { EtcdConfigError, etcdMembers, memberArgs, shellQuote } from './layout.js';

function ctx(members: number, settings?: Record<string, string>, volumePath: string | null = '/vol/kv'): KindContext {
  const ports: Record<string, number> = {};
  for (let i = 0; i < members; i++) {
    ports[`client-${i}`] = 33100 + i * 2;
    ports[`peer-${i}`] = 33101 + i * 2;
  }
  return { stack: 'shop', env: 'staging', service: 'kv', spec: { etcd: { version: '3.4', members, settings } }, stackDir: '/stack', volumePath, ports };
}

describe('etcd kind', () => {
  it('asks for a client and a peer port per member', () => {
    expect(etcdKind.stablePorts(ctx(3))).toEqual(['client-0', 'peer-0', 'client-1', 'peer-1', 'client-2', 'peer-2']);
  });

  it('describes one instance per member with its own data dir and stable client port', () => {
    const drafts = etcdKind.instances(ctx(3, { 'heartbeat-interval': '200' }));
    expect(drafts.map((d) => [d.ordinal, d.port, d.volumePath])).toEqual([
      ['m0', 33100, '/vol/kv/member-0'],
      ['m1', 33102, '/vol/kv/member-1'],
      ['m2', 33104, '/vol/kv/member-2'],
    ]);
    expect(drafts[1].command).toBe(
      'exec etcd --name=kv-1 --data-dir=/vol/kv/member-1 ' +
        '--listen-client-urls=http://127.0.0.1:33102 --advertise-client-urls=http://127.0.0.1:33102 ' +
        '--listen-peer-urls=http://127.0.0.1:33103 --initial-advertise-peer-urls=http://127.0.0.1:33103 ' +
        '--initial-cluster=kv-0=http://127.0.0.1:33101,kv-1=http://127.0.0.1:33103,kv-2=http://127.0.0.1:33105 ' +
        '--initial-cluster-token=shop-staging-kv --initial-cluster-state=new --pre-vote=true --logger=zap --log-outputs=stderr --heartbeat-interval=200',
    );
  });

  it('exposes the client URLs as endpoints, and by ordinal for EtcdCluster', () => {
    expect(etcdKind.attributes(ctx(3))).toEqual({ endpoints: 'http://127.0.0.1:33100,http://127.0.0.1:33102,http://127.0.0.1:33104' });
    expect(memberEndpoints(ctx(1))).toEqual({ m0: 'http://127.0.0.1:33100' });
    expect(clusterToken(ctx(1))).toBe('shop-staging-kv');
  });

  it('is replaced member by member and judged by its own probe', () => {
    expect(etcdKind.replaceMode(ctx(3))).toBe('cluster-rolling');
    expect(etcdKind.health(ctx(3))).toBeNull();
  });

  it.each([0, 2, 4, -1, 11])('rejects %i members with a clear error', (n) => {
    expect(() => etcdKind.instances(ctx(n))).toThrow(EtcdConfigError);
    expect(() => etcdKind.stablePorts(ctx(n))).toThrow(`service kv (etcd): etcd.members is ${n}; a cluster needs an odd number of members`);
  });

  it('rejects settings that would change member identity or are not flag names', () => {
    expect(() => etcdKind.instances(ctx(3, { 'data-dir': '/tmp/x' }))).toThrow(/etcd.settings.data-dir: Symphony sets this flag itself/);
    expect(() => etcdKind.instances(ctx(3, { '--quota-backend-bytes': '1' }))).toThrow(/not an etcd flag name/);
  });

  it('needs a volume and its allocated ports', () => {
    expect(() => etcdKind.instances(ctx(3, undefined, null))).toThrow(/no volume: every etcd member needs its own data directory/);
    const c = ctx(3);
    delete c.ports['peer-2'];
    expect(() => etcdMembers(c)).toThrow(/ports client-2 and peer-2 are not allocated/);
  });

  it('rejects a malformed etcd section', () => {
    const c = ctx(3);
    c.spec = { etcd: { members: 3 } };
    expect(() => etcdKind.instances(c)).toThrow(/etcd.version is missing/);
  });

  it('quotes setting values for the shell', () => {
    const [m] = etcdMembers(ctx(1));
    expect(memberArgs(m, [m], 't', { 'log-level': 'warn' }).at(-1)).toBe('--log-level=warn');
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
    expect(shellQuote('--x=http://127.0.0.1:1,y=2')).toBe('--x=http://127.0.0.1:1,y=2');
  });
});

describe('etcd kind registration', () => {
  it('is known to the kind registry and gives a cluster probe over every member', async () => {
    const { getKind } = await import('../registry.js');
    expect(getKind('etcd')).toBe(etcdKind);
    const probe = etcdKind.cluster!(ctx(3));
    expect(probe.moveLeader).toBeTypeOf('function');
    expect(probe.snapshot).toBeTypeOf('function');
  });
});
