import { run } from '../../util/exec.js';
import { peerUrl, type EtcdMember } from './layout.js';

/** A member whose `etcdctl snapshot restore` failed, and what etcdctl said. */
export interface SnapshotRestoreFailure {
  member: string;
  dataDir: string;
  code: number | null;
  stderr: string;
}

/**
 * Restore one snapshot into a fresh data directory per member with
 * `etcdctl snapshot restore`: each member's own name and peer URL, the whole
 * cluster's membership and `token`, so the members form one cluster at the
 * snapshot's revision. Stops at the first member that fails and returns it.
 */
export async function restoreSnapshot(snapshot: string, members: EtcdMember[], token: string, dataDirOf: (m: EtcdMember) => string = (m) => m.dataDir): Promise<SnapshotRestoreFailure | null> {
  const cluster = members.map((m) => `${m.name}=${peerUrl(m)}`).join(',');
  for (const m of members) {
    const dataDir = dataDirOf(m);
    const res = await run('etcdctl', [
      'snapshot', 'restore', snapshot, `--name=${m.name}`, `--data-dir=${dataDir}`,
      `--initial-cluster=${cluster}`, `--initial-cluster-token=${token}`, `--initial-advertise-peer-urls=${peerUrl(m)}`,
    ], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 120_000 });
    if (res.code !== 0) return { member: m.name, dataDir, code: res.code, stderr: res.stderr.trim() };
  }
  return null;
}
