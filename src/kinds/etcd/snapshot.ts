import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { request } from 'undici';
import { EtcdRequestError } from './errors.js';

interface SnapshotChunk {
  result?: { blob?: string; remainingBytes?: string };
  error?: { message?: string };
}

/**
 * Stream a member's snapshot from `POST /v3/maintenance/snapshot` into `path`:
 * written to `<path>.part`, checked against the SHA-256 etcd appends to every
 * snapshot, fsynced, then renamed. The file is what `etcdctl snapshot save`
 * writes and `etcdctl snapshot restore` reads.
 */
export async function saveSnapshot(url: string, path: string, timeoutMs: number): Promise<number> {
  const endpoint = `${url}/v3/maintenance/snapshot`;
  mkdirSync(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const fd = openSync(part, 'w');
  const hash = createHash('sha256');
  let tail = Buffer.alloc(0);
  let size = 0;
  try {
    const res = await request(endpoint, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    if (res.statusCode !== 200) throw new EtcdRequestError(endpoint, `HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
    let pending = '';
    const take = (line: string): void => {
      if (line.trim() === '') return;
      const chunk = JSON.parse(line) as SnapshotChunk;
      if (chunk.error) throw new EtcdRequestError(endpoint, chunk.error.message ?? 'snapshot stream error');
      const bytes = Buffer.from(chunk.result?.blob ?? '', 'base64');
      // Hash everything but the last 32 bytes, which are etcd's own digest of the rest.
      const joined = Buffer.concat([tail, bytes]);
      const keep = Math.max(0, joined.length - 32);
      hash.update(joined.subarray(0, keep));
      tail = joined.subarray(keep);
      writeSync(fd, bytes);
      size += bytes.length;
    };
    for await (const data of res.body) {
      pending += data.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    }
    take(pending);
    if (tail.length !== 32 || !hash.digest().equals(tail)) throw new EtcdRequestError(endpoint, `snapshot of ${size} bytes failed its SHA-256 check`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(part, { force: true });
    if (err instanceof EtcdRequestError) throw err;
    throw new EtcdRequestError(endpoint, err instanceof Error ? err.message : String(err));
  }
  closeSync(fd);
  renameSync(part, path);
  return size;
}
