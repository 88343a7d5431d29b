import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupListing } from '../src/backup/actions.js';
import type { VerificationRecord } from '../src/backup/records.js';
import type { BackupInfo } from '../src/backup/types.js';
import { StateStore } from '../src/state/store.js';
import { run } from '../src/util/exec.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// etcd snapshots and archives of an app's plain volume: taken by the agent
// into a repository with a SHA-256 manifest each, listed, verified, restored
// as a journaled operation that keeps the replaced volume aside; a damaged
// archive is refused by verify and by restore, and the live volume stays.
const stack = `name: snap
services:
  kv:
    etcd: { version: "3.4", members: 3 }
    volume: kv-data
    backup: { retention: { full: 2 } }
  files:
    run: node server.mjs
    dir: ./files
    volume: files-data
    env: { DATA_DIR: "\${files-data}" }
    backup: { retention: { full: 2 } }
`;

let dir: string;
let state: string;
const cli = (...args: string[]) => symphony([...args, '--state-dir', state], { cwd: dir });
const etcdctl = async (...args: string[]): Promise<string> => {
  const r = await run('etcdctl', [`--endpoints=${endpoints()}`, '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 15_000 });
  expect(r.code, r.stderr).toBe(0);
  // `endpoint health` prints to stderr.
  return args[0] === 'endpoint' ? r.stdout + r.stderr : r.stdout;
};

function recorded<T>(fn: (s: StateStore) => T): T {
  const store = new StateStore(state);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}
const endpoints = (): string => recorded((s) => { const p = s.service('default', 'kv')!.ports; return [0, 1, 2].map((i) => `http://127.0.0.1:${p[`client-${i}`]}`).join(','); });
const volumeOf = (name: string): string => recorded((s) => s.volumes('default').find((v) => v.name === name)!.path);
const backupNow = async (service: string): Promise<BackupInfo> => {
  const r = await cli('backup', 'now', service, '--wait', '--json');
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return json<{ backup: BackupInfo }>(r).backup;
};

beforeAll(async () => {
  dir = stackDir({ 'symphony.yaml': stack, ...appFiles('files') });
  // Not the default place: every backup and restore verb must honour --state-dir (checked at the end).
  state = join(dir, 'state');
  const r = await cli('apply', '--yes');
  expect(r.code, r.stderr + r.stdout).toBe(0);
}, 120_000);
afterAll(async () => {
  if (state) await cleanup(state);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('backups of etcd services (snapshots)', () => {
  it('restores the whole cluster to a snapshot: keys written after it are gone, all three members serve, the old volume is kept aside', async () => {
    for (let i = 0; i < 10; i++) await etcdctl('put', `k${i}`, `value-${i}`);
    const b = await backupNow('kv');
    expect(b).toMatchObject({ type: 'full', prior: null, wal: null });
    expect(b.bytes).toBeGreaterThan(0);
    await etcdctl('put', 'after', 'x');
    await etcdctl('put', 'k3', 'changed');

    const r = await cli('restore', 'kv', '--backup', b.id, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const aside = /kept aside: volume (\S+) at (\S+)/.exec(r.stdout);
    expect(aside, r.stdout).not.toBeNull();
    expect(await etcdctl('get', 'after')).toBe('');
    expect((await etcdctl('get', 'k3', '--print-value-only')).trim()).toBe('value-3');
    expect((await etcdctl('get', '', '--prefix', '--keys-only')).split('\n').filter(Boolean).sort()).toEqual([...Array(10).keys()].map((i) => `k${i}`).sort());
    const members = (await etcdctl('member', 'list')).trim().split('\n');
    expect(members).toHaveLength(3);
    expect((await etcdctl('endpoint', 'health')).match(/is healthy/g)).toHaveLength(3);
    // The cluster takes writes again, and the replaced volume holds every member's old data.
    await etcdctl('put', 'again', 'y');
    expect(readdirSync(aside![2]).sort()).toEqual(['member-0', 'member-1', 'member-2']);
    expect(recorded((s) => s.volumes('default').map((v) => v.name))).toContain(aside![1]);
  }, 180_000);

  it('refuses a diff backup of a snapshot service and changes nothing', async () => {
    const before = json<BackupListing>(await cli('backup', 'list', 'kv', '--json')).backups.length;
    const r = await cli('backup', 'now', 'kv', '--type', 'diff', '--wait');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('kv: etcd-snapshot backups are whole images: there is no diff backup of them');
    expect(json<BackupListing>(await cli('backup', 'list', 'kv', '--json')).backups).toHaveLength(before);
  }, 60_000);
});

describe('backups of a plain volume (archives)', () => {
  let first: BackupInfo;
  it('archives the volume with a SHA-256 manifest and restores it to the moment of a backup; what came after is gone', async () => {
    const vol = volumeOf('files-data');
    writeFileSync(join(vol, 'a.txt'), 'original\n');
    first = await backupNow('files');
    const manifest = JSON.parse(readFileSync(join(state, 'backup', 'default', 'files', 'repo', first.id, 'manifest.json'), 'utf8')) as { sha256: string; engine: string };
    expect(manifest.engine).toBe('volume-archive');
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(vol, 'a.txt'), 'edited\n');
    writeFileSync(join(vol, 'b.txt'), 'new\n');

    // A time picks the newest archive that ended by then.
    const r = await cli('restore', 'files', '--to', new Date().toISOString(), '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(join(vol, 'a.txt'), 'utf8')).toBe('original\n');
    expect(existsSync(join(vol, 'b.txt'))).toBe(false);
    const aside = /kept aside: volume (\S+) at (\S+)/.exec(r.stdout)!;
    expect(readFileSync(join(aside[2], 'b.txt'), 'utf8')).toBe('new\n');
    const s = json<{ services: Array<{ name: string; instances: Array<{ status: string; alive: boolean }> }> }>(await cli('status', '--json'));
    expect(s.services.find((x) => x.name === 'files')!.instances.map((i) => [i.status, i.alive])).toEqual([['running', true]]);
    const h = json<{ operations: Array<{ kind: string; status: string }> }>(await cli('history', '--json'));
    expect(h.operations[0]).toMatchObject({ kind: 'restore', status: 'succeeded' });
  }, 180_000);

  it('a damaged archive fails verification and its restore is undone: the live volume is as it was', async () => {
    const ok = await cli('backup', 'verify', 'files', first.id, '--json');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(json<VerificationRecord>(ok)).toMatchObject({ ok: true });
    expect(json<VerificationRecord>(ok).detail).toMatch(/^SHA-256 matches the manifest; restored [1-9]\d* files/);

    appendFileSync(join(state, 'backup', 'default', 'files', 'repo', first.id, 'volume.tar.gz'), 'x');
    const bad = await cli('backup', 'verify', 'files', first.id, '--json');
    expect(bad.code).toBe(1);
    expect(json<VerificationRecord>(bad).detail).toContain(`files: backup ${first.id} is damaged: its SHA-256 is`);

    const vol = volumeOf('files-data');
    writeFileSync(join(vol, 'c.txt'), 'live\n');
    const r = await cli('restore', 'files', '--backup', first.id, '--yes');
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain('is damaged');
    expect(readFileSync(join(vol, 'c.txt'), 'utf8')).toBe('live\n');
    const s = json<{ services: Array<{ name: string; instances: Array<{ status: string; alive: boolean }> }> }>(await cli('status', '--json'));
    expect(s.services.find((x) => x.name === 'files')!.instances.map((i) => [i.status, i.alive])).toEqual([['running', true]]);
  }, 180_000);

  it('retention keeps the newest two archives', async () => {
    await backupNow('files');
    await new Promise((r) => setTimeout(r, 1100));
    const last = await backupNow('files');
    const ids = json<BackupListing>(await cli('backup', 'list', 'files', '--json')).backups.map((b) => b.id);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(last.id);
    expect(ids).not.toContain(first.id);
  }, 120_000);
});

describe('the backup: section of an app', () => {
  it('needs a volume to archive: a clear error with file, line and path, and nothing changes', async () => {
    const bad = stackDir({ 'symphony.yaml': 'name: nv\nservices:\n  web:\n    run: node server.mjs\n    backup: { retention: { full: 2 } }\n' });
    try {
      const r = await symphony(['validate'], { cwd: bad });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toBe(`error: ${bad}/symphony.yaml:5:5: services.web.backup: is invalid: a backup archives the service's volume: add volume: <name> to it\nnext: fix the stack file, then run \`symphony validate\`\n`);
      expect(readdirSync(bad)).toEqual(['symphony.yaml']);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('--state-dir', () => {
  it('every backup and restore verb used it: nothing was written next to the stack file', () => {
    expect(existsSync(join(dir, '.symphony'))).toBe(false);
    expect(readdirSync(state)).toContain('state.db');
  });
});
