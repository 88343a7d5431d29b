import { basename, join } from 'node:path';
import { clusterToken, EtcdCluster, etcdMembers, memberEndpoints } from '../../kinds/etcd/index.js';
import { restoreSnapshot } from '../../kinds/etcd/restore.js';
import type { KindContext } from '../../kinds/types.js';
import { run } from '../../util/exec.js';
import { BackupError } from '../errors.js';
import type { SnapshotFormat } from './repo.js';

/**
 * etcd: one snapshot of the running cluster (`/v3/maintenance/snapshot`, what
 * `etcdctl snapshot save` does: one read transaction, a point-in-time image,
 * checked against etcd's own digest), taken from a healthy follower. A restore
 * runs `etcdctl snapshot restore` once per member with the member's own name,
 * peer URL and the cluster's token, so the restored members form the same
 * cluster again, all at the snapshot's revision.
 */
export function etcdSnapshotFormat(ctx: KindContext): SnapshotFormat {
  return {
    engine: 'etcd-snapshot',
    file: 'snapshot.db',
    async write(path) {
      await new EtcdCluster(memberEndpoints(ctx)).snapshot(path);
      return 'etcd snapshot (one read transaction of the backend)';
    },
    async read(path, dir) {
      const failed = await restoreSnapshot(path, etcdMembers(ctx), clusterToken(ctx), (m) => join(dir, basename(m.dataDir)));
      if (failed) throw new BackupError(ctx.service, `etcdctl snapshot restore of member ${failed.member} failed (exit ${failed.code}): ${failed.stderr}`, 'run the same etcdctl command by hand to see why');
    },
  };
}

/**
 * A plain volume: a gzip'd tar of the whole directory, taken while the service
 * runs. GNU tar says when a file changed while it was read (exit 1): the
 * archive is whole but may mix moments, and the manifest's note says so.
 */
export function volumeArchiveFormat(service: string, volumePath: string): SnapshotFormat {
  return {
    engine: 'volume-archive',
    file: 'volume.tar.gz',
    async write(path) {
      const res = await run('tar', ['-C', volumePath, '--numeric-owner', '-czf', path, '.'], { timeoutMs: 3_600_000 });
      if (res.code === 0) return 'archive of the volume; no file changed while it was read';
      if (res.code === 1) return `archive of the volume; NOT point-in-time: ${res.stderr.trim().split('\n').slice(0, 3).join('; ')}`;
      throw new BackupError(service, `tar of ${volumePath} failed (exit ${res.code}): ${res.stderr.trim()}`, 'check that the volume exists and is readable: symphony status');
    },
    async read(path, dir) {
      const res = await run('tar', ['-C', dir, '--numeric-owner', '-xzf', path], { timeoutMs: 3_600_000 });
      if (res.code !== 0) throw new BackupError(service, `tar could not unpack ${path} (exit ${res.code}): ${res.stderr.trim()}`, `restore another backup: symphony backup list ${service}`);
    },
  };
}
