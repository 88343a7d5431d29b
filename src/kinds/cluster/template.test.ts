import { describe, expect, it } from 'vitest';
import { leaderOrdinal } from './checks.js';
import { clusterValues, handoverValues, memberValues, type MemberLayout } from './layout.js';
import { clusterTemplateProblems, placeholders, renderTemplate, templateProblems } from './template.js';

const shape = { members: 3, ports: ['client', 'peer'] };
const members: MemberLayout[] = [0, 1, 2].map((i) => ({
  index: i,
  ordinal: `m${i}`,
  name: `cache-${i}`,
  ports: { client: 7000 + i, peer: 8000 + i },
  dataDir: `/v/member-${i}`,
}));

describe('cluster templates', () => {
  it('finds placeholders, not references, shell variables or awk blocks', () => {
    expect(placeholders("x {client_port} ${db.url} ${HOME} awk '{ print $1 }' {client_port} {name}")).toEqual(['client_port', 'name']);
  });

  it.each([
    ['{name} {index} {data_dir} {client_port} {peer_urls} {members} {names} {client_port_2}', 'member', []],
    ['{datadir}', 'member', ['{datadir} is not a placeholder; known here: {name} {index} {data_dir} {client_port} {peer_port} {members} {names} {client_ports} {client_endpoints} {client_urls} {client_port_0} {peer_ports} {peer_endpoints} {peer_urls} {peer_port_0} (a literal brace: write ${...} or put a space inside)']],
    ['{monitor_port}', 'member', ['port "monitor" of {monitor_port} is not declared in ports (declared: client, peer); add it to ports']],
    ['{monitor_urls}', 'cluster', ['port "monitor" of {monitor_urls} is not declared in ports (declared: client, peer); add it to ports']],
    ['{client_port_3}', 'cluster', ['{client_port_3} names member 3, but the cluster has 3 member(s), numbered from 0']],
    ['{data_dir}', 'cluster', ['{data_dir} is a value of one member; a whole-cluster check can use {members} {names} {client_ports} {client_endpoints} {client_urls} {client_port_0} {peer_ports} {peer_endpoints} {peer_urls} {peer_port_0}']],
    ['{client_port}', 'cluster', [expect.stringMatching(/^\{client_port\} is a value of one member/)]],
    ['{client_port} {leader_client_port} {leader_name} {leader_index} {name}', 'handover', []],
    ['{leader_monitor_port}', 'handover', ['port "monitor" of {leader_monitor_port} is not declared in ports (declared: client, peer); add it to ports']],
    ['{leader_name}', 'member', [expect.stringMatching(/^\{leader_name\} is not a placeholder; known here: \{name\}/)]],
    ['{snapshot_path} {client_port_0} {client_endpoints}', 'snapshot', []],
    ['{snapshot_path}', 'cluster', [expect.stringMatching(/^\{snapshot_path\} is not a placeholder/)]],
    ['{client_port}', 'snapshot', [expect.stringMatching(/^\{client_port\} is a value of one member/)]],
  ] as const)('%s in %s scope', (text, scope, expected) => {
    expect(templateProblems(text, shape, scope)).toEqual(expected);
  });

  it('renders member and cluster values', () => {
    const values = memberValues(members[1], clusterValues(members, { ports: shape.ports, scheme: 'nats' }));
    const text = 'srv -p {client_port} --routes {peer_urls} -d {data_dir} -n {name}/{index}/{members} {client_endpoints} {client_port_0} {names} {client_ports} ${X}';
    expect(renderTemplate(text, values)).toBe(
      'srv -p 7001 --routes nats://127.0.0.1:8000,nats://127.0.0.1:8001,nats://127.0.0.1:8002 -d /v/member-1 -n cache-1/1/3 ' +
        '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 7000 cache-0,cache-1,cache-2 7000,7001,7002 ${X}',
    );
  });

  it('places every problem of a section at the key that holds it', () => {
    const problems = clusterTemplateProblems({
      ...shape,
      command: 'x {client_port}',
      health: { tcp: 'monitor' },
      cluster_health: { tcp: 'client' },
      leader: { exec: 'who {bogus}' },
      caught_up: { exec: 'lag {peer_port}' },
    });
    expect(problems.map((p) => p.path.join('.'))).toEqual(['health.tcp', 'cluster_health.tcp', 'leader.exec']);
    expect(problems[0].message).toBe('must name a declared port (declared: client, peer), got "monitor"');
  });

  it('renders a handover for the heir with the leader as {leader_*}', () => {
    const values = handoverValues(members[2], members[0], clusterValues(members, { ports: shape.ports, scheme: 'http' }));
    expect(renderTemplate('move --to {name}:{client_port} --from {leader_name}/{leader_index}:{leader_client_port}', values)).toBe('move --to cache-2:7002 --from cache-0/0:7000');
  });

  it('refuses a handover without a leader check and a snapshot that does not write to {snapshot_path}', () => {
    const problems = clusterTemplateProblems({ ...shape, command: 'x', handover: { exec: 'move {client_port}' }, snapshot: { exec: 'backup > /tmp/b' } });
    expect(problems).toEqual([
      { path: ['handover'], message: 'needs a leader check: without one the members have no leader to hand over from' },
      { path: ['snapshot', 'exec'], message: 'must write the snapshot to {snapshot_path}' },
    ]);
  });
});

describe('leaderOrdinal', () => {
  it.each([
    ['0', 'm0'],
    ['2', 'm2'],
    ['cache-1', 'm1'],
    ['8002', 'm2'],
    ['127.0.0.1:7001', 'm1'],
    ['3', null],
    ['', null],
    ['nobody', null],
    ['127.0.0.1:9999', null],
  ])('%j names %s', (said, ordinal) => {
    expect(leaderOrdinal(said, members)).toBe(ordinal);
  });
});
