import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { VerificationRecord } from '../records.js';
import type { BackedUpService } from '../service.js';

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

/**
 * Verify an etcd snapshot or a volume archive: its image must match the
 * manifest's SHA-256 and restore into a scratch directory (etcdctl checks the
 * snapshot's own digest; tar and gzip check the archive), which is removed
 * after, whatever the outcome. Never touches the live service.
 */
export async function verifySnapshot(svc: BackedUpService, backup: string): Promise<VerificationRecord> {
  const started = Date.now();
  const scratch = join(svc.layout.dir, `verify-${Date.now().toString(36)}`);
  let ok = false;
  let detail: string;
  try {
    await svc.engine.restoreInto(scratch, { backup });
    detail = `SHA-256 matches the manifest; restored ${countFiles(scratch)} files into a scratch directory`;
    ok = true;
  } catch (err) {
    detail = (err as Error).message;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { env: svc.env, service: svc.service, backup, at: new Date().toISOString(), ok, detail, durationMs: Date.now() - started };
}
