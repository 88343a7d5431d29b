import { describe, expect, it } from 'vitest';
import { ClusterRollInputError, ClusterUnhealthyError } from './errors.js';
import { judgeCluster, planClusterRoll } from './plan.js';
import type { MemberStatus } from './types.js';

function member(ordinal: string, leaderOrdinal: string | null, over: Partial<MemberStatus> = {}): MemberStatus {
  return {
    ordinal,
    reachable: true,
    healthy: true,
    isLeader: ordinal === leaderOrdinal,
    leaderId: leaderOrdinal === null ? null : `id-${leaderOrdinal}`,
    memberId: `id-${ordinal}`,
    raftIndex: 10,
    detail: 'ok',
    ...over,
  };
}
const cluster = (leader: string | null, ...ordinals: string[]) => judgeCluster(ordinals.map((o) => member(o, leader)));
const all = { moveLeader: true, snapshot: true };
const none = { moveLeader: false, snapshot: false };

describe('judgeCluster', () => {
  it.each([
    ['all healthy, one leader', [member('m0', 'm1'), member('m1', 'm1'), member('m2', 'm1')], true, 'm1', 3, ''],
    ['no leader', [member('m0', null), member('m1', null), member('m2', null)], false, null, 3, 'no leader'],
    [
      'member down',
      [member('m0', 'm0'), member('m1', 'm0', { reachable: false, healthy: false, leaderId: null, detail: 'connection refused' }), member('m2', 'm0')],
      false,
      'm0',
      2,
      'member m1 unreachable (connection refused)',
    ],
    [
      'disagreement',
      [member('m0', 'm0'), member('m1', 'm0'), member('m2', 'm2', { isLeader: false })],
      false,
      null,
      3,
      'members m2 disagree on the leader',
    ],
    ['two leaders', [member('m0', 'm0'), member('m1', 'm1'), member('m2', 'm0')], false, null, 3, 'several leaders: m0, m1'],
    ['no members', [], false, null, 0, 'no leader; no members'],
  ] as const)('%s', (_name, members, healthy, leader, healthyCount, reason) => {
    const s = judgeCluster([...members]);
    expect({ healthy: s.healthy, leader: s.leader, healthyCount: s.healthyCount, reason: s.reason }).toEqual({ healthy, leader, healthyCount, reason });
  });

  it('sorts members by ordinal numerically', () => {
    const s = judgeCluster([member('m10', 'm2'), member('m2', 'm2'), member('m1', 'm2')]);
    expect(s.members.map((m) => m.ordinal)).toEqual(['m1', 'm2', 'm10']);
  });
});

describe('planClusterRoll', () => {
  it.each([
    [
      'leader in the middle: followers in order, move leadership, leader last',
      cluster('m1', 'm0', 'm1', 'm2'),
      ['m0', 'm1', 'm2'],
      all,
      [
        { kind: 'snapshot' },
        { kind: 'replace', ordinal: 'm0', leader: false },
        { kind: 'replace', ordinal: 'm2', leader: false },
        { kind: 'move-leader', from: 'm1', to: 'm0' },
        { kind: 'replace', ordinal: 'm1', leader: true },
      ],
    ],
    [
      'leader first by ordinal: heir is the next member',
      cluster('m0', 'm0', 'm1', 'm2'),
      ['m2', 'm0', 'm1'],
      all,
      [
        { kind: 'snapshot' },
        { kind: 'replace', ordinal: 'm1', leader: false },
        { kind: 'replace', ordinal: 'm2', leader: false },
        { kind: 'move-leader', from: 'm0', to: 'm1' },
        { kind: 'replace', ordinal: 'm0', leader: true },
      ],
    ],
    [
      'no capabilities: no snapshot, no move',
      cluster('m2', 'm0', 'm1', 'm2'),
      ['m0', 'm1', 'm2'],
      none,
      [
        { kind: 'replace', ordinal: 'm0', leader: false },
        { kind: 'replace', ordinal: 'm1', leader: false },
        { kind: 'replace', ordinal: 'm2', leader: true },
      ],
    ],
    [
      'resume with only the leader left: leadership goes to a member outside the roll',
      cluster('m0', 'm0', 'm1', 'm2'),
      ['m0'],
      all,
      [{ kind: 'snapshot' }, { kind: 'move-leader', from: 'm0', to: 'm1' }, { kind: 'replace', ordinal: 'm0', leader: true }],
    ],
    [
      'resume with followers only',
      cluster('m0', 'm0', 'm1', 'm2', 'm3', 'm10'),
      ['m10', 'm3'],
      none,
      [
        { kind: 'replace', ordinal: 'm3', leader: false },
        { kind: 'replace', ordinal: 'm10', leader: false },
      ],
    ],
    ['single member: no heir to move to', cluster('m0', 'm0'), ['m0'], all, [{ kind: 'snapshot' }, { kind: 'replace', ordinal: 'm0', leader: true }]],
    ['nothing to roll', cluster('m0', 'm0', 'm1', 'm2'), [], all, []],
  ] as const)('%s', (_name, status, ordinals, caps, expected) => {
    expect(planClusterRoll('kv', status, [...ordinals], caps)).toEqual(expected);
  });

  it('refuses an unhealthy cluster and says why', () => {
    const status = judgeCluster([member('m0', 'm0'), member('m1', 'm0', { reachable: false, healthy: false, detail: 'connection refused' }), member('m2', 'm0')]);
    expect(() => planClusterRoll('kv', status, ['m0', 'm1', 'm2'], all)).toThrow(ClusterUnhealthyError);
    expect(() => planClusterRoll('kv', status, ['m0'], all)).toThrow(/refusing to roll kv: .*member m1 unreachable \(connection refused\)/);
  });

  it('refuses a cluster without a leader', () => {
    expect(() => planClusterRoll('kv', cluster(null, 'm0', 'm1', 'm2'), ['m0'], all)).toThrow(/no leader/);
  });

  it('rejects members that are not in the cluster, and duplicates', () => {
    expect(() => planClusterRoll('kv', cluster('m0', 'm0', 'm1', 'm2'), ['m0', 'm7'], all)).toThrow(ClusterRollInputError);
    expect(() => planClusterRoll('kv', cluster('m0', 'm0', 'm1', 'm2'), ['m1', 'm1'], all)).toThrow(/listed twice/);
  });
});
