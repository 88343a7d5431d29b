import { describe, expect, it } from 'vitest';
import { ClusterSection } from '../../spec/schema.js';
import { clusterSectionProblems } from './section.js';

/**
 * The agent checks a `cluster:` section without zod (section.ts); the loader
 * checks it with the schema. Both must accept and refuse the same sections.
 */
const ok = { members: 3, command: 'srv --port {client_port} --peer {peer_port}', ports: ['client', 'peer'] };

const cases: Array<[string, unknown]> = [
  ['minimal', ok],
  ['every key', { ...ok, scheme: 'nats', health: { http: 'http://127.0.0.1:{client_port}/h', timeout: '1s' }, cluster_health: { exec: 'check {endpoints}' }, leader: { exec: 'leader {name}', timeout: 500 }, caught_up: { exec: 'sync {name}' }, handover: { exec: 'move {name}' }, snapshot: { exec: 'snap {snapshot_path}' } }],
  ['tcp health on a declared port', { ...ok, health: { tcp: 'peer' } }],
  ['not an object', 'x'],
  ['even members', { ...ok, members: 2 }],
  ['ten members', { ...ok, members: 11 }],
  ['fractional members', { ...ok, members: 1.5 }],
  ['members as text', { ...ok, members: '3' }],
  ['no command', { members: 1, ports: ['client'] }],
  ['empty command', { ...ok, command: '' }],
  ['no ports', { ...ok, ports: [] }],
  ['nine ports', { ...ok, ports: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] }],
  ['bad port name', { ...ok, ports: ['Client'] }],
  ['port twice', { ...ok, ports: ['client', 'client'] }],
  ['unknown key', { ...ok, replicas: 3 }],
  ['bad scheme', { ...ok, scheme: '1x' }],
  ['health with two probes', { ...ok, health: { http: 'http://x', exec: 'y' } }],
  ['health with no probe', { ...ok, health: { timeout: '1s' } }],
  ['https health', { ...ok, health: { http: 'https://127.0.0.1/' } }],
  ['bad timeout', { ...ok, health: { exec: 'x', timeout: 'soon' } }],
  ['unknown key in a check', { ...ok, health: { exec: 'x', every: '1s' } }],
  ['leader without exec', { ...ok, leader: { timeout: '1s' } }],
  ['tcp health on an undeclared port', { ...ok, health: { tcp: 'monitor' } }],
  ['undeclared placeholder', { ...ok, command: 'srv {monitor_port}' }],
  ['tcp cluster health', { ...ok, cluster_health: { tcp: 'client' } }],
];

describe('cluster section check without zod', () => {
  it.each(cases)('%s: same verdict as the schema', (_name, section) => {
    const schema = ClusterSection.safeParse(section);
    const problems = clusterSectionProblems(section);
    expect(problems.length === 0, JSON.stringify(problems)).toBe(schema.success);
  });

  it('says what the schema says for the common mistakes', () => {
    for (const section of [{ ...ok, members: 2 }, { ...ok, command: 'srv {monitor_port}' }, { ...ok, ports: ['client', 'client'] }]) {
      const schema = ClusterSection.safeParse(section);
      expect(schema.success).toBe(false);
      const first = schema.error!.issues[0];
      expect(clusterSectionProblems(section)[0]).toEqual({ path: first.path.map(String), message: first.message });
    }
  });
});
