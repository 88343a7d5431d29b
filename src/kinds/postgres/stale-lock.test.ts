import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../util/exec.js';
import { staleLockGuard } from './stale-lock.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

let run_: string;
// The shown path drops the characters a shell would expand in double quotes.
const sockLock = (): string => join(run_, '.s.PGSQL.5432.lock');

function dataDirWithLock(pid: number): string {
  root = mkdtempSync(join(tmpdir(), "symphony-lock '$x "));
  const data = join(root, 'data');
  run_ = join(root, 'run');
  mkdirSync(data);
  mkdirSync(run_);
  writeFileSync(join(data, 'postmaster.pid'), `${pid}\n${data}\n1700000000\n5432\n`);
  writeFileSync(sockLock(), `${pid}\n${data}\n`);
  return data;
}
const guard = (data: string): string => staleLockGuard(data, run_);

describe('the stale postmaster.pid guard', () => {
  it('removes the lock of a killed server when no process works in the data dir, and says so', async () => {
    // A pid that names a live process that is not a postgres of this dir (a reused pid): this test's.
    const data = dataDirWithLock(process.pid);
    const r = await run('sh', ['-c', guard(data)]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(data, 'postmaster.pid'))).toBe(false);
    expect(existsSync(sockLock())).toBe(false);
    expect(r.stderr).toContain(`removing the stale lock files of ${data.replace("$", "")} left by pid ${process.pid}: no process uses the data dir`);
  });

  it('keeps the lock while a process still runs in the data dir (a backend of the old server)', async () => {
    const data = dataDirWithLock(1);
    const backend = spawn('sleep', ['30'], { cwd: data, stdio: 'ignore' });
    try {
      await new Promise((r) => backend.once('spawn', r));
      const r = await run('sh', ['-c', guard(data)]);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(data, 'postmaster.pid'))).toBe(true);
      expect(existsSync(sockLock())).toBe(true);
      expect(r.stderr).toBe('');
    } finally {
      backend.kill('SIGKILL');
    }
  });

  it('does nothing without a lock file', async () => {
    const data = dataDirWithLock(1);
    rmSync(join(data, 'postmaster.pid'));
    rmSync(sockLock());
    const r = await run('sh', ['-c', guard(data)]);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });
});
